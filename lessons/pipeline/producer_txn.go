package pipeline

// The exactly-once producer: franz-go, idempotent and transactional.

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons/faultconn"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// txnProducer is the exactly-once producer: idempotent, so the broker drops
// a retried batch by producer id and sequence number, and transactional, so
// a batch of deposits becomes visible to read_committed readers all at once
// or not at all.
type txnProducer struct {
	r       *Run
	cl      *kgo.Client
	pending []int         // deposits in the open transaction
	records []*kgo.Record // their records, produced at commit
	events  *trace.Batch  // their events, emitted before the records go
	size    int
}

func newTxnProducer(r *Run) (*txnProducer, error) {
	dialer := faultconn.NewDialer(faultconn.Config{Rule: r.nemesis.rule, OnFault: r.nemesis.onFault, Armed: r.nemesis.armed})
	cl, err := kgo.NewClient(append(append(fastRecovery(), franzGoProducerOpts(r.recipe)...),
		kgo.SeedBrokers(r.env.Brokers...),
		kgo.Dialer(dialer.DialContext),
		kgo.DefaultProduceTopic(r.Names.Input),
		accountPartitioner(),
		// kgo calls InitProducerID itself before the first transaction:
		// the step kafka-python needs as init_transactions().
		kgo.TransactionalID(r.Names.ProducerTxnID),
		kgo.TransactionTimeout(30*time.Second),
		kgo.MaxBufferedRecords(inFlight),
		// franz-go compresses with snappy by default; uncompressed
		// batches let the fault injector see which deposits a request
		// carries, as kafka-go's do.
		kgo.ProducerBatchCompression(kgo.NoCompression()),
	)...)
	if err != nil {
		return nil, err
	}
	return &txnProducer{r: r, cl: cl, size: r.env.Tuning.TxnSize, events: r.Log.Batch()}, nil
}

func (p *txnProducer) send(ctx context.Context, seq int) error {
	if len(p.pending) == 0 {
		p.events.Add(trace.Event{Actor: trace.Producer, Kind: trace.TxnBegin, Topic: p.r.Names.Input, Offset: -1})
	}
	id, key, value := depositRecord(p.r, seq)
	p.events.Add(trace.Event{Actor: trace.Producer, Kind: trace.Send, ID: id, Attempt: 1, Topic: p.r.Names.Input, Offset: -1})
	p.records = append(p.records, &kgo.Record{Key: key, Value: value})
	p.pending = append(p.pending, seq)
	// A paced run commits every deposit on its own so each can be watched.
	if len(p.pending) >= p.size || p.r.Pacer.Slowed() {
		return p.commit(ctx)
	}
	return nil
}

// commit sends the open transaction's deposits and ends it: committed if
// every record was written, aborted otherwise. Either way each deposit's
// outcome is then known.
func (p *txnProducer) commit(ctx context.Context) error {
	if len(p.pending) == 0 {
		return nil
	}
	if err := p.cl.BeginTransaction(); err != nil {
		return err
	}
	// The begin and the sends, announced before a fault can strike them.
	p.r.sent(p.pending)
	p.events.Emit()
	// A record's own failure reaches only its promise: Flush does not
	// return it, and EndTransaction(TryCommit) after a transaction none of
	// whose records was written returns nil (franz-go 1.22.3, txn.go),
	// which would have counted deposits that never reached the log as
	// acknowledged.
	var recErr atomic.Pointer[error]
	failed := func(_ *kgo.Record, err error) {
		if err != nil {
			recErr.CompareAndSwap(nil, &err)
		}
	}
	for _, rec := range p.records {
		p.cl.Produce(ctx, rec, failed)
	}
	clear(p.records)
	p.records = p.records[:0]
	flushErr := p.cl.Flush(ctx)
	if err := recErr.Load(); err != nil && flushErr == nil {
		flushErr = *err
	}
	commit := kgo.TryCommit
	if flushErr != nil {
		commit = kgo.TryAbort
	}
	endErr := p.cl.EndTransaction(ctx, commit)
	kind, settleErr := trace.TxnCommit, error(nil)
	if flushErr != nil || endErr != nil {
		kind, settleErr = trace.TxnAbort, errors.Join(flushErr, endErr, errors.New("transaction aborted"))
	}
	p.events.Add(trace.Event{Actor: trace.Producer, Kind: kind, Topic: p.r.Names.Input, Offset: -1,
		Detail: strconv.Itoa(len(p.pending)) + " deposits"})
	p.r.settle(p.pending, settleErr, 1, p.events)
	p.pending = p.pending[:0]
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return endErr
}

func (p *txnProducer) flush(ctx context.Context) error { return p.commit(ctx) }

// settle commits the deposits of the open transaction.
func (p *txnProducer) settle(ctx context.Context) error { return p.commit(ctx) }

func (p *txnProducer) close() { p.cl.Close() }
