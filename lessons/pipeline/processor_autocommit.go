package pipeline

// The exactly-once lesson's common mistake: a franz-go processor that auto-commits.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons/deposit"
	"github.com/kafka-delivery-lab/lab/lessons/faultconn"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// autoCommitProcessor is the exactly-once lesson's common mistake: the
// deposits come from a transactional producer, but the processor is a
// read_uncommitted consumer that auto-commits offsets on a timer and writes
// credits outside any transaction. Consumption is not part of a
// transaction: a crash repeats what was credited since the last
// auto-commit.
type autoCommitProcessor struct {
	r        *Run
	instance string
	dialer   *faultconn.Dialer
	events   *trace.Batch
}

func newAutoCommitProcessor(r *Run, instance string) *autoCommitProcessor {
	return &autoCommitProcessor{r: r, instance: instance, dialer: faultconn.NewDialer(faultconn.Config{}), events: r.Log.Batch()}
}

func (p *autoCommitProcessor) run(ctx context.Context) (err error) {
	cl, err := kgo.NewClient(append(groupMember(p.r, p.dialer),
		kgo.AutoCommitInterval(time.Duration(p.r.recipe.AutoCommitMs)*time.Millisecond),
		// The Java client and kafka-python commit, on their timer, only
		// what the loop was handed before its last poll, so a loop that
		// credits a batch before polling again never commits a record it
		// has not credited. franz-go would commit what was polled, even
		// mid-batch; marking the credited records gives the Java timing.
		kgo.AutoCommitMarks(),
		kgo.FetchIsolationLevel(franzGoIsolation(p.r.recipe)),
	)...)
	if err != nil {
		return err
	}
	defer func() { release(err, p.dialer, cl.Close) }()
	for {
		recs, err := p.r.nextRecords(ctx, cl.PollRecords)
		if err != nil || recs == nil {
			return err
		}
		if p.crashDueAtLast(recs) {
			// Leave work on both sides of the crash: wait for one more.
			more := cl.PollRecords(ctx, 1)
			if err := more.Err0(); err != nil {
				return err
			}
			recs = append(recs, more.Records()...)
		}
		fetched(p.events, recs, p.instance)
		seqs, done, crashAt, err := produceCredits(ctx, p.r, cl, recs, p.instance)
		if err != nil {
			return err
		}
		if crashAt == nil { // before a crash, produceCredits flushed
			if err := cl.Flush(ctx); err != nil {
				return err
			}
		}
		p.r.credited(seqs, p.instance, p.events)
		if crashAt == nil {
			cl.MarkCommitRecords(recs...)
		}
		if crashAt != nil {
			p.r.crash(crashAt.Key, p.instance, "; the auto-committed offset, not the credits, decides where the next instance starts")
			return errCrashed
		}
		if done {
			// What a clean shutdown does with auto-commit on: commit
			// what was polled.
			return cl.CommitMarkedOffsets(ctx)
		}
	}
}

func (p *autoCommitProcessor) crashDueAtLast(recs []*kgo.Record) bool {
	seq, ok := deposit.ParseID(string(recs[len(recs)-1].Key))
	return ok && p.r.nemesis.crashDue(seq)
}
