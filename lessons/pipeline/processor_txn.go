package pipeline

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons/deposit"
	"github.com/kafka-delivery-lab/lab/lessons/faultconn"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// txnProcessor is the exactly-once processor: it reads read_committed and
// writes a batch's credits and commits its offsets in one transaction, so
// either both become visible or neither does. A new instance with the same
// transactional id fences a crashed one: InitProducerID bumps the epoch and
// the broker aborts the old instance's open transaction. franz-go always
// fetches group offsets with require_stable (KIP-447), so a new instance
// never starts from offsets of a transaction still being committed.
type txnProcessor struct {
	r        *Run
	instance string
	dialer   *faultconn.Dialer
	sess     *kgo.GroupTransactSession
	events   *trace.Batch
	// settled: everything this instance polled is committed. It starts
	// from the group's committed offset, so it starts settled.
	settled bool
}

func newTxnProcessor(r *Run, instance string) *txnProcessor {
	return &txnProcessor{r: r, instance: instance, dialer: faultconn.NewDialer(faultconn.Config{}), events: r.Log.Batch(), settled: true}
}

func (p *txnProcessor) run(ctx context.Context) (err error) {
	p.sess, err = kgo.NewGroupTransactSession(append(groupMember(p.r, p.dialer),
		kgo.TransactionalID(p.r.Names.ProcessorTxnID),
		kgo.TransactionTimeout(30*time.Second),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
	)...)
	if err != nil {
		return err
	}
	defer func() { release(err, p.dialer, p.sess.Close) }()
	for {
		recs, err := p.r.nextRecords(ctx, p.sess.PollRecords)
		if err != nil || recs == nil {
			return err
		}
		done, err := p.handle(ctx, recs)
		if err != nil || done {
			return err
		}
	}
}

// groupMember is what both franz-go processors share: a member of the
// run's group reading the input from its start and writing the ledger.
func groupMember(r *Run, dialer *faultconn.Dialer) []kgo.Opt {
	st := r.env.Tuning.SessionTimeout
	return append(fastRecovery(),
		kgo.SeedBrokers(r.env.Brokers...),
		kgo.Dialer(dialer.DialContext),
		kgo.ConsumerGroup(r.Names.Group),
		kgo.ConsumeTopics(r.Names.Input),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(st),
		kgo.RebalanceTimeout(st),
		kgo.HeartbeatInterval(st/4),
		kgo.FetchMaxWait(100*time.Millisecond),
		kgo.DefaultProduceTopic(r.Names.Ledger),
		kgo.MaxBufferedRecords(inFlight),
	)
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
		if !errors.Is(e, context.DeadlineExceeded) && !errors.Is(e, context.Canceled) {
			err = e
		}
	})
	if err != nil {
		return nil, err
	}
	return fs.Records(), nil
}

