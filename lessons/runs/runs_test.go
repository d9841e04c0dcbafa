package runs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/broker"
	"github.com/kafka-delivery-lab/lab/lessons/broker/brokertest"
	"github.com/kafka-delivery-lab/lab/lessons/pipeline"
	"github.com/kafka-delivery-lab/lab/lessons/text"
)

var testBroker *broker.Broker

func TestMain(m *testing.M) {
	var err error
	testBroker, err = brokertest.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	testBroker.Close()
	os.Exit(code)
}

func newRegistry(t *testing.T, cfg Config) *Registry {
	g := New(pipeline.Env{Brokers: testBroker.Addrs(), Admin: testBroker.Admin()}, cfg)
	t.Cleanup(func() { _ = g.Shutdown(context.Background()) })
	return g
}

func wait(t *testing.T, r *Run) Status {
	t.Helper()
	select {
	case <-r.Done:
	case <-time.After(60 * time.Second):
		t.Fatal("run did not end")
	}
	return r.Status()
}

func intp(n int) *int { return &n }

// TestRetentionDeletesTopics: a finished run stays readable for its
// retention, then it and its topics are gone.
func TestRetentionDeletesTopics(t *testing.T) {
	g := newRegistry(t, Config{Retention: 300 * time.Millisecond})
	r, err := g.Start(Request{RunParams: lessons.RunParams{Guarantee: lessons.AtLeastOnce, Fault: lessons.NoFault, Messages: intp(20)}})
	if err != nil {
		t.Fatal(err)
	}
	st := wait(t, r)
	if st.State != Done || st.Result == nil || st.Result.Balance != 20 {
		t.Fatalf("status %+v", st)
	}
	ctx := context.Background()
	topics, err := testBroker.Admin().ListTopics(ctx, st.Topics.Input, st.Topics.Ledger)
	if err != nil || len(topics) != 2 || topics.Error() != nil {
		t.Fatalf("topics right after the run: %v %v", topics, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, known := g.Get(r.ID)
		topics, _ = testBroker.Admin().ListTopics(ctx, st.Topics.Input, st.Topics.Ledger)
		if !known && !topics.Has(st.Topics.Input) && !topics.Has(st.Topics.Ledger) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after retention: run known %v, topics %v", known, topics.Names())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCompareStartsAllOrNone(t *testing.T) {
	g := newRegistry(t, Config{MaxConcurrent: 2})
	if _, err := g.Compare(lessons.NoFault, intp(10), ""); !errors.Is(err, ErrBusy) {
		t.Fatalf("three runs on two slots: %v", err)
	}
	if g.Active() != 0 {
		t.Fatal("a refused compare must start nothing")
	}
	g = newRegistry(t, Config{MaxConcurrent: 3})
	started, err := g.Compare(lessons.ProduceAckLost, intp(50), "")
	if err != nil || len(started) != 3 {
		t.Fatalf("compare: %v %v", started, err)
	}
	dup := wait(t, started[lessons.AtLeastOnce]).Result.Duplicated
	if exact := wait(t, started[lessons.ExactlyOnce]).Result; exact.Duplicated != 0 || exact.Lost != 0 || dup < 1 {
		t.Fatalf("same fault: at-least-once duplicated %d, exactly-once %+v", dup, exact)
	}
	wait(t, started[lessons.AtMostOnce])
}

// TestShutdownFailsRunsWithAReason: runs cut short end failed, with a
// sentence saying why, and no new run is accepted.
func TestShutdownFailsRunsWithAReason(t *testing.T) {
	g := New(pipeline.Env{Brokers: testBroker.Addrs(), Admin: testBroker.Admin()}, Config{})
	r, err := g.Start(Request{RunParams: lessons.RunParams{Guarantee: lessons.ExactlyOnce, Fault: lessons.NoFault, Messages: intp(1000), PaceMs: intp(10)}})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	st := r.Status()
	if st.State != Failed || st.Error == nil || !strings.Contains(*st.Error, "shut down") {
		t.Fatalf("status after shutdown: %+v", st)
	}
	if _, err := g.Start(Request{RunParams: lessons.RunParams{Guarantee: lessons.ExactlyOnce, Fault: lessons.NoFault}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("start after shutdown: %v", err)
	}
}

func TestDeadlineGrowsWithSizeAndPace(t *testing.T) {
	small := deadline(Request{RunParams: lessons.RunParams{Messages: intp(1), PaceMs: intp(0)}})
	big := deadline(Request{RunParams: lessons.RunParams{Messages: intp(lessons.MaxMessages), PaceMs: intp(0)}})
	paced := deadline(Request{RunParams: lessons.RunParams{Messages: intp(100), PaceMs: intp(lessons.MaxPaceMs)}})
	if small < time.Minute || big <= small || paced < 100*lessons.MaxPaceMs*time.Millisecond || big > 3*time.Hour {
		t.Fatalf("deadlines: %v %v %v", small, big, paced)
	}
}

// TestDeadlineEndsARun: a run still going at its deadline ends failed,
// with a sentence saying so, soon after it.
func TestDeadlineEndsARun(t *testing.T) {
	g := newRegistry(t, Config{Deadline: func(Request) time.Duration { return 700 * time.Millisecond }})
	began := time.Now()
	// 100 deposits at 100 ms each would take 10 s.
	r, err := g.Start(Request{RunParams: lessons.RunParams{Guarantee: lessons.AtLeastOnce, Fault: lessons.NoFault, Messages: intp(100), PaceMs: intp(100)}})
	if err != nil {
		t.Fatal(err)
	}
	st := wait(t, r)
	if st.State != Failed || st.Error == nil || !strings.Contains(*st.Error, "did not finish within its deadline (700ms") {
		t.Fatalf("status: %+v (error %v)", st, st.Error)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Fatalf("a 700 ms deadline ended the run after %v", took)
	}
}

// TestPausesDoNotCountAgainstTheDeadline: a class may pause a run for
// longer than its deadline; once resumed it completes.
func TestPausesDoNotCountAgainstTheDeadline(t *testing.T) {
	g := newRegistry(t, Config{Deadline: func(Request) time.Duration { return 1500 * time.Millisecond }})
	r, err := g.Start(Request{RunParams: lessons.RunParams{Guarantee: lessons.ExactlyOnce, Fault: lessons.NoFault, Messages: intp(20)}, StartPaused: true})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond)
	if st := r.Status(); st.State != Running {
		t.Fatalf("paused past its deadline: %+v (error %v)", st, st.Error)
	}
	r.Pipeline.Pacer.Resume()
	if st := wait(t, r); st.State != Done || st.Result.Balance != 20 {
		t.Fatalf("after resuming: %+v (error %v)", st, st.Error)
	}
}

// TestKeptRunsAreBounded: past MaxKept finished runs, the oldest is
// forgotten early and its topics deleted.
func TestKeptRunsAreBounded(t *testing.T) {
	g := newRegistry(t, Config{MaxConcurrent: 1, MaxKept: 2})
	var started []*Run
	for range 3 {
		r, err := g.Start(Request{RunParams: lessons.RunParams{Guarantee: lessons.AtMostOnce, Fault: lessons.NoFault, Messages: intp(3)}})
		if err != nil {
			t.Fatal(err)
		}
		wait(t, r)
		started = append(started, r)
	}
	// Eviction follows the run's end (Done) closely, not atomically.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, ok := g.Get(started[0].ID); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the oldest of three kept runs is still kept with MaxKept 2")
		}
	}
	for _, r := range started[1:] {
		if _, ok := g.Get(r.ID); !ok {
			t.Fatalf("run %s was forgotten too early", r.ID)
		}
	}
}

