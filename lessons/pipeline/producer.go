package pipeline

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/deposit"
	"github.com/kafka-delivery-lab/lab/lessons/faultconn"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// inFlight bounds the deposits handed to a client and not yet settled, so a
// million-deposit run holds a bounded number of records in memory.
const inFlight = 10_000

type producer interface {
	send(ctx context.Context, seq int) error
	flush(ctx context.Context) error
	close()
}

func depositRecord(r *Run, seq int) (key, value []byte) {
	id := deposit.ID(seq)
	return []byte(id), deposit.Deposit{ID: id, Amount: deposit.Amount, Run: r.Spec.RunID}.Encode()
}

// kafkaGoProducer is the at-most-once and at-least-once producer. kafka-go
// has no idempotent producer: a retry after a lost ack writes the deposit
// again.
type kafkaGoProducer struct {
	r     *Run
	w     *kafka.Writer
	tr    *kafka.Transport
	slots chan struct{}
	tries int
	buf   []kafka.Message // handed to the writer together: one call per batch, not per deposit
}

// handOver is how many deposits an unpaced producer hands to kafka-go per
// WriteMessages call; each call costs a partition lookup and a lock.
const handOver = 1000

func newKafkaGoProducer(r *Run) *kafkaGoProducer {
	acks, tries := kafka.RequireAll, 10
	if r.Spec.Guarantee == lessons.AtMostOnce {
		// At-most-once: the leader's ack and no retry, so a send is never
		// repeated (MaxAttempts counts the first try).
		acks, tries = kafka.RequireOne, 1
	}
	dialer := faultconn.NewDialer(faultconn.Config{Rule: r.nemesis.rule, OnFault: r.nemesis.onFault, Armed: r.nemesis.armed})
	p := &kafkaGoProducer{r: r, slots: make(chan struct{}, inFlight), tries: tries,
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
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	key, value := depositRecord(p.r, seq)
	p.r.emit(trace.Event{Actor: trace.Producer, Kind: trace.Send, ID: string(key), Attempt: 1, Topic: p.r.Names.Input, Offset: -1})
	p.buf = append(p.buf, kafka.Message{Key: key, Value: value})
	if len(p.buf) >= handOver || p.r.Pacer.Pace() > 0 || p.r.Pacer.Paused() {
		return p.handOver(ctx)
	}
	return nil
}

func (p *kafkaGoProducer) handOver(ctx context.Context) error {
	if len(p.buf) == 0 {
		return nil
	}
	err := p.w.WriteMessages(ctx, p.buf...)
	p.buf = make([]kafka.Message, 0, handOver) // the writer keeps the slice
	return err
}

// completed is kafka-go's per-batch callback: the producer's only word on
// whether its deposits were written.
func (p *kafkaGoProducer) completed(msgs []kafka.Message, err error) {
	for _, m := range msgs {
		if seq, ok := deposit.ParseID(string(m.Key)); ok {
			p.r.settle(seq, err, p.tries)
		}
		<-p.slots
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
	err     error
	pending []int // deposits in the open transaction
	size    int
}

func newTxnProducer(r *Run) *txnProducer {
	dialer := faultconn.NewDialer(faultconn.Config{Rule: r.nemesis.rule, OnFault: r.nemesis.onFault, Armed: r.nemesis.armed})
	p := &txnProducer{r: r, size: r.env.Tuning.TxnSize}
	p.cl, p.err = kgo.NewClient(append(fastRecovery(),
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
	return p
}

func (p *txnProducer) send(ctx context.Context, seq int) error {
	if p.err != nil {
		return p.err
	}
	if len(p.pending) == 0 {
		if err := p.cl.BeginTransaction(); err != nil {
			return err
		}
		p.r.emit(trace.Event{Actor: trace.Producer, Kind: trace.TxnBegin, Topic: p.r.Names.Input, Offset: -1})
	}
	key, value := depositRecord(p.r, seq)
	p.r.emit(trace.Event{Actor: trace.Producer, Kind: trace.Send, ID: string(key), Attempt: 1, Topic: p.r.Names.Input, Offset: -1})
	p.cl.Produce(ctx, &kgo.Record{Key: key, Value: value}, nil)
	p.pending = append(p.pending, seq)
	// A paced run commits every deposit on its own so each can be watched.
	if len(p.pending) >= p.size || p.r.Pacer.Pace() > 0 || p.r.Pacer.Paused() {
		return p.commit(ctx)
	}
	return nil
}

// commit ends the open transaction: committed if every record was written,
// aborted otherwise. Either way each deposit's outcome is then known.
func (p *txnProducer) commit(ctx context.Context) error {
	if len(p.pending) == 0 {
		return nil
	}
	flushErr := p.cl.Flush(ctx)
	commit := kgo.TryCommit
	if flushErr != nil {
		commit = kgo.TryAbort
	}
	endErr := p.cl.EndTransaction(ctx, commit)
	kind, settleErr := trace.TxnCommit, error(nil)
	if flushErr != nil || endErr != nil || commit == kgo.TryAbort {
		kind, settleErr = trace.TxnAbort, errors.Join(flushErr, endErr, errors.New("transaction aborted"))
	}
	p.r.emit(trace.Event{Actor: trace.Producer, Kind: kind, Topic: p.r.Names.Input, Offset: -1,
		Detail: strconv.Itoa(len(p.pending)) + " deposits"})
	for _, seq := range p.pending {
		p.r.settle(seq, settleErr, 1)
	}
	p.pending = p.pending[:0]
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return endErr
}

func (p *txnProducer) flush(ctx context.Context) error {
	if p.err != nil {
		return p.err
	}
	return p.commit(ctx)
}

func (p *txnProducer) close() {
	if p.cl != nil {
		p.cl.Close()
	}
}

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
