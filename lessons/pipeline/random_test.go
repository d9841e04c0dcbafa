package pipeline

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/checker"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// defaultRandomSeeds is how many seeds per guarantee plain `go test` runs.
const defaultRandomSeeds = 50

var randomSeeds = flag.Int("random.seeds", defaultRandomSeeds, "seeds per guarantee in TestRandomFaults (seed=1…N)")

// workload is what a seed's run does besides its schedule: a small size,
// so many seeds fit in CI, and a batching, so the strikes land at different
// points of the producer's requests and the processor's batches.
type workload struct {
	n      int
	pace   time.Duration
	tuning Tuning
	// partitions of the run's topics, 1 or 3, with one processor: a
	// rebalance applies only to the runs with 3.
	partitions int
}

func (w workload) String() string {
	if w.pace > 0 {
		return fmt.Sprintf("%d deposits on %d partitions paced %v (one per request, batch and transaction)", w.n, w.partitions, w.pace)
	}
	return fmt.Sprintf("%d deposits on %d partitions, processor batches of ≤%d, producer transactions of ≤%d", w.n, w.partitions, w.tuning.Batch, w.tuning.TxnSize)
}

func randomWorkload(seed int64) workload {
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	w := workload{n: 60 + rng.IntN(61), tuning: DefaultTuning()}
	switch rng.IntN(3) {
	case 0: // as a run from the page: everything in one or two requests
	case 1: // small batches: several requests, commits and transactions
		w.tuning.Batch, w.tuning.TxnSize = 4+rng.IntN(29), 4+rng.IntN(29)
	default: // paced: a request, a commit and a transaction per deposit
		w.pace = time.Millisecond
	}
	w.partitions = 1 + 2*rng.IntN(2) // drawn last: the draws above are as they were
	return w
}

// TestRandomFaults runs each guarantee's strict pipeline under a seeded
// random schedule of several faults (lost produce requests, lost produce
// acks, processor crashes) and checks what the guarantee promises:
// exactly-once never loses or duplicates a deposit, at-least-once never
// loses one, at-most-once never duplicates one, and nothing unexpected is
// ever credited. More seeds:
//
//	go test -run TestRandomFaults ./lessons/pipeline/ -random.seeds=500
func TestRandomFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: slow (150 runs under randomized fault schedules, about 70 s; -random.seeds=N picks how many)")
	}
	for _, g := range []lessons.GuaranteeID{lessons.AtMostOnce, lessons.AtLeastOnce, lessons.ExactlyOnce} {
		t.Run(string(g), func(t *testing.T) {
			for seed := int64(1); seed <= int64(*randomSeeds); seed++ {
				t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
					t.Parallel()
					checkRandomRun(t, g, seed)
				})
			}
		})
	}
}

func checkRandomRun(t *testing.T, g lessons.GuaranteeID, seed int64) {
	w := randomWorkload(seed)
	schedule := RandomSchedule(seed, w.n, w.partitions)
	replay := fmt.Sprintf("go test -run 'TestRandomFaults/%s/seed=%d$' ./lessons/pipeline/", g, seed)
	if seed > defaultRandomSeeds {
		replay += fmt.Sprintf(" -random.seeds=%d", seed)
	}
	id := fmt.Sprintf("r-rand%d-%d", time.Now().UnixNano()%1e6, runCounter.Add(1))
	about := func() string {
		return fmt.Sprintf("run %s: seed %d, %s, schedule: %s\nreplay: %s", id, seed, w, FormatSchedule(schedule), replay)
	}

	env := testEnv
	env.Tuning = w.tuning
	r, err := New(env, Spec{RunID: id, Guarantee: g, Preset: lessons.Strict, Fault: lessons.NoFault,
		Messages: w.n, Partitions: w.partitions, Schedule: schedule}, NewPacer(w.pace))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	res, err := r.Execute(ctx)
	if err != nil {
		t.Fatalf("the run failed: %v\n%s\nstrikes: %s", err, about(), strikes(r))
	}
	t.Logf("%v: %s; %s; sent %d acked %d failed %d in_log %d credited %d lost %d dup %d recovered %d; strikes: %s",
		time.Since(start).Round(time.Millisecond), w, FormatSchedule(schedule), res.Sent, res.Acked, res.Failed, res.InLog,
		res.Credited, res.Lost, res.Duplicated, res.Recovered, strikes(r))

	var broken []string
	if res.Unexpected != 0 {
		broken = append(broken, fmt.Sprintf("%d unexpected credits %v", res.Unexpected, res.UnexpectedIDs))
	}
	if g != lessons.AtMostOnce && res.Lost != 0 {
		broken = append(broken, fmt.Sprintf("%d lost %v", res.Lost, res.LostIDs))
	}
	// At-most-once too, across a rebalance: kafka-go's Reader sends a
	// commit in the generation it is in by then, and a record fetched
	// before the hand-over is left to its new owner (current).
	if g != lessons.AtLeastOnce && res.Duplicated != 0 {
		broken = append(broken, fmt.Sprintf("%d duplicated %v", res.Duplicated, res.DuplicatedIDs))
	}
	if res.Verdict != checker.Held {
		broken = append(broken, "verdict "+string(res.Verdict))
	}
	if len(broken) > 0 {
		t.Errorf("%s broken: %s\n%s\nstrikes: %s", g, strings.Join(broken, "; "), about(), strikes(r))
	}
	if struckAny(r) == 0 {
		t.Errorf("no scheduled fault struck a deposit, so the run proves nothing\n%s", about())
	}
}

