package faultconn_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons/faultconn"
)

const topic = "orders"

// TestMain fails the run if goroutines of the clients, the broker or this
// package outlive the tests: every client, writer, transport and broker
// must be closed.
func TestMain(m *testing.M) {
	code := m.Run()
	deadline := time.Now().Add(5 * time.Second)
	for code == 0 {
		leaked := leakedGoroutines()
		if len(leaked) == 0 {
			break
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "goroutines leaked:\n\n%s\n", strings.Join(leaked, "\n\n"))
			code = 1
		}
		time.Sleep(10 * time.Millisecond)
	}
	os.Exit(code)
}

func leakedGoroutines() []string {
	buf := make([]byte, 1<<20)
	stacks := strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n")
	var leaked []string
	for _, s := range stacks[1:] { // the first is this goroutine
		if strings.Contains(s, "franz-go") || strings.Contains(s, "kafka-go") || strings.Contains(s, "lessons/faultconn") {
			leaked = append(leaked, s)
		}
	}
	return leaked
}

var sentKeys = []string{"k0", "k1", "k2"}

// startBroker starts an in-process kfake broker holding topic, one
// partition so that one Produce request carries all the records.
func startBroker(t *testing.T, opts ...kfake.Opt) (*kfake.Cluster, string) {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := c.CreateTopic(topic, 1, nil); err != nil {
		t.Fatal(err)
	}
	return c, c.ListenAddrs()[0]
}

// faultOnce drops the first Produce that carries records, then passes.
type faultOnce struct {
	action faultconn.Action

	fired atomic.Bool
	mu    sync.Mutex
	seen  []faultconn.Produce // Produce requests the fault hit
	at    time.Time           // when OnFault was called
}

func (f *faultOnce) config() faultconn.Config {
	return faultconn.Config{
		Rule: func(p *faultconn.Produce) faultconn.Action {
			if len(p.Keys) > 0 && f.fired.CompareAndSwap(false, true) {
				return f.action
			}
			return faultconn.Pass
		},
		OnFault: func(a faultconn.Action, p *faultconn.Produce) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if a != f.action {
				panic(fmt.Sprintf("OnFault(%v), want %v", a, f.action))
			}
			f.seen = append(f.seen, *p)
			f.at = time.Now()
		},
	}
}

// check asserts the fault hit exactly once, on the Produce carrying the
// keys sent, and returns when it did.
func (f *faultOnce) check(t *testing.T) time.Time {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.seen) != 1 {
		t.Fatalf("OnFault called %d times, want once", len(f.seen))
	}
	if p := f.seen[0]; !slices.Equal(p.Keys, sentKeys) || p.Acks != -1 {
		t.Fatalf("fault hit Produce with keys %q acks %d, want keys %q acks -1", p.Keys, p.Acks, sentKeys)
	}
	return f.at
}

// storedKeys reads the partition back with a plain client and returns the
// keys of every record the broker holds.
func storedKeys(t *testing.T, c *kfake.Cluster, addr string) []string {
	t.Helper()
	hwm := c.PartitionInfo(topic, 0).HighWatermark
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var keys []string
	for int64(len(keys)) < hwm {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %d of %d records: %v", len(keys), hwm, err)
		}
		fs.EachRecord(func(r *kgo.Record) { keys = append(keys, string(r.Key)) })
	}
	return keys
}

func records() []*kgo.Record {
	var rs []*kgo.Record
	for _, k := range sentKeys {
		rs = append(rs, &kgo.Record{Key: []byte(k), Value: []byte("value of " + k)})
	}
	return rs
}

func messages() []kafka.Message {
	var ms []kafka.Message
	for _, k := range sentKeys {
		ms = append(ms, kafka.Message{Key: []byte(k), Value: []byte("value of " + k)})
	}
	return ms
}

// fastRetry is the kgo backoff the lab uses: the default backoff starts
// around 250ms.
func fastRetry(int) time.Duration { return 10 * time.Millisecond }

// produceKgo produces the three records through a dialer with fault and
// returns how long the client took to succeed after the fault.
func produceKgo(t *testing.T, addr string, f *faultOnce, opts ...kgo.Opt) time.Duration {
	t.Helper()
	d := faultconn.NewDialer(f.config())
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(addr),
		kgo.Dialer(d.DialContext),
		kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(kgo.NoCompression()), // keys stay readable on the wire
		kgo.ProducerLinger(50 * time.Millisecond),         // one batch, one Produce
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, records()...).FirstErr(); err != nil {
		t.Fatalf("ProduceSync: %v", err)
	}
	return time.Since(f.check(t))
}

