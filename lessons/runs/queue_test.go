package runs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons"
)

// lesson is a light run's request: a lesson's deposits at human pace,
// started paused so that it holds its share of the budget until resumed.
func lesson(client string) Request {
	return Request{RunParams: lessons.RunParams{Guarantee: lessons.AtLeastOnce, Fault: lessons.NoFault, Messages: intp(20), PaceMs: intp(100)},
		StartPaused: true, Client: client}
}

// fullSpeed is a CPU-bound run's request.
func fullSpeed(client string) Request {
	return Request{RunParams: lessons.RunParams{Guarantee: lessons.ExactlyOnce, Fault: lessons.NoFault, Messages: intp(2000)}, Client: client}
}

func mustStart(t *testing.T, g *Registry, req Request) *Run {
	t.Helper()
	r, err := g.Start(req)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func queuedAt(t *testing.T, r *Run, want int) {
	t.Helper()
	st := r.Status()
	if st.State != Queued || st.QueuePosition == nil || *st.QueuePosition != want {
		t.Fatalf("run %s: state %s, queue position %v; want queued with %d ahead", r.ID, st.State, st.QueuePosition, want)
	}
}

// TestQueueBudgetsByWork: light runs share a full-speed slot; a run that
// does not fit waits its turn, first come first served, cannot be driven
// but can be cancelled, and starts by itself once enough work has ended.
func TestQueueBudgetsByWork(t *testing.T) {
	g := newRegistry(t, Config{MaxConcurrent: 1, LightPerSlot: 3, MaxQueue: 8})
	var light []*Run
	for range 3 {
		r := mustStart(t, g, lesson("a"))
		if st := r.Status(); st.State != Running || st.QueuePosition != nil {
			t.Fatalf("a light run within the budget: %+v", st)
		}
		light = append(light, r)
	}
	fourth := mustStart(t, g, lesson("b"))
	queuedAt(t, fourth, 0)
	full := mustStart(t, g, fullSpeed("c"))
	queuedAt(t, full, 1)
	if g.Queued() != 2 || g.Active() != 3 {
		t.Fatalf("queued %d, active %d; want 2 and 3", g.Queued(), g.Active())
	}

	for _, c := range []Control{{Action: "pause"}, {Action: "resume"}, {Action: "step"}, {Action: "fault", Fault: lessons.ProcessorCrash}} {
		if err := fourth.Apply(fourth.Token(), c); !errors.Is(err, ErrQueued) {
			t.Fatalf("%s on a queued run: %v, want ErrQueued", c.Action, err)
		}
	}
	if err := fourth.Cancel("wrong"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("cancel without the token: %v", err)
	}
	if err := fourth.Cancel(fourth.Token()); err != nil {
		t.Fatal(err)
	}
	if st := wait(t, fourth); st.State != Failed || st.Error == nil || !strings.Contains(*st.Error, "before it started") {
		t.Fatalf("a cancelled queued run: %+v", st)
	}
	queuedAt(t, full, 0)

	// The full-speed run needs the whole slot: it waits while any light
	// run is left.
	for i, r := range light {
		if err := r.Apply(r.Token(), Control{Action: "resume"}); err != nil {
			t.Fatal(err)
		}
		if st := wait(t, r); st.State != Done || st.Result.Balance != 20 {
			t.Fatalf("light run: %+v", st)
		}
		if i < len(light)-1 {
			queuedAt(t, full, 0)
		}
	}
	if st := wait(t, full); st.State != Done || st.Result.Balance != 2000 || st.Result.Verdict != "held" {
		t.Fatalf("the queued full-speed run: %+v (error %v)", st, st.Error)
	}
	if full.Waited() <= 0 {
		t.Fatal("the queued run's wait was not measured")
	}
	if g.Queued() != 0 || g.Active() != 0 {
		t.Fatalf("after all: queued %d, active %d", g.Queued(), g.Active())
	}
}

// TestQueueIsBounded: past its length the queue refuses with
// ErrQueueFull, and one client may hold a quarter of it (ErrFairShare)
// while others still get in.
func TestQueueIsBounded(t *testing.T) {
	g := newRegistry(t, Config{MaxConcurrent: 1, LightPerSlot: 1, MaxQueue: 8})
	mustStart(t, g, lesson("busy")) // takes the one slot, paused
	mustStart(t, g, lesson("a"))
	mustStart(t, g, lesson("a"))
	if _, err := g.Start(lesson("a")); !errors.Is(err, ErrFairShare) {
		t.Fatalf("a third queued run of one client with a queue of 8: %v, want ErrFairShare", err)
	}
	if _, err := g.Compare(lessons.NoFault, intp(5), "b"); !errors.Is(err, ErrFairShare) {
		t.Fatalf("a compare (three runs) past a client's share of 2: %v", err)
	}
	for _, c := range []string{"b", "b", "c", "c", "d", "d"} {
		mustStart(t, g, lesson(c))
	}
	if _, err := g.Start(lesson("e")); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("a ninth queued run: %v, want ErrQueueFull", err)
	}
	if g.Queued() != 8 {
		t.Fatalf("queued %d, want 8", g.Queued())
	}
}

// TestNoQueue: with MaxQueue 0 a run that does not fit is refused at
// once, as before the queue.
func TestNoQueue(t *testing.T) {
	g := newRegistry(t, Config{MaxConcurrent: 1})
	mustStart(t, g, lesson("a"))
	if _, err := g.Start(lesson("b")); !errors.Is(err, ErrBusy) {
		t.Fatalf("%v, want ErrBusy", err)
	}
}

// TestSpeedingUpTakesASlot: a light run sped up below LightPaceMs is
// charged as a full-speed run, or refused when no slot is free.
func TestSpeedingUpTakesASlot(t *testing.T) {
	g := newRegistry(t, Config{MaxConcurrent: 1, LightPerSlot: 2, MaxQueue: 4})
	req := lesson("a")
	req.Messages = intp(500)
	a, b := mustStart(t, g, req), mustStart(t, g, req)
	if err := a.Apply(a.Token(), Control{Action: "pace", PaceMs: intp(0)}); !errors.Is(err, ErrNoRoom) {
		t.Fatalf("speeding up with the slot shared: %v, want ErrNoRoom", err)
	}
	if err := a.Apply(a.Token(), Control{Action: "pace", PaceMs: intp(LightPaceMs)}); err != nil {
		t.Fatalf("a light pace: %v", err)
	}
	if err := b.Cancel(b.Token()); err != nil {
		t.Fatal(err)
	}
	wait(t, b)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		err := a.Apply(a.Token(), Control{Action: "pace", PaceMs: intp(0)})
		if err == nil {
			break
		}
		if !errors.Is(err, ErrNoRoom) || time.Now().After(deadline) {
			t.Fatalf("speeding up alone: %v", err)
		}
	}
	if _, err := g.Start(lesson("c")); err != nil {
		t.Fatal(err)
	}
	if g.Queued() != 1 {
		t.Fatal("a sped-up run must hold the whole slot")
	}
}

// TestShutdownEndsQueuedRuns: a queued run ends failed with a reason when
// the lab stops; it never starts.
func TestShutdownEndsQueuedRuns(t *testing.T) {
	g := New(newRegistry(t, Config{}).env, Config{MaxConcurrent: 1, MaxQueue: 4})
	mustStart(t, g, lesson("a"))
	q := mustStart(t, g, lesson("a"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if st := wait(t, q); st.State != Failed || st.Error == nil || !strings.Contains(*st.Error, "before this run started") {
		t.Fatalf("a queued run at shutdown: %+v", st)
	}
}
