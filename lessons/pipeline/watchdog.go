package pipeline

// The broker watchdog: a run whose broker stays gone ends failed.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons/broker"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// A run whose broker stops answering ends failed after brokerGone instead
// of retrying until its deadline: the clients retry on their own, so only
// a broker that is gone for longer than a restart or a leader election
// ends the run.
const (
	brokerGone       = 15 * time.Second
	brokerCheckEvery = time.Second
	brokerCheckWait  = 2 * time.Second
)

type brokerGoneError struct {
	brokers []string
	down    time.Duration
	last    error
}

func (e *brokerGoneError) Error() string {
	return fmt.Sprintf("the broker (%s) stopped answering for %s (last error: %v): the run cannot go on; check that the broker is running, then start a new run",
		strings.Join(e.brokers, ", "), e.down.Round(time.Second), e.last)
}

// watchBroker asks the broker for its metadata every brokerCheckEvery while
// the run makes no progress, and cancels the run once the broker has not
// answered for brokerGone. It has a client of its own, so that each check
// (broker.Ping) is a round trip of its own and involves
// neither the run's group nor its topics.
func (r *Run) watchBroker(ctx context.Context, cancel context.CancelCauseFunc) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(r.env.Brokers...), kgo.RequestRetries(1))
	if err != nil {
		return // bad addresses: the stages say so
	}
	defer cl.Close()
	t := time.NewTicker(brokerCheckEvery)
	defer t.Stop()
	var downSince time.Time
	// What only an answering broker moves forward (sends go on without it).
	answered := func() [3]int64 {
		p := r.Progress.View()
		return [3]int64{p.Acked, p.Credited, p.Committed}
	}
	last := answered()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if p := answered(); p != last {
			last, downSince = p, time.Time{}
			continue
		}
		c, done := context.WithTimeout(ctx, brokerCheckWait)
		err := broker.Ping(c, cl)
		done()
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			if !downSince.IsZero() {
				r.emit(trace.Event{Actor: trace.Broker, Kind: trace.Lifecycle, Offset: -1, Detail: "the broker answers again"})
			}
			downSince = time.Time{}
		case downSince.IsZero():
			downSince = time.Now()
			r.emit(trace.Event{Actor: trace.Broker, Kind: trace.Lifecycle, Offset: -1,
				Detail: fmt.Sprintf("the broker does not answer (%v); the run ends failed if it stays away for %s", err, brokerGone)})
		case time.Since(downSince) >= brokerGone:
			cancel(&brokerGoneError{brokers: r.env.Brokers, down: time.Since(downSince), last: err})
			return
		}
	}
}

// offsetsEvery is how often a drawn run's input watermarks are read.
const offsetsEvery = 100 * time.Millisecond

// watermarks are the last high watermark and LSO a drawn run's trace got.
type watermarks struct{ hw, lso int64 }

// watchOffsets puts the input topic's high watermark and last stable
// offset of each partition on the trace whenever either moved, until ctx
// ends, and once more at the end: what the broker would let a
// read_uncommitted and a read_committed reader read. Two ListOffsets
// requests per tick, for drawn runs only.
func (r *Run) watchOffsets(ctx context.Context, final context.Context) {
	t := time.NewTicker(offsetsEvery)
	defer t.Stop()
	last := make([]watermarks, r.partitions())
	for p := range last {
		last[p] = watermarks{-1, -1}
	}
	for {
		r.readWatermarks(ctx, last)
		select {
		case <-ctx.Done():
			r.readWatermarks(final, last)
			return
		case <-t.C:
		}
	}
}

// readWatermarks reads them once, and emits each partition's if they
// moved.
func (r *Run) readWatermarks(ctx context.Context, last []watermarks) {
	c, done := context.WithTimeout(ctx, time.Second)
	defer done()
	// The LSO first: both only grow, and the LSO is never above the high
	// watermark, so an LSO read before the high watermark never shows
	// above it, as it could read after.
	lso, err2 := r.env.Admin.ListCommittedOffsets(c, r.Names.Input)
	hw, err1 := r.env.Admin.ListEndOffsets(c, r.Names.Input)
	if err1 != nil || err2 != nil {
		return // the next tick tries again; the watchdog judges the broker
	}
	for p := range last {
		h, ok1 := hw.Lookup(r.Names.Input, int32(p))
		l, ok2 := lso.Lookup(r.Names.Input, int32(p))
		if !ok1 || !ok2 || h.Err != nil || l.Err != nil || (watermarks{h.Offset, l.Offset}) == last[p] {
			continue
		}
		last[p] = watermarks{h.Offset, l.Offset}
		stable := l.Offset
		r.emit(trace.Event{Actor: trace.Broker, Kind: trace.Watermarks, Topic: r.Names.Input, Partition: int32(p), Offset: h.Offset, LSO: &stable})
	}
}
