package pipeline

// The exactly-once (strict) processor: franz-go, credits and offsets in one transaction.

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons/faultconn"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// txnProcessor is the exactly-once processor: it reads read_committed and
// writes a batch's credits and commits its offsets in one transaction, so
// either both become visible or neither does. A new instance with the same
// transactional id (its slot's: Names.ProcessorTxnIDFor) fences a crashed
// one: InitProducerID bumps the epoch and the broker aborts the old
// instance's open transaction. Instances running side by side have ids of
// their own; the group generation in each transaction's offsets fences a
// member the group has replaced (KIP-447). franz-go always
// fetches group offsets with require_stable (KIP-447), so a new instance
// never starts from offsets of a transaction still being committed.
type txnProcessor struct {
	r        *Run
	instance string
	txnID    string // its slot's (Names.ProcessorTxnIDFor)
	dialer   *faultconn.Dialer
	sess     *kgo.GroupTransactSession
	events   *trace.Batch
	// settled: everything this instance polled is committed. It starts
	// from the group's committed offset, so it starts settled.
	settled bool
	// refused is the first error a credit of the open transaction was
	// answered with, nil while every one was written.
	refusedMu sync.Mutex
	refused   error
}

// endWait bounds ending a transaction (flushing its credits, committing
// its offsets, EndTxn). A longer end cannot commit anyway: past the
// transaction timeout (30 s, below) the coordinator aborts it.
const endWait = 30 * time.Second

// answered is the promise of each credit in a transaction.
func (p *txnProcessor) answered(_ *kgo.Record, err error) {
	if err != nil {
		p.refusedMu.Lock()
		if p.refused == nil {
			p.refused = err
		}
		p.refusedMu.Unlock()
	}
}

// takeRefused returns the open transaction's first refused credit and
// forgets it, for the next transaction.
func (p *txnProcessor) takeRefused() error {
	p.refusedMu.Lock()
	defer p.refusedMu.Unlock()
	err := p.refused
	p.refused = nil
	return err
}

func newTxnProcessor(r *Run, instance, txnID string) *txnProcessor {
	return &txnProcessor{r: r, instance: instance, txnID: txnID, dialer: faultconn.NewDialer(faultconn.Config{}), events: r.Log.Batch(), settled: true}
}

