package pipeline

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/broker/brokertest"
	"github.com/kafka-delivery-lab/lab/lessons/checker"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// testEnv is the broker every test in this package runs against: the
// embedded broker, or the cluster in KAFKA_BROKERS (CI runs both).
var testEnv Env

func TestMain(m *testing.M) {
	b, err := brokertest.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testEnv = Env{Brokers: b.Addrs(), Admin: b.Admin(), Tuning: DefaultTuning()}
	code := m.Run()
	b.Close()
	os.Exit(code)
}

var runCounter atomic.Int64

func runOnce(t testing.TB, g lessons.GuaranteeID, p lessons.PresetID, f lessons.FaultID, n int) Result {
	t.Helper()
	res, _ := runTraced(t, g, p, f, n)
	return res
}

func runTraced(t testing.TB, g lessons.GuaranteeID, p lessons.PresetID, f lessons.FaultID, n int) (Result, *Run) {
	t.Helper()
	return runSpec(t, Spec{Guarantee: g, Preset: p, Fault: f, Messages: n})
}

// runSpec runs spec, under a fresh run id, to its result.
func runSpec(t testing.TB, spec Spec) (Result, *Run) {
	t.Helper()
	spec.RunID = fmt.Sprintf("r-test%d-%d", time.Now().UnixNano()%1e6, runCounter.Add(1))
	r, err := New(testEnv, spec, NewPacer(0))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := r.Execute(ctx)
	if err != nil {
		t.Fatalf("%s/%s/%s: %v", spec.Guarantee, spec.Preset, spec.Fault, err)
	}
	return res, r
}

// struck reports whether the run's trace shows its fault striking a
// deposit: without that, a clean result would prove nothing.
func struck(r *Run, f lessons.FaultID) bool {
	events, _ := r.Log.Snapshot()
	for _, e := range events {
		switch {
		case f == lessons.ProcessorCrash && e.Kind == trace.Crash && e.ID != "":
			return true
		case f != lessons.ProcessorCrash && e.Kind == trace.FaultKind && e.ID != "" && e.Detail == string(f):
			return true
		}
	}
	return f == lessons.NoFault
}

// TestGuaranteeUnderFault is the lessons' claims, executed: each row is
// what a lesson says a fault does to a guarantee.
func TestGuaranteeUnderFault(t *testing.T) {
	const n = 200
	type want func(r Result) string
	none := func(r Result) string {
		if r.Lost != 0 || r.Duplicated != 0 || r.Balance != n || r.Verdict != checker.Held {
			return "want nothing lost or duplicated, balance = N, held"
		}
		return ""
	}
	lostSome := func(r Result) string {
		if r.Lost < 1 || r.Duplicated != 0 || r.Verdict != checker.Held {
			return "want lost ≥ 1, duplicated = 0, held"
		}
		return ""
	}
	recoveredNoDup := func(r Result) string {
		if r.Duplicated != 0 || r.Recovered < 1 || r.Verdict != checker.Held {
			return "want duplicated = 0, recovered ≥ 1, held"
		}
		return ""
	}
	noLoss := func(r Result) string {
		if r.Lost != 0 || r.Verdict != checker.Held {
			return "want lost = 0, held"
		}
		return ""
	}
	dupNoLoss := func(r Result) string {
		if r.Lost != 0 || r.Duplicated < 1 || r.Verdict != checker.Held {
			return "want duplicated ≥ 1, lost = 0, held"
		}
		return ""
	}
	exact := func(r Result) string {
		if r.Lost != 0 || r.Duplicated != 0 || r.Balance != n || r.Verdict != checker.Held {
			return "want lost = duplicated = 0, balance = N, held"
		}
		return ""
	}
	violated := func(r Result) string {
		if r.Verdict != checker.Violated {
			return "want violated"
		}
		return ""
	}
	for _, tc := range []struct {
		g     lessons.GuaranteeID
		p     lessons.PresetID
		f     lessons.FaultID
		check want
	}{
		{lessons.AtMostOnce, lessons.Strict, lessons.NoFault, none},
		{lessons.AtLeastOnce, lessons.Strict, lessons.NoFault, none},
		{lessons.ExactlyOnce, lessons.Strict, lessons.NoFault, none},

		{lessons.AtMostOnce, lessons.Strict, lessons.ProduceRequestLost, lostSome},
		{lessons.AtLeastOnce, lessons.Strict, lessons.ProduceRequestLost, noLoss},
		{lessons.ExactlyOnce, lessons.Strict, lessons.ProduceRequestLost, exact},

		{lessons.AtMostOnce, lessons.Strict, lessons.ProduceAckLost, recoveredNoDup},
		{lessons.AtLeastOnce, lessons.Strict, lessons.ProduceAckLost, dupNoLoss},
		{lessons.ExactlyOnce, lessons.Strict, lessons.ProduceAckLost, exact},

		{lessons.AtMostOnce, lessons.Strict, lessons.ProcessorCrash, lostSome},
		{lessons.AtLeastOnce, lessons.Strict, lessons.ProcessorCrash, dupNoLoss},
		{lessons.ExactlyOnce, lessons.Strict, lessons.ProcessorCrash, exact},

		{lessons.ExactlyOnce, lessons.Common, lessons.ProcessorCrash, violated},
	} {
		t.Run(fmt.Sprintf("%s/%s/%s", tc.g, tc.p, tc.f), func(t *testing.T) {
			start := time.Now()
			r, run := runTraced(t, tc.g, tc.p, tc.f, n)
			if !struck(run, tc.f) {
				t.Errorf("the trace shows no %s striking a deposit", tc.f)
			}
			t.Logf("%v: sent %d acked %d failed %d in_log %d credited %d lost %d dup %d recovered %d balance %d verdict %s",
				time.Since(start).Round(time.Millisecond), r.Sent, r.Acked, r.Failed, r.InLog, r.Credited, r.Lost, r.Duplicated, r.Recovered, r.Balance, r.Verdict)
			if msg := tc.check(r); msg != "" {
				t.Errorf("%s; got lost %d duplicated %d recovered %d balance %d verdict %s", msg, r.Lost, r.Duplicated, r.Recovered, r.Balance, r.Verdict)
			}
			if r.Unexpected != 0 {
				t.Errorf("unexpected credits: %v", r.UnexpectedIDs)
			}
		})
	}
}