// TestKgoRetryDuplicates: without idempotence, kgo cannot tell a lost
// response from a lost request and sends the batch again: the broker, which
// appended the first copy, appends a second.
func TestKgoRetryDuplicates(t *testing.T) {
	c, addr := startBroker(t)
	f := &faultOnce{action: faultconn.DropResponse}
	took := produceKgo(t, addr, f, kgo.DisableIdempotentWrite(), kgo.RetryBackoffFn(fastRetry))
	t.Logf("kgo, not idempotent: produced %v after the response was dropped", took)
	if got, want := storedKeys(t, c, addr), append(slices.Clone(sentKeys), sentKeys...); !slices.Equal(got, want) {
		t.Fatalf("topic holds %q, want the batch twice: %q", got, want)
	}
}

// TestKgoIdempotentNoDuplicates: the idempotent producer resends the batch
// with the same producer id and sequence number, and the broker recognizes
// it as the one it already appended.
func TestKgoIdempotentNoDuplicates(t *testing.T) {
	c, addr := startBroker(t)
	f := &faultOnce{action: faultconn.DropResponse}
	took := produceKgo(t, addr, f, kgo.RetryBackoffFn(fastRetry))
	t.Logf("kgo, idempotent: produced %v after the response was dropped", took)
	if got := storedKeys(t, c, addr); !slices.Equal(got, sentKeys) {
		t.Fatalf("topic holds %q, want %q exactly once", got, sentKeys)
	}
}

// TestKgoRecoveryOptions measures how long kgo takes to succeed after a
// dropped response under its default retry backoff and a short one. The
// reset itself is noticed at once; what remains is backoff.
func TestKgoRecoveryOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []kgo.Opt
		max  time.Duration
	}{
		{"default backoff", nil, 2 * time.Second},
		{"RetryBackoffFn 10ms", []kgo.Opt{kgo.RetryBackoffFn(fastRetry)}, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, addr := startBroker(t)
			took := produceKgo(t, addr, &faultOnce{action: faultconn.DropResponse}, tc.opts...)
			t.Logf("kgo with %s: produced %v after the response was dropped", tc.name, took)
			if took > tc.max {
				t.Fatalf("recovery took %v, want under %v", took, tc.max)
			}
		})
	}
}