// TestEndingsAreSaid: every reason of the lab's own to end a run has its
// sentence in every language, and a run so ended names it in its status
// (error_key), beside the API's sentence.
func TestEndingsAreSaid(t *testing.T) {
	for _, e := range []*Ending{endCancelled, endCancelledQueued, endShutdown, endShutdownQueued, endPausedTooLong, OwnerGone, overran(time.Minute)} {
		for _, l := range text.Langs {
			if k := "error.end." + e.Key; l.T(k) == k {
				t.Errorf("%s has no text %s", l, k)
			}
		}
	}
	if maxPaused != 3*time.Hour {
		t.Errorf("error.end.paused-too-long says 3 hours, and a run may stay paused for %v", maxPaused)
	}
	g := newRegistry(t, Config{})
	r := mustStart(t, g, lesson("a"))
	if err := r.Cancel(r.Token()); err != nil {
		t.Fatal(err)
	}
	if st := wait(t, r); st.ErrorKey != "cancelled" || st.Error == nil || *st.Error != endCancelled.Msg {
		t.Errorf("a cancelled run: error_key %q, error %v", st.ErrorKey, st.Error)
	}
	m := NewMirror(Status{ID: "r-x", State: Running}, "", nil)
	m.Fail(OwnerGone)
	if st := m.Status(); st.State != Failed || st.ErrorKey != "owner-gone" || *st.Error != OwnerGone.Msg {
		t.Errorf("a mirror whose owner is gone: %s, error_key %q", st.State, st.ErrorKey)
	}
}
