package pipeline

// franz-go helpers shared by the transactional producer and both franz-go processors.

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons/deposit"
	"github.com/kafka-delivery-lab/lab/lessons/faultconn"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// fastRecovery makes franz-go notice a broken connection and retry within
// a fraction of a second, so a demo with a lost ack stays snappy. Its
// defaults suit production, where backing off protects the cluster.
func fastRecovery() []kgo.Opt {
	return []kgo.Opt{
		kgo.RetryBackoffFn(func(tries int) time.Duration {
			return min(time.Duration(tries)*20*time.Millisecond, 250*time.Millisecond)
		}),
		kgo.RequestTimeoutOverhead(2 * time.Second),
		kgo.ProduceRequestTimeout(5 * time.Second),
		kgo.RetryTimeout(10 * time.Second),
	}
}

// groupMember is what both franz-go processors share: a member of the
// run's group reading the input from its start and writing the ledger.
func groupMember(r *Run, dialer *faultconn.Dialer) []kgo.Opt {
	st := r.sessionTimeout()
	return append(fastRecovery(),
		kgo.SeedBrokers(r.env.Brokers...),
		kgo.Dialer(dialer.DialContext),
		kgo.ConsumerGroup(r.Names.Group),
		kgo.ConsumeTopics(r.Names.Input),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(st),
		kgo.RebalanceTimeout(st),
		kgo.HeartbeatInterval(r.heartbeatInterval()),
		kgo.FetchMaxWait(100*time.Millisecond),
		kgo.DefaultProduceTopic(r.Names.Ledger),
		accountPartitioner(),
		kgo.MaxBufferedRecords(inFlight),
	)
}

// nextRecords polls a franz-go processor's next records, at most a batch;
// nil once nothing comes and the run is processed.
func (r *Run) nextRecords(ctx context.Context, pollFn func(context.Context, int) kgo.Fetches) ([]*kgo.Record, error) {
	for {
		recs, err := poll(ctx, pollFn, r.batchLimit())
		if err != nil || len(recs) > 0 {
			return recs, err
		}
		if r.caughtUp(ctx) {
			return nil, nil
		}
	}
}

// poll waits up to idle for records, at most max of them.
func poll(ctx context.Context, pollFn func(context.Context, int) kgo.Fetches, max int) ([]*kgo.Record, error) {
	c, cancel := context.WithTimeout(ctx, idle)
	defer cancel()
	fs := pollFn(c, max)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var err error
	fs.EachError(func(_ string, _ int32, e error) {
		// A group still forming (several instances joining at once on
		// Apache Kafka: UNKNOWN_MEMBER_ID on a join) is reported here
		// and retried by the client itself.
		settling := errors.Is(e, kerr.UnknownMemberID) || errors.Is(e, kerr.RebalanceInProgress) || errors.Is(e, kerr.NotCoordinator) ||
			errors.Is(e, kerr.CoordinatorLoadInProgress) || errors.Is(e, kerr.CoordinatorNotAvailable) || errors.Is(e, kerr.IllegalGeneration)
		if !errors.Is(e, context.DeadlineExceeded) && !errors.Is(e, context.Canceled) && !settling {
			err = e
		}
	})
	if err != nil {
		return nil, err
	}
	return fs.Records(), nil
}

// produceCredits produces, through cl, a credit for every deposit in recs
// up to the one after which the processor must crash, if any: that record
// is crashAt, and then the credits are flushed, so that they are in the
// log when it dies. done reports whether recs held the end marker. Each
// credit's notification is sent once the credit is produced, as an
// application sends it, and put on b.
//
// With a stall due (processor-stall), the credits so far are flushed and
// the instance freezes (Run.stall); once it wakes, it produces the rest,
// and woke collects the broker's answers to them: a zombie's writes are
// what fencing refuses. Before that, answered, if not nil, gets every
// credit's answer.
func produceCredits(ctx context.Context, r *Run, cl *kgo.Client, recs []*kgo.Record, instance string, dialer *faultconn.Dialer, b *trace.Batch, answered func(*kgo.Record, error)) (seqs []int, done bool, crashAt *kgo.Record, woke *zombieWrites, err error) {
	first, repeats := 0, 0 // the batch's repeated notifications
	defer func() {
		r.notifier.repeated(first, repeats, instance, b)
		b.Emit()
	}()
	for _, rec := range recs {
		if string(rec.Key) == endKey {
			done = true
			continue
		}
		if err := r.Pacer.Stage(ctx); err != nil {
			return nil, false, nil, nil, err
		}
		seq, ok := deposit.ParseID(string(rec.Key))
		if !ok {
			continue
		}
		seqs = append(seqs, seq)
		promise := answered
		if woke != nil {
			promise = woke.answer
		}
		cl.Produce(ctx, &kgo.Record{Key: rec.Key,
			Value: deposit.Credit{Deposit: string(rec.Key), Amount: deposit.Amount, Processor: instance}.Encode()}, promise)
		if r.notifier.notify(seq) {
			if repeats == 0 {
				first = seq
			}
			repeats++
		}
		switch {
		case woke != nil: // a zombie finishes its batch, whatever is armed
		case r.nemesis.crashDue(seq):
			return seqs, done, rec, nil, cl.Flush(ctx)
		case r.nemesis.stallDue(seq):
			if err := cl.Flush(ctx); err != nil {
				return nil, false, nil, nil, err
			}
			r.notifier.repeated(first, repeats, instance, b)
			first, repeats = 0, 0
			b.Emit()
			if err := r.stall(ctx, rec.Key, instance, dialer); err != nil {
				return nil, false, nil, nil, err
			}
			woke = &zombieWrites{}
		}
	}
	return seqs, done, nil, woke, nil
}

// zombieWrites collects the broker's answers to a woken zombie's writes.
type zombieWrites struct {
	mu   sync.Mutex
	errs []error
}

// answer is the zombie's produce promise.
func (z *zombieWrites) answer(_ *kgo.Record, err error) {
	if err != nil {
		z.mu.Lock()
		z.errs = append(z.errs, err)
		z.mu.Unlock()
	}
}

// refused returns the first fencing error among the answers and errs, the
// errors of what the zombie did after producing.
func (z *zombieWrites) refused(errs ...error) *kerr.Error {
	z.mu.Lock()
	defer z.mu.Unlock()
	return brokerFencing(append(slices.Clone(z.errs), errs...)...)
}

// fetched emits what a franz-go processor fetched, with whatever b holds.
func fetched(r *Run, b *trace.Batch, recs []*kgo.Record, instance string) {
	for i, rec := range recs {
		if i == 0 || rec.Partition != recs[i-1].Partition {
			r.observe(instance, rec.Partition)
		}
		b.Add(fetchEvent(rec.Key, instance, rec.Topic, rec.Partition, rec.Offset))
	}
	b.Emit()
}
