package pipeline

// Partitions and a processor group of several instances (issue 13): where
// a record goes, where each partition's log ends, and when the group has
// processed every partition.

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/deposit"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// partitions is how many partitions the run's topics have.
func (r *Run) partitions() int { return max(r.Spec.Partitions, 1) }

// processors is how many instances the run's processor group starts with.
func (r *Run) processors() int { return max(r.Spec.Processors, 1) }

// sessionTimeout is the group session of the run's processors: the short
// Tuning.SessionTimeout when one of its faults changes the group's
// members (a crashed or frozen instance the group must notice, a joiner),
// whose takeover it times; Tuning.QuietSessionTimeout otherwise, so a
// busy machine does not expire a live member. A fault injected live into
// a quiet run is taken over after the quiet session.
func (r *Run) sessionTimeout() time.Duration {
	t := r.env.Tuning
	faults := []lessons.FaultID{r.Spec.Fault}
	for _, s := range r.Spec.Schedule {
		faults = append(faults, s.Fault)
	}
	for _, f := range faults {
		switch f {
		case lessons.ProcessorCrash, lessons.ProcessorStall, lessons.Rebalance:
			return t.SessionTimeout
		}
	}
	return max(t.SessionTimeout, t.QuietSessionTimeout)
}

// heartbeatInterval keeps the short session's pace, a quarter of it, in
// every run: a member learns of a rebalance at its next heartbeat.
func (r *Run) heartbeatInterval() time.Duration { return r.env.Tuning.SessionTimeout / 4 }

// recordPartition places a record of a run's input or ledger topic: a
// deposit's records on its account's partition (deposit.Partition), on
// both clients, so an account's deposits and credits each share one
// partition. Anything else (there is nothing else: the end markers are
// placed by hand) goes to partition 0.
func recordPartition(key []byte, n int) int {
	seq, ok := deposit.ParseID(string(key))
	if !ok {
		return 0
	}
	return deposit.Partition(seq, n)
}

// accountBalancer is recordPartition as a kafka-go Balancer. kafka-go's
// own hashing balancers place a key with a different hash than franz-go's
// default (murmur2 like the Java client, or crc32 like librdkafka), and
// the account is not the key: both clients use this one.
type accountBalancer struct{}

func (accountBalancer) Balance(m kafka.Message, partitions ...int) int {
	return partitions[recordPartition(m.Key, len(partitions))]
}

// accountPartitioner is recordPartition as a franz-go partitioner.
func accountPartitioner() kgo.Opt {
	return kgo.RecordPartitioner(kgo.BasicConsistentPartitioner(func(string) func(*kgo.Record, int) int {
		return func(rec *kgo.Record, n int) int { return recordPartition(rec.Key, n) }
	}))
}

// writeEnds appends an end marker to every partition of topic, outside any
// fault, and returns their offsets by partition. Each partition is a log
// of its own: a reader knows it has read one to its end only by that
// partition's marker.
func (r *Run) writeEnds(ctx context.Context, topic string) ([]int64, error) {
	n := r.partitions()
	ends := make([]int64, n)
	recs := make([]*kgo.Record, n)
	for p := range recs {
		recs[p] = &kgo.Record{Topic: topic, Partition: int32(p), Key: []byte(endKey), Value: fmt.Appendf(nil, `{"end":true,"run":%q}`, r.Spec.RunID)}
	}
	res := r.marker.ProduceSync(ctx, recs...)
	if err := res.FirstErr(); err != nil {
		return nil, err
	}
	for _, pr := range res {
		ends[pr.Record.Partition] = pr.Record.Offset
	}
	return ends, nil
}

// inputEnds are the offsets of the input topic's end markers, nil until
// they are written.
func (r *Run) inputEnds() []int64 {
	if e := r.endOffsets.Load(); e != nil {
		return *e
	}
	return nil
}

// caughtUp reports whether the group has committed past the end marker of
// every partition: a processor that finds nothing to read then knows the
// run is processed. A partition whose committed offset a late commit moved
// back counts as caught up when one of the run's instances had committed
// past its marker: the instance that owns it now has read it all and has
// nothing left to commit, so the group's offset would stay behind.
func (r *Run) caughtUp(ctx context.Context) bool {
	ends := r.inputEnds()
	if ends == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	offs, err := r.env.Admin.FetchOffsets(ctx, r.Names.Group)
	if err != nil {
		return false
	}
	for p, end := range ends {
		if p < len(r.highCommitted) && r.highCommitted[p].Load() > end {
			continue
		}
		o, ok := offs.Lookup(r.Names.Input, int32(p))
		if !ok || o.Err != nil || o.At <= end {
			return false
		}
	}
	return true
}

// finished reports whether an instance that has just committed a batch
// holding an end marker (sawEnd) may stop: at once with one partition,
// whose marker is the last record there is; with several, once the
// group has committed past every partition's marker.
func (r *Run) finished(ctx context.Context, sawEnd bool) bool {
	if !sawEnd {
		return false
	}
	return r.partitions() == 1 || r.caughtUp(ctx)
}

// committedAt records that the group committed partition p up to offset
// (the next to read), for the progress count: the sum over partitions.
func (r *Run) committedAt(p int32, offset int64) {
	if int(p) >= len(r.committed) {
		return
	}
	old := r.committed[p].Swap(offset)
	r.Progress.Committed.Add(offset - old)
	for h := &r.highCommitted[p]; ; {
		if cur := h.Load(); offset <= cur || h.CompareAndSwap(cur, offset) {
			break
		}
	}
}

// newCommitted holds a run's committed offsets by partition.
func newCommitted(n int) []atomic.Int64 { return make([]atomic.Int64, n) }

// observe notes that instance fetched from partition p, or was given it
// in a Generation, and puts a hand-over on the trace when p's owner
// changed: revoked for the instance that had it before, assigned for this
// one. The group's assignment itself is not visible to an application of
// kafka-go's Reader; the fetches are what each instance actually
// processes.
func (r *Run) observe(instance string, p int32) {
	r.joined(instance)
	r.ownersMu.Lock()
	defer r.ownersMu.Unlock()
	if int(p) >= len(r.owners) || r.owners[p] == instance {
		return
	}
	prev := r.owners[p]
	r.owners[p] = instance
	b := r.Log.Batch()
	if prev != "" {
		b.Add(trace.Event{Actor: trace.Processor, Kind: trace.Revoked, Instance: prev, Topic: r.Names.Input, Partition: p, Offset: -1,
			Detail: fmt.Sprintf("partition %d moved from %s to %s", p, prev, instance)})
	}
	b.Add(trace.Event{Actor: trace.Processor, Kind: trace.Assigned, Instance: instance, Topic: r.Names.Input, Partition: p, Offset: -1,
		Detail: fmt.Sprintf("%s processes partition %d", instance, p)})
	b.Emit()
}
