package pipeline

// The exactly-once lesson's common mistake: a franz-go processor that auto-commits.

import (
	"context"
	"fmt"
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
		onAssigned(p.r, p.instance),
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
		fetched(p.r, p.events, recs, p.instance)
		seqs, done, crashAt, woke, err := produceCredits(ctx, p.r, cl, recs, p.instance, p.dialer, p.events, nil)
		if err != nil {
			return err
		}
		if woke != nil {
			return p.endAsZombie(ctx, cl, recs, seqs, woke)
		}
		if crashAt == nil { // before a crash, produceCredits flushed
			if err := cl.Flush(ctx); err != nil {
				return err
			}
		}
		p.r.credited(seqs, p.instance, p.events)
		p.r.rebalanceIfDue(ctx, seqs, p.instance)
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
			if err := cl.CommitMarkedOffsets(ctx); err != nil || p.r.finished(ctx, done) {
				return err
			}
		}
	}
}

func (p *autoCommitProcessor) crashDueAtLast(recs []*kgo.Record) bool {
	seq, ok := deposit.ParseID(string(recs[len(recs)-1].Key))
	return ok && (p.r.nemesis.crashDue(seq) || p.r.nemesis.stallDue(seq))
}

// endAsZombie finishes the batch of an instance that woke from a stall:
// its credits, written outside any transaction, are in the ledger again
// (nothing fences them), and then it commits, as the loop does at the end,
// which the group's coordinator may refuse: the group dropped it.
func (p *autoCommitProcessor) endAsZombie(ctx context.Context, cl *kgo.Client, recs []*kgo.Record, seqs []int, woke *zombieWrites) error {
	flushErr := cl.Flush(ctx)
	p.r.credited(seqs, p.instance, p.events)
	cl.MarkCommitRecords(recs...)
	commitErr := cl.CommitMarkedOffsets(ctx)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if ke := woke.refused(flushErr, commitErr); ke != nil {
		p.r.fenced(p.instance, "offset commit", ke)
	} else {
		p.r.emit(trace.Event{Actor: trace.Processor, Kind: trace.Error, Instance: p.instance, Offset: -1,
			Detail: fmt.Sprintf("the zombie credited the rest of its batch and committed (%v): nothing refused it", commitErr)})
	}
	return errZombie
}