func (p *txnProcessor) run(ctx context.Context) (err error) {
	p.sess, err = kgo.NewGroupTransactSession(append(groupMember(p.r, p.dialer),
		kgo.TransactionalID(p.txnID),
		kgo.TransactionTimeout(30*time.Second),
		kgo.FetchIsolationLevel(franzGoIsolation(p.r.recipe)),
		onAssigned(p.r, p.instance),
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
		sawEnd, err := p.handle(ctx, recs)
		if err != nil || p.r.finished(ctx, sawEnd) {
			return err
		}
	}
}

func (p *txnProcessor) handle(ctx context.Context, recs []*kgo.Record) (done bool, err error) {
	if len(recs) == 1 && string(recs[0].Key) == endKey && p.settled && p.r.partitions() == 1 {
		// Polls return records in order, and everything polled before
		// the marker is committed (what lies between is the producer's
		// commit record, which read_committed readers never see): the run
		// is processed, without a transaction for the marker alone. With
		// several partitions the marker's offset is committed like any
		// record's: the group is done once it is past every partition's.
		fetched(p.r, p.events, recs, p.instance)
		return true, nil
	}
	p.settled = false
	if err := p.sess.Begin(); err != nil {
		// The producer is in a state it cannot leave (a fatal error
		// of the last transaction): replace the instance, as End's
		// failure below does.
		p.r.emit(trace.Event{Actor: trace.Processor, Kind: trace.Error, Instance: p.instance, Offset: -1,
			Detail: "the transaction could not begin; replacing the instance: " + err.Error()})
		return false, errCrashed
	}
	p.takeRefused() // nothing of an earlier transaction
	gen, epoch := p.identity(ctx)
	p.events.Add(trace.Event{Actor: trace.Processor, Kind: trace.TxnBegin, Instance: p.instance, Offset: -1, Generation: gen, Epoch: epoch})
	fetched(p.r, p.events, recs, p.instance)
	seqs, done, crashAt, woke, err := produceCredits(ctx, p.r, p.sess.Client(), recs, p.instance, p.dialer, p.events, p.answered)
	if err != nil {
		return false, err
	}
	if woke != nil {
		return false, p.endAsZombie(ctx, woke)
	}
	if crashAt != nil {
		// The credits so far are in the log, inside a transaction that
		// will never be committed by this instance.
		p.r.crash(crashAt.Key, p.instance, " inside an open transaction; the next instance's InitProducerID fences this one and the broker aborts its transaction")
		return false, errCrashed
	}
	p.r.rebalanceIfDue(ctx, seqs, p.instance) // inside the open transaction
	endCtx, cancel := context.WithTimeout(ctx, endWait)
	defer cancel()
	try := kgo.TryCommit
	// franz-go commits a transaction whose records partly failed, if
	// asked to (the Java client refuses): its offsets would then be
	// committed without those credits, and the deposits lost. Abort
	// instead, and the records are read again.
	if err := p.sess.Client().Flush(endCtx); err == nil {
		if refused := p.takeRefused(); refused != nil {
			try = kgo.TryAbort
			p.r.emit(trace.Event{Actor: trace.Processor, Kind: trace.Error, Instance: p.instance, Offset: -1,
				Detail: "a credit was not written (" + refused.Error() + "): the transaction is aborted, not committed without it"})
		}
	}
	committed, err := p.sess.End(endCtx, try)
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		// The transaction failed, or outlasted endWait, and this
		// producer is unusable (seen: franz-go 1.22.3 once sent the
		// first Produce after EndTxn's epoch bump with sequence 1, and
		// the broker refused it with OUT_OF_ORDER_SEQUENCE_NUMBER).
		// Nothing was committed. Do what a deployment does with a
		// failed instance: replace it. The new one, in this slot,
		// fences this one (its InitProducerID aborts whatever this one
		// left open) and resumes from the committed offset.
		p.r.emit(trace.Event{Actor: trace.Processor, Kind: trace.Error, Instance: p.instance, Offset: -1,
			Detail: "the transaction failed and was not committed; replacing the instance: " + err.Error()})
		return false, errCrashed
	}
	if !committed {
		// A rebalance, a lost session (the member rejoins, and the
		// group hands these records out again), a fenced epoch or a
		// refused credit: nothing here was credited.
		p.r.emit(trace.Event{Actor: trace.Processor, Kind: trace.TxnAbort, Instance: p.instance, Offset: -1,
			Detail: strconv.Itoa(len(seqs)) + " credits aborted; the records will be read again"})
		return false, nil
	}
	p.settled = true
	last := recs[len(recs)-1]
	for _, rec := range recs {
		p.r.committedAt(rec.Partition, rec.Offset+1) // in offset order per partition
	}
	p.r.credited(seqs, p.instance, p.events)
	p.r.emit(trace.Event{Actor: trace.Processor, Kind: trace.TxnCommit, ID: string(last.Key), Instance: p.instance,
		Topic: last.Topic, Partition: last.Partition, Offset: last.Offset + 1, Generation: gen, Epoch: epoch,
		Detail: strconv.Itoa(len(seqs)) + " credits and the offset committed together"})
	return done, nil
}

// identity is the instance's group generation and its producer's epoch as
// the client knows them: no request, once the producer id is loaded (the
// transaction's first produce loads it anyway).
func (p *txnProcessor) identity(ctx context.Context) (int32, int16) {
	cl := p.sess.Client()
	_, gen := cl.GroupMetadata()
	_, epoch, _ := cl.ProducerID(ctx)
	return gen, epoch
}

// endAsZombie tries to commit the transaction of an instance that woke
// from a stall, as the instance, unaware, would; the broker refuses it.
// While it was frozen the next instance's InitProducerID bumped the
// transactional id's epoch, which aborted this one's open transaction,
// and the group dropped it as a member. What refused it, and with which
// error, goes on the trace as a fenced event; the lab does not decide it.
func (p *txnProcessor) endAsZombie(ctx context.Context, woke *zombieWrites) error {
	committed, err := p.sess.End(ctx, kgo.TryCommit)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if ke := woke.refused(err); ke != nil {
		what := "transaction"
		if committed {
			what = "transaction, after the client reported it committed,"
		}
		p.r.fenced(p.instance, what, ke)
		return errZombie
	}
	p.r.emit(trace.Event{Actor: trace.Processor, Kind: trace.Error, Instance: p.instance, Offset: -1,
		Detail: fmt.Sprintf("the zombie's transaction ended (committed %v, %v) and no broker named a fencing error", committed, err)})
	return errZombie
}