// struckAny counts the strikes the trace shows hitting deposits: network
// faults on a Produce that carried deposits, processor crashes and
// rebalances.
func struckAny(r *Run) int {
	events, _ := r.Log.Snapshot()
	n := 0
	for _, e := range events {
		if e.ID == "" {
			continue
		}
		if e.Kind == trace.Crash || e.Kind == trace.Stall || (e.Kind == trace.FaultKind && e.Fault == string(lessons.Rebalance) && e.Phase == trace.Struck) {
			n++
		}
	}
	return n + len(networkStrikes(events))
}

func networkStrikes(events []trace.Event) []trace.Event {
	var out []trace.Event
	for _, e := range events {
		if e.Kind == trace.FaultKind && e.ID == "" && e.Phase == trace.Struck {
			out = append(out, e)
		}
	}
	return out
}

// strikes says, in order, which faults struck where.
func strikes(r *Run) string {
	events, _ := r.Log.Snapshot()
	var out []string
	for _, e := range events {
		switch {
		case e.Kind == trace.Crash && e.ID != "":
			out = append(out, fmt.Sprintf("%s crashed after %s", e.Instance, e.ID))
		case e.Kind == trace.Stall && e.ID != "":
			out = append(out, fmt.Sprintf("%s froze after %s", e.Instance, e.ID))
		case e.Kind == trace.FaultKind && e.ID == "" && e.Phase != trace.Scheduled:
			what, _, _ := strings.Cut(e.Detail, "; the connection")
			out = append(out, what)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, " | ")
}

// TestRandomSchedule: a seed always gives the same schedule, within the
// run, mixing the faults.
func TestRandomSchedule(t *testing.T) {
	kinds := map[lessons.FaultID]int{}
	for seed := int64(1); seed <= 200; seed++ {
		w := randomWorkload(seed)
		n := w.n
		a, b := RandomSchedule(seed, n, w.partitions), RandomSchedule(seed, n, w.partitions)
		if FormatSchedule(a) != FormatSchedule(b) {
			t.Fatalf("seed %d: %s, then %s", seed, FormatSchedule(a), FormatSchedule(b))
		}
		if len(a) < 2 || len(a) > 4 {
			t.Fatalf("seed %d: %d strikes", seed, len(a))
		}
		for i, s := range a {
			if s.Seq < 1 || s.Seq > n || (i > 0 && s.Seq < a[i-1].Seq) {
				t.Fatalf("seed %d (n %d): %s", seed, n, FormatSchedule(a))
			}
			kinds[s.Fault]++
			if s.Fault == lessons.Rebalance && w.partitions == 1 {
				t.Fatalf("seed %d: a rebalance drawn for a run of one partition and one processor: %s", seed, FormatSchedule(a))
			}
		}
	}
	for _, f := range lessons.Injectable() {
		if kinds[f] < 50 {
			t.Errorf("%s struck only %d times in 200 schedules", f, kinds[f])
		}
	}
}

// TestScheduledCrashes: every crash of a schedule strikes, one instance
// each, including crash points close together.
func TestScheduledCrashes(t *testing.T) {
	schedule := []Strike{{40, lessons.ProcessorCrash}, {41, lessons.ProcessorCrash}, {90, lessons.ProcessorCrash}}
	for _, g := range []lessons.GuaranteeID{lessons.AtLeastOnce, lessons.ExactlyOnce} {
		t.Run(string(g), func(t *testing.T) {
			t.Parallel()
			res, r := runSpec(t, Spec{Guarantee: g, Preset: lessons.Strict, Fault: lessons.NoFault, Messages: 100, Schedule: schedule})
			events, _ := r.Log.Snapshot()
			var crashes []string
			for _, e := range events {
				if e.Kind == trace.Crash {
					crashes = append(crashes, e.Instance+"@"+e.ID)
				}
			}
			if len(crashes) != len(schedule) {
				t.Errorf("want %d crashes, got %v", len(schedule), crashes)
			}
			if res.Lost != 0 || res.Unexpected != 0 || (g == lessons.ExactlyOnce && res.Duplicated != 0) {
				t.Errorf("lost %d duplicated %d unexpected %d", res.Lost, res.Duplicated, res.Unexpected)
			}
		})
	}
}

// RandomSchedule draws a Jepsen-style schedule for a run of n deposits on
// partitions partitions, with one processor, from seed: two to four
// strikes, each of a fault the catalog can inject (lessons.Injectable) and
// says applies to such a run (lessons.RunParams.Applies), at random
// deposits, and a third of them right on the
// heels of the one before, where recovery from one fault meets the next.
// The same seed and n always give the same schedule; how the strikes then
// interleave with the clients' retries and rebalances is real timing.
func RandomSchedule(seed int64, n, partitions int) []Strike {
	if n < 1 {
		return nil
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6e656d65736973)) // "nemesis"
	one := 1
	run := lessons.RunParams{Partitions: &partitions, Processors: &one}
	faults := slices.DeleteFunc(lessons.Injectable(), func(f lessons.FaultID) bool { return !run.Applies(f) })
	out := make([]Strike, 2+rng.IntN(3))
	for i := range out {
		seq := 1 + rng.IntN(n)
		if i > 0 && rng.IntN(3) == 0 {
			seq = min(n, out[i-1].Seq+rng.IntN(4))
		}
		out[i] = Strike{Seq: seq, Fault: faults[rng.IntN(len(faults))]}
	}
	slices.SortStableFunc(out, func(a, b Strike) int { return cmp.Compare(a.Seq, b.Seq) })
	return out
}