// TestExactlyOnceEndsWithoutAnEmptyTransaction: the end marker, fetched
// alone once every deposit is committed, ends the run without a
// transaction that credits nothing (three coordinator round trips).
func TestExactlyOnceEndsWithoutAnEmptyTransaction(t *testing.T) {
	for _, n := range []int{1, 5, 50} {
		res, r := runTraced(t, lessons.ExactlyOnce, lessons.Strict, lessons.NoFault, n)
		if res.Balance != int64(n) || res.Verdict != checker.Held {
			t.Fatalf("%d deposits: %+v", n, res)
		}
		events, _ := r.Log.Snapshot()
		ended := false
		for _, e := range events {
			ended = ended || (e.Kind == trace.Fetch && e.ID == endKey)
			if e.Actor == trace.Processor && e.Kind == trace.TxnCommit && strings.HasPrefix(e.Detail, "0 credits") {
				t.Fatalf("%d deposits: a transaction committed no credit: %+v", n, e)
			}
		}
		if !ended {
			t.Fatalf("%d deposits: the processor never fetched the end marker", n)
		}
	}
}

// TestDrawnRunsKeepEveryCredit: a run small enough to be drawn one cell
// per deposit keeps every credit event, duplicates included, however many
// events it makes; a larger run keeps a sample.
func TestDrawnRunsKeepEveryCredit(t *testing.T) {
	credits := func(r *Run) int {
		events, _ := r.Log.Snapshot()
		n := 0
		for _, e := range events {
			if e.Kind == trace.Credit {
				n++
			}
		}
		return n
	}
	// Lost acks and crashes all through the run, each crash redoing a
	// batch of credits: more events than the log's head holds, fewer than
	// a snapshot holds (Head+Recent).
	var schedule []Strike
	for seq := 50; seq < DrawnDeposits; seq += 50 {
		schedule = append(schedule, Strike{Seq: seq, Fault: lessons.ProcessorCrash}, Strike{Seq: seq + 10, Fault: lessons.ProduceAckLost})
	}
	res, r := runSpec(t, Spec{Guarantee: lessons.AtLeastOnce, Preset: lessons.Strict, Fault: lessons.NoFault,
		Messages: DrawnDeposits, Schedule: schedule})
	t.Logf("%d events", r.Log.Last())
	if last := r.Log.Last(); last <= trace.Head || last > trace.Head+trace.Recent {
		t.Fatalf("%d events: want more than the head holds and at most what a snapshot holds", last)
	}
	if got := credits(r); got != res.Credited || res.Duplicated == 0 {
		t.Fatalf("%d deposits, %d events: %d credit events for %d credits (%d duplicated)", DrawnDeposits, r.Log.Last(), got, res.Credited, res.Duplicated)
	}
	res, r = runTraced(t, lessons.AtLeastOnce, lessons.Strict, lessons.NoFault, 5000)
	if got := credits(r); got >= res.Credited {
		t.Fatalf("5000 deposits: all %d credit events kept, want a sample", got)
	}
}
