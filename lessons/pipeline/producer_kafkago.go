package pipeline

// The kafka-go producer, at-most-once and at-least-once, and its stopAt transport.

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/deposit"
	"github.com/kafka-delivery-lab/lab/lessons/faultconn"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

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

// dialTimeout is the producer transport's handshake wait: 5 s, or
// follower-down's longer one (transportWaits).
func dialTimeout(r *Run) time.Duration {
	if d, _ := transportWaits(r); d > 0 {
		return d
	}
	return 5 * time.Second
}

// handOver is how many deposits an unpaced producer hands to kafka-go per
// WriteMessages call; each call costs a partition lookup and a lock.
const handOver = 1000

// kafkaGoAcks is how a kafka-go writer of recipe r waits and retries.
// MaxAttempts counts the first try, so 1 never repeats a send. A zero
// kafka.Writer has RequireNone (acks=0): always set it.
func kafkaGoAcks(r lessons.Recipe) (kafka.RequiredAcks, int) {
	switch r.Acks {
	case lessons.AcksAll:
		return kafka.RequireAll, r.Attempts
	case lessons.AcksNone:
		return kafka.RequireNone, r.Attempts
	}
	return kafka.RequireOne, r.Attempts
}

// kafkaGoBackoff is how long a kafka-go writer waits between attempts:
// attempt² × the minimum, up to the maximum. 10 ms gives 10, 40, 90 … ms;
// with Tuning.ProducerBackoff, 100 ms gives 0.1, 0.4, 0.9, 1.6, then 2 s
// each, so 10 attempts outlast a leader's election.
func kafkaGoBackoff(t Tuning) (minWait, maxWait time.Duration) {
	if t.ProducerBackoff > 0 {
		return 100 * time.Millisecond, t.ProducerBackoff
	}
	return 10 * time.Millisecond, 200 * time.Millisecond
}

func newKafkaGoProducer(r *Run) *kafkaGoProducer {
	_, ttl := transportWaits(r)
	acks, tries := kafkaGoAcks(r.recipe)
	dialer := faultconn.NewDialer(faultconn.Config{Rule: r.nemesis.rule, OnFault: r.nemesis.onFault, Armed: r.nemesis.armed})
	p := &kafkaGoProducer{r: r, tries: tries, sends: r.Log.Batch(), ackEvs: r.Log.Batch(), settledCh: make(chan struct{}, 1),
		tr: &kafka.Transport{Dial: dialer.DialContext, DialTimeout: dialTimeout(r), MetadataTTL: ttl}}
	backoffMin, backoffMax := kafkaGoBackoff(r.env.Tuning)
	p.w = &kafka.Writer{
		Addr:         kafka.TCP(r.env.Brokers...),
		Topic:        r.Names.Input,
		Balancer:     accountBalancer{},
		RequiredAcks: acks,
		MaxAttempts:  tries,
		// A zero Writer waits up to 1 s to fill a batch of 100; a run
		// wants batches as soon as deposits are there.
		BatchSize:       1000,
		BatchTimeout:    2 * time.Millisecond,
		WriteBackoffMin: backoffMin,
		WriteBackoffMax: backoffMax,
		ReadTimeout:     r.env.Tuning.RequestTimeout,
		WriteTimeout:    r.env.Tuning.RequestTimeout,
		Async:           true,
		Completion:      p.completed,
		Transport:       p.tr,
	}
	if f, _ := lessons.LookupFault(r.Spec.Fault); f.Needs == lessons.NeedsCluster {
		// The brokers' own errors, attempt by attempt: what a cluster
		// fault shows the producer.
		p.w.ErrorLogger = attemptLog{r: r, tries: tries}
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

func (p *kafkaGoProducer) settle(ctx context.Context) error {
	if err := p.handOver(ctx); err != nil {
		return err
	}
	for p.unsettled.Load() > 0 {
		select {
		case <-p.settledCh:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
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

// stopAt is a kafka-go RoundTripper that refuses every request once done is
// closed, with an error kafka-go does not retry.
type stopAt struct {
	kafka.RoundTripper
	done <-chan struct{}
}

var errRunOver = errors.New("the run is over: not sent")

func (s stopAt) RoundTrip(ctx context.Context, addr net.Addr, req kafka.Request) (kafka.Response, error) {
	select {
	case <-s.done:
		return nil, errRunOver // not temporary: kafka-go gives the batch up
	default:
		return s.RoundTripper.RoundTrip(ctx, addr, req)
	}
}
