package pipeline

// A custom run's idempotent producer without transactions: franz-go.

import (
	"context"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/faultconn"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// idempotentProducer is franz-go with idempotence and no transactional id:
// every batch carries the producer id and a sequence number, so the broker
// drops a retry of a batch it has already appended; each record is its own
// commitment, visible to every reader at once.
type idempotentProducer struct {
	r     *Run
	cl    *kgo.Client
	sends *trace.Batch
	mu    sync.Mutex // promises run on franz-go's goroutines
	acks  *trace.Batch
}

func newIdempotentProducer(r *Run) (*idempotentProducer, error) {
	dialer := faultconn.NewDialer(faultconn.Config{Rule: r.nemesis.rule, OnFault: r.nemesis.onFault, Armed: r.nemesis.armed})
	cl, err := kgo.NewClient(append(append(fastRecovery(), franzGoProducerOpts(r.recipe)...),
		kgo.SeedBrokers(r.env.Brokers...),
		kgo.Dialer(dialer.DialContext),
		kgo.DefaultProduceTopic(r.Names.Input),
		kgo.MaxBufferedRecords(inFlight),
		kgo.ProducerLinger(2*time.Millisecond),
		// Uncompressed, so the fault injector sees which deposits a
		// request carries (see newTxnProducer).
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		accountPartitioner(),
	)...)
	if err != nil {
		return nil, err
	}
	return &idempotentProducer{r: r, cl: cl, sends: r.Log.Batch(), acks: r.Log.Batch()}, nil
}

func (p *idempotentProducer) send(ctx context.Context, seq int) error {
	id, key, value := depositRecord(p.r, seq)
	p.sends.Add(trace.Event{Actor: trace.Producer, Kind: trace.Send, ID: id, Attempt: 1, Topic: p.r.Names.Input, Offset: -1})
	p.r.sent([]int{seq})
	p.sends.Emit()
	// Produce blocks while MaxBufferedRecords are unsettled: the bound.
	p.cl.Produce(ctx, &kgo.Record{Key: key, Value: value}, func(_ *kgo.Record, err error) {
		p.mu.Lock()
		p.r.settle([]int{seq}, err, p.r.recipe.Attempts, p.acks)
		p.mu.Unlock()
	})
	return ctx.Err()
}

// flush waits for every record's promise.
func (p *idempotentProducer) flush(ctx context.Context) error { return p.cl.Flush(ctx) }

// settle waits until every record handed to the client is settled: the
// client's buffer is all of them.
func (p *idempotentProducer) settle(ctx context.Context) error { return p.cl.Flush(ctx) }

func (p *idempotentProducer) close() { p.cl.Close() }

// franzGoProducerOpts are a recipe's retries for a franz-go producer; a
// preset's recipe leaves them at franz-go's default, retrying until the
// delivery timeout. An idempotent franz-go producer does not give up a
// record already sent when its retries run out (it could not tell a
// rewrite from a first write afterwards): it waits for its outcome.
func franzGoProducerOpts(r lessons.Recipe) []kgo.Opt {
	if r.Attempts > 0 {
		return []kgo.Opt{kgo.RecordRetries(r.Attempts - 1)}
	}
	return nil
}

// franzGoIsolation is a franz-go processor's fetch isolation.
func franzGoIsolation(r lessons.Recipe) kgo.IsolationLevel {
	if r.Isolation == lessons.ReadCommitted {
		return kgo.ReadCommitted()
	}
	return kgo.ReadUncommitted()
}
