package pipeline

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/deposit"
	"github.com/kafka-delivery-lab/lab/lessons/faultconn"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// inFlight bounds the deposits handed to a client and not yet settled, so a
// million-deposit run holds a bounded number of records in memory. The
// stages hold at most a batch more (handOver, Tuning.TxnSize).
const inFlight = 10_000

type producer interface {
	send(ctx context.Context, seq int) error
	flush(ctx context.Context) error
	close()
}

func depositRecord(r *Run, seq int) (id string, key, value []byte) {
	id = deposit.ID(seq)
	return id, []byte(id), deposit.Deposit{ID: id, Amount: deposit.Amount, Run: r.Spec.RunID}.Encode()
}

// kafkaGoProducer is the at-most-once and at-least-once producer. kafka-go
// has no idempotent producer: a retry after a lost ack writes the deposit
// again.
type kafkaGoProducer struct {
	r     *Run
	w     *kafka.Writer
	tr    *kafka.Transport
	tries int
	buf   []kafka.Message // handed to the writer together: one call per batch, not per deposit
	seqs  []int           // their deposits
	sends *trace.Batch    // their send events

	unsettled atomic.Int64  // handed to the writer and not settled yet
	settledCh chan struct{} // a completion came; capacity 1

	acksMu sync.Mutex // kafka-go may complete batches concurrently
	acks   []int
	ackEvs *trace.Batch
}

// handOver is how many deposits an unpaced producer hands to kafka-go per
// WriteMessages call; each call costs a partition lookup and a lock.
const handOver = 1000

// kafkaGoAcks is how a kafka-go writer of guarantee g waits and retries:
// at-most-once takes the leader's ack and never retries, so a send is never
// repeated (MaxAttempts counts the first try); at-least-once waits for all
// in-sync replicas and retries.
func kafkaGoAcks(g lessons.GuaranteeID) (kafka.RequiredAcks, int) {
	if g == lessons.AtMostOnce {
		return kafka.RequireOne, 1
	}
	return kafka.RequireAll, 10
}

func newKafkaGoProducer(r *Run) *kafkaGoProducer {
	acks, tries := kafkaGoAcks(r.Spec.Guarantee)
	dialer := faultconn.NewDialer(faultconn.Config{Rule: r.nemesis.rule, OnFault: r.nemesis.onFault, Armed: r.nemesis.armed})
	p := &kafkaGoProducer{r: r, tries: tries, sends: r.Log.Batch(), ackEvs: r.Log.Batch(), settledCh: make(chan struct{}, 1),
		tr: &kafka.Transport{Dial: dialer.DialContext, DialTimeout: 5 * time.Second}}
	p.w = &kafka.Writer{
		Addr:         kafka.TCP(r.env.Brokers...),
		Topic:        r.Names.Input,
		RequiredAcks: acks,
		MaxAttempts:  tries,
		// A zero Writer waits up to 1 s to fill a batch of 100; a run
		// wants batches as soon as deposits are there.
		BatchSize:       1000,
		BatchTimeout:    2 * time.Millisecond,
		WriteBackoffMin: 10 * time.Millisecond,
		WriteBackoffMax: 200 * time.Millisecond,
		Async:           true,
		Completion:      p.completed,
		Transport:       p.tr,
	}
	return p
}

func (p *kafkaGoProducer) send(ctx context.Context, seq int) error {
	id, key, value := depositRecord(p.r, seq)
	p.sends.Add(trace.Event{Actor: trace.Producer, Kind: trace.Send, ID: id, Attempt: 1, Topic: p.r.Names.Input, Offset: -1})
	p.buf = append(p.buf, kafka.Message{Key: key, Value: value})
	p.seqs = append(p.seqs, seq)
	if len(p.buf) >= handOver || p.r.Pacer.Slowed() {
		return p.handOver(ctx)
	}
	return nil
}

// handOver gives the buffered deposits to the writer once fewer than
// inFlight are unsettled, announcing their sends first: a fault can strike
// them only once the writer has them.
func (p *kafkaGoProducer) handOver(ctx context.Context) error {
	if len(p.buf) == 0 {
		return nil
	}
	for p.unsettled.Load() > inFlight-int64(len(p.buf)) {
		select {
		case <-p.settledCh:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p.unsettled.Add(int64(len(p.buf)))
	p.r.sent(p.seqs)
	p.sends.Emit()
	err := p.w.WriteMessages(ctx, p.buf...)
	p.buf, p.seqs = make([]kafka.Message, 0, handOver), p.seqs[:0] // the writer keeps buf
	return err
}

// completed is kafka-go's per-batch callback: the producer's only word on
// whether its deposits were written.
func (p *kafkaGoProducer) completed(msgs []kafka.Message, err error) {
	p.acksMu.Lock()
	p.acks = p.acks[:0]
	for _, m := range msgs {
		if seq, ok := deposit.ParseID(string(m.Key)); ok {
			p.acks = append(p.acks, seq)
		}
	}
	p.r.settle(p.acks, err, p.tries, p.ackEvs)
	p.acksMu.Unlock()
	p.unsettled.Add(-int64(len(msgs)))
	select {
	case p.settledCh <- struct{}{}:
	default: // already signalled
	}
}

func (p *kafkaGoProducer) flush(ctx context.Context) error {
	if err := p.handOver(ctx); err != nil {
		return err
	}
	// Close waits for every Completion call.
	return p.w.Close()
}

// close closes the writer and its connections: a Writer given its own
// Transport leaves the Transport's connections open.
func (p *kafkaGoProducer) close() {
	p.w.Close()
	p.tr.CloseIdleConnections()
}

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
	cl, err := kgo.NewClient(append(fastRecovery(),
		kgo.SeedBrokers(r.env.Brokers...),
		kgo.Dialer(dialer.DialContext),
		kgo.DefaultProduceTopic(r.Names.Input),
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
	for _, rec := range p.records {
		p.cl.Produce(ctx, rec, nil)
	}
	clear(p.records)
	p.records = p.records[:0]
	flushErr := p.cl.Flush(ctx)
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

func (p *txnProducer) close() { p.cl.Close() }

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
