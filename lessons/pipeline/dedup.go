package pipeline

// The idempotent consumer of preset dedup: the set of deposits the ledger
// already credits, restored from the ledger itself when an instance starts.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons/deposit"
)

// creditedSet holds the deposits credited so far, one bit per deposit
// number: a run numbers its deposits 1 to n, so 100,000 ids take 12.5 KB,
// where a set of id strings would take megabytes.
type creditedSet struct {
	bits []uint64
	n    int
}

func newCreditedSet(n int) *creditedSet {
	return &creditedSet{bits: make([]uint64, n/64+1), n: n}
}

// has reports whether deposit seq is credited; a number outside the run is
// never.
func (s *creditedSet) has(seq int) bool {
	return seq >= 1 && seq <= s.n && s.bits[seq/64]&(1<<(seq%64)) != 0
}

// add records deposit seq as credited.
func (s *creditedSet) add(seq int) {
	if seq >= 1 && seq <= s.n {
		s.bits[seq/64] |= 1 << (seq % 64)
	}
}

// restoreCredited reads the ledger from its start to the end offset it has
// when the instance starts, and returns the set of deposits it credits and
// how many credits it read. It must read the ledger, the log the store
// guards: a new instance after a crash learns there what the old one
// credited, including what it credited after its last commit.
func (r *Run) restoreCredited(ctx context.Context) (*creditedSet, int, error) {
	set := newCreditedSet(r.Spec.Messages)
	ends, err := r.env.Admin.ListEndOffsets(ctx, r.Names.Ledger)
	if err != nil {
		return nil, 0, err
	}
	at := make([]int64, r.partitions())
	for p := range at {
		end, ok := ends.Lookup(r.Names.Ledger, int32(p))
		if !ok {
			return nil, 0, fmt.Errorf("no end offset for %s partition %d", r.Names.Ledger, p)
		}
		if end.Err != nil {
			return nil, 0, end.Err
		}
		at[p] = end.Offset // 0: nothing credited there yet, not read
	}
	n := 0
	// The ledger of a kafka-go processor has no transactions: every offset
	// below its end holds a credit.
	err = readAll(ctx, r.env.Brokers, r.Names.Ledger, at, kgo.ReadUncommitted(), func(rec *kgo.Record) {
		if seq, ok := deposit.ParseID(string(rec.Key)); ok {
			set.add(seq)
			n++
		}
	})
	return set, n, err
}