// writeKafkaGo writes the three messages with kafka-go through a dialer
// with fault, returning WriteMessages' error and how long after the fault
// it returned.
func writeKafkaGo(t *testing.T, addr string, f *faultOnce, maxAttempts int, opts ...func(*kafka.Writer)) (time.Duration, error) {
	t.Helper()
	d := faultconn.NewDialer(f.config())
	tr := &kafka.Transport{Dial: d.DialContext}
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{
		Addr:         kafka.TCP(addr),
		Topic:        topic,
		RequiredAcks: kafka.RequireAll,
		MaxAttempts:  maxAttempts,
		BatchTimeout: 5 * time.Millisecond,
		Transport:    tr,
	}
	for _, o := range opts {
		o(w)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := w.WriteMessages(ctx, messages()...)
	return time.Since(f.check(t)), err
}

// allReset reports whether kafka-go failed every message with the reset.
func allReset(err error) bool {
	var errs kafka.WriteErrors
	if !errors.As(err, &errs) || errs.Count() != len(errs) {
		return false
	}
	for _, err := range errs {
		if !errors.Is(err, syscall.ECONNRESET) {
			return false
		}
	}
	return true
}

// TestKafkaGoLostResponse: kafka-go has no idempotent producer. Retrying
// after a lost response duplicates the batch; giving up reports an error
// for records the broker did write.
func TestKafkaGoLostResponse(t *testing.T) {
	t.Run("MaxAttempts 3 duplicates", func(t *testing.T) {
		c, addr := startBroker(t)
		took, err := writeKafkaGo(t, addr, &faultOnce{action: faultconn.DropResponse}, 3)
		if err != nil {
			t.Fatalf("WriteMessages: %v", err)
		}
		t.Logf("kafka-go: wrote %v after the response was dropped", took)
		if got, want := storedKeys(t, c, addr), append(slices.Clone(sentKeys), sentKeys...); !slices.Equal(got, want) {
			t.Fatalf("topic holds %q, want the batch twice: %q", got, want)
		}
	})
	t.Run("MaxAttempts 1 errs yet wrote", func(t *testing.T) {
		c, addr := startBroker(t)
		_, err := writeKafkaGo(t, addr, &faultOnce{action: faultconn.DropResponse}, 1)
		if !allReset(err) {
			t.Fatalf("WriteMessages: %v, want every message failed by the reset", err)
		}
		if got := storedKeys(t, c, addr); !slices.Equal(got, sentKeys) {
			t.Fatalf("topic holds %q, want the %q the writer reported failed", got, sentKeys)
		}
	})
}

// TestKafkaGoLostRequest: a lost request is safe to retry; without a retry
// the records are lost and the error says so truthfully.
func TestKafkaGoLostRequest(t *testing.T) {
	t.Run("MaxAttempts 1 loses", func(t *testing.T) {
		c, addr := startBroker(t)
		_, err := writeKafkaGo(t, addr, &faultOnce{action: faultconn.DropRequest}, 1)
		if !allReset(err) {
			t.Fatalf("WriteMessages: %v, want every message failed by the reset", err)
		}
		if got := storedKeys(t, c, addr); len(got) != 0 {
			t.Fatalf("topic holds %q, want nothing", got)
		}
	})
	t.Run("MaxAttempts 3 delivers once", func(t *testing.T) {
		c, addr := startBroker(t)
		took, err := writeKafkaGo(t, addr, &faultOnce{action: faultconn.DropRequest}, 3)
		if err != nil {
			t.Fatalf("WriteMessages: %v", err)
		}
		t.Logf("kafka-go: wrote %v after the request was dropped", took)
		if got := storedKeys(t, c, addr); !slices.Equal(got, sentKeys) {
			t.Fatalf("topic holds %q, want %q once", got, sentKeys)
		}
	})
}

// TestKafkaGoRecoveryOptions measures how long kafka-go takes to succeed
// after a dropped response: the reset is noticed at once, then the writer
// backs off WriteBackoffMin (100ms by default) before its next attempt.
func TestKafkaGoRecoveryOptions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		backoff time.Duration
		max     time.Duration
	}{
		{"default backoff", 0, 2 * time.Second},
		{"WriteBackoffMin 10ms", 10 * time.Millisecond, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, addr := startBroker(t)
			took, err := writeKafkaGo(t, addr, &faultOnce{action: faultconn.DropResponse}, 3,
				func(w *kafka.Writer) { w.WriteBackoffMin = tc.backoff })
			if err != nil {
				t.Fatalf("WriteMessages: %v", err)
			}
			t.Logf("kafka-go with %s: wrote %v after the response was dropped", tc.name, took)
			if took > tc.max {
				t.Fatalf("recovery took %v, want under %v", took, tc.max)
			}
		})
	}
}

// TestSeverKillsGroupMember: Sever resets a consumer's connections and
// refuses its dials, so it cannot send LeaveGroup; the broker drops the
// member only when its session times out.
func TestSeverKillsGroupMember(t *testing.T) {
	const group = "lab-group"
	c, addr := startBroker(t, kfake.GroupMinSessionTimeout(100*time.Millisecond))
	d := faultconn.NewDialer(faultconn.Config{})
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.Dialer(d.DialContext),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.SessionTimeout(500*time.Millisecond),
		kgo.HeartbeatInterval(100*time.Millisecond),
		kgo.RetryBackoffFn(fastRetry),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	polling := make(chan struct{})
	go func() {
		defer close(polling)
		for ctx.Err() == nil && !cl.PollFetches(ctx).IsClientClosed() {
		}
	}()
	defer func() { cancel(); <-polling }()
	if _, err := c.WaitGroupStable(ctx, group, 1); err != nil {
		t.Fatalf("consumer never joined: %v", err)
	}

	open, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()

	severed := time.Now()
	d.Sever()

	open.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := open.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) || !errors.Is(err, faultconn.ErrCrashed) {
		t.Fatalf("Read on a connection open before Sever: %v, want a reset by the crash", err)
	}
	if _, err := d.DialContext(ctx, "tcp", addr); !errors.Is(err, faultconn.ErrCrashed) {
		t.Fatalf("dial after Sever: %v, want ErrCrashed", err)
	}
	g, err := c.WaitGroupInfo(ctx, group, func(g *kfake.GroupInfo) bool { return g != nil && len(g.Members) == 0 })
	if err != nil {
		t.Fatalf("the broker kept the member: %+v, %v", g, err)
	}
	t.Logf("broker evicted the severed member %v after Sever (session timeout 500ms)", time.Since(severed))
}
