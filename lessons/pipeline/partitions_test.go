package pipeline

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/deposit"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// TestProcessorGroupSharesPartitions: three instances in one group share
// three partitions, each processing some; every deposit is credited,
// exactly once under exactly-once, and every account's deposits and
// credits are on its one partition, credited in the order they were sent.
//
// Under exactly-once the instances work side by side: none is fenced or
// replaced. When they shared one transactional id, each one's
// InitProducerID fenced the others, which the supervisor replaced, whose
// InitProducerID fenced the next: they took turns instead of sharing
// (and once, paced, a deposit was credited twice in CI).
func TestProcessorGroupSharesPartitions(t *testing.T) {
	for _, tc := range []struct {
		g    lessons.GuaranteeID
		n    int
		pace time.Duration
	}{
		// Long enough to outlast the group's forming: with fewer
		// deposits, on two busy cores, the first instance to join can
		// process every one before the others are given a partition.
		{lessons.AtLeastOnce, 300, 10 * time.Millisecond},
		{lessons.ExactlyOnce, 300, 10 * time.Millisecond},
		{lessons.ExactlyOnce, 3000, 0},
	} {
		g, n := tc.g, tc.n
		t.Run(fmt.Sprintf("%s/%d/%s", g, n, tc.pace), func(t *testing.T) {
			res, r := runSpecAt(t, Spec{Guarantee: g, Preset: lessons.Strict, Fault: lessons.NoFault, Messages: n, Partitions: 3, Processors: 3}, tc.pace)
			if res.Lost != 0 || res.Unexpected != 0 || res.UniqueCredited != n {
				t.Fatalf("lost %d unexpected %d unique credited %d of %d", res.Lost, res.Unexpected, res.UniqueCredited, n)
			}
			if g == lessons.ExactlyOnce && res.Duplicated != 0 {
				t.Fatalf("exactly-once with three instances: %d duplicated", res.Duplicated)
			}
			if res.Reordered != 0 {
				t.Fatalf("%d deposits credited out of their account's order: %v", res.Reordered, res.ReorderedIDs)
			}
			if res.Expected != nil {
				t.Fatalf("a run of three processors got the claim table's row %+v: the table is measured with one", res.Expected)
			}
			events, _ := r.Log.Snapshot()
			fetchedBy := map[string]bool{}
			for _, e := range events {
				if g == lessons.ExactlyOnce && (e.Kind == trace.Restart || e.Kind == trace.Error) {
					t.Fatalf("no fault, yet %s: %s", e.Kind, e.Detail)
				}
				if e.Kind == trace.Fetch && e.Deposit > 0 {
					fetchedBy[e.Instance] = true
					if int(e.Partition) != deposit.Partition(e.Deposit, 3) {
						t.Fatalf("%s fetched from partition %d, its account's is %d", deposit.ID(e.Deposit), e.Partition, deposit.Partition(e.Deposit, 3))
					}
				}
			}
			if len(fetchedBy) < 2 {
				t.Fatalf("only %v processed deposits: the group did not share the partitions", fetchedBy)
			}
			ledgerOnAccountPartitions(t, r)
		})
	}
}

// ledgerOnAccountPartitions reads the run's ledger back and checks that
// each credit is on its deposit's account partition.
func ledgerOnAccountPartitions(t *testing.T, r *Run) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := testEnv.Admin.ListEndOffsets(ctx, r.Names.Ledger)
	if err != nil {
		t.Fatal(err)
	}
	at := make([]int64, r.partitions())
	for p := range at {
		o, _ := ends.Lookup(r.Names.Ledger, int32(p))
		at[p] = o.Offset
	}
	n := 0
	err = readAll(ctx, testEnv.Brokers, r.Names.Ledger, at, kgo.ReadCommitted(), func(rec *kgo.Record) {
		if seq, ok := deposit.ParseID(string(rec.Key)); ok {
			n++
			if int(rec.Partition) != deposit.Partition(seq, r.partitions()) {
				t.Errorf("credit of %s on ledger partition %d, its account's is %d", rec.Key, rec.Partition, deposit.Partition(seq, r.partitions()))
			}
		}
	})
	if err != nil || n == 0 {
		t.Fatalf("read %d credits: %v", n, err)
	}
}