func (p *txnProcessor) handle(ctx context.Context, recs []*kgo.Record) (done bool, err error) {
	if len(recs) == 1 && string(recs[0].Key) == endKey && p.settled {
		// Polls return records in order, and everything polled before
		// the marker is committed (what lies between is the producer's
		// commit record, which read_committed readers never see): the run
		// is processed, without a transaction for the marker alone.
		fetched(p.events, recs, p.instance)
		return true, nil
	}
	p.settled = false
	if err := p.sess.Begin(); err != nil {
		return false, err
	}
	p.events.Add(trace.Event{Actor: trace.Processor, Kind: trace.TxnBegin, Instance: p.instance, Offset: -1})
	fetched(p.events, recs, p.instance)
	seqs, done, crashAt, err := produceCredits(ctx, p.r, p.sess.Client(), recs, p.instance)
	if err != nil {
		return false, err
	}
	if crashAt != nil {
		// The credits so far are in the log, inside a transaction that
		// will never be committed by this instance.
		p.r.crash(crashAt.Key, p.instance, " inside an open transaction; the next instance's InitProducerID fences this one and the broker aborts its transaction")
		return false, errCrashed
	}
	committed, err := p.sess.End(ctx, kgo.TryCommit)
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		// The transaction failed and this producer is unusable (seen:
		// franz-go 1.22.3 once sent the first Produce after EndTxn's epoch
		// bump with sequence 1, and the broker refused it with
		// OUT_OF_ORDER_SEQUENCE_NUMBER). Nothing was committed. Do what a
		// deployment does with a failed instance: replace it. The new one
		// fences this one and resumes from the committed offset.
		p.r.emit(trace.Event{Actor: trace.Processor, Kind: trace.Error, Instance: p.instance, Offset: -1,
			Detail: "the transaction failed and was not committed; replacing the instance: " + err.Error()})
		return false, errCrashed
	}
	if !committed {
		// A rebalance or a fenced epoch: the group will hand these
		// records out again, so nothing here was credited.
		p.r.emit(trace.Event{Actor: trace.Processor, Kind: trace.TxnAbort, Instance: p.instance, Offset: -1,
			Detail: strconv.Itoa(len(seqs)) + " credits aborted; the records will be read again"})
		return false, nil
	}
	p.settled = true
	last := recs[len(recs)-1]
	p.r.Progress.Committed.Store(last.Offset + 1)
	p.r.credited(seqs, p.instance, p.events)
	p.r.emit(trace.Event{Actor: trace.Processor, Kind: trace.TxnCommit, ID: string(last.Key), Instance: p.instance,
		Topic: last.Topic, Partition: last.Partition, Offset: last.Offset + 1,
		Detail: strconv.Itoa(len(seqs)) + " credits and the offset committed together"})
	return done, nil
}

// autoCommitProcessor is the exactly-once lesson's common mistake: the
// deposits come from a transactional producer, but the processor is a
// read_uncommitted consumer that auto-commits offsets on a timer and writes
// credits outside any transaction. Consumption is not part of a
// transaction, so a crash loses or repeats credits.
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
		kgo.AutoCommitInterval(time.Second),
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
		if crashAt != nil {
			p.r.crash(crashAt.Key, p.instance, "; the auto-committed offset, not the credits, decides where the next instance starts")
			return errCrashed
		}
		if done {
			// What a clean shutdown does with auto-commit on: commit
			// what was polled.
			return cl.CommitUncommittedOffsets(ctx)
		}
	}
}

func (p *autoCommitProcessor) crashDueAtLast(recs []*kgo.Record) bool {
	seq, ok := deposit.ParseID(string(recs[len(recs)-1].Key))
	return ok && p.r.nemesis.crashDue(seq)
}

// produceCredits produces, through cl, a credit for every deposit in recs
// up to the one after which the processor must crash, if any: that record
// is crashAt, and then the credits are flushed, so that they are in the
// log when it dies. done reports whether recs held the end marker.
func produceCredits(ctx context.Context, r *Run, cl *kgo.Client, recs []*kgo.Record, instance string) (seqs []int, done bool, crashAt *kgo.Record, err error) {
	for _, rec := range recs {
		if string(rec.Key) == endKey {
			done = true
			continue
		}
		if err := r.Pacer.Stage(ctx); err != nil {
			return nil, false, nil, err
		}
		seq, ok := deposit.ParseID(string(rec.Key))
		if !ok {
			continue
		}
		seqs = append(seqs, seq)
		cl.Produce(ctx, &kgo.Record{Key: rec.Key,
			Value: deposit.Credit{Deposit: string(rec.Key), Amount: deposit.Amount, Processor: instance}.Encode()}, nil)
		if r.nemesis.crashDue(seq) {
			return seqs, done, rec, cl.Flush(ctx)
		}
	}
	return seqs, done, nil, nil
}

// fetched emits what a franz-go processor fetched, with whatever b holds.
func fetched(b *trace.Batch, recs []*kgo.Record, instance string) {
	for _, rec := range recs {
		b.Add(fetchEvent(rec.Key, instance, rec.Topic, rec.Partition, rec.Offset))
	}
	b.Emit()
}
