package pipeline

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/broker"
	"github.com/kafka-delivery-lab/lab/lessons/broker/brokertest"
	"github.com/kafka-delivery-lab/lab/lessons/checker"
	"github.com/kafka-delivery-lab/lab/lessons/cluster"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// testEnv is the broker every test in this package runs against: the
// embedded broker, or the cluster in KAFKA_BROKERS (CI runs both).
var testEnv Env

// testEmbedded is the embedded broker testEnv runs on, nil on Apache
// Kafka: a test that steers the broker itself (kfake's ControlKey) needs it.
var testEmbedded *kfake.Cluster

func TestMain(m *testing.M) {
	if os.Getenv("LAB_CLUSTER_TESTS") != "" {
		os.Exit(onCluster(m))
	}
	b, err := brokertest.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testEnv = Env{Brokers: b.Addrs(), Admin: b.Admin(), Tuning: DefaultTuning()}
	testEmbedded = b.Embedded()
	code := m.Run()
	b.Close()
	os.Exit(code)
}

// onCluster runs the tests on a three-broker cluster the tests own, as
// -cluster 3 does (LAB_CLUSTER_TESTS=1, which .ci/run sets): a cluster
// that cannot start fails the suite.
func onCluster(m *testing.M) int {
	c, err := cluster.Start(context.Background(), cluster.Options{Progress: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "LAB_CLUSTER_TESTS is set and the cluster did not start:", err)
		return 1
	}
	defer c.Close()
	b, err := broker.Connect(c.Addrs())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer b.Close()
	testEnv = Env{Brokers: c.Addrs(), Admin: b.Admin(), Tuning: ClusterTuning(), Cluster: c}
	return m.Run()
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
	return runSpecAt(t, spec, 0)
}

// runSpecAt is runSpec at a pace: a deposit every pace.
func runSpecAt(t testing.TB, spec Spec, pace time.Duration) (Result, *Run) {
	t.Helper()
	spec.RunID = fmt.Sprintf("r-test%d-%d", time.Now().UnixNano()%1e6, runCounter.Add(1))
	r, err := New(testEnv, spec, NewPacer(pace))
	if err != nil {
		t.Fatal(err)
	}
	budget := 60 * time.Second
	if testEnv.Cluster != nil {
		// A cluster fault's run waits for the election and for the killed
		// broker's JVM to restart and catch up: 20 s and more on two
		// busy cores.
		budget = 3 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget)
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
		if e.Fault == string(f) && e.Phase == trace.Struck && e.ID != "" {
			return true
		}
	}
	return f == lessons.NoFault
}

// moved reports whether the run's trace shows a partition moving from one
// processor instance to another, an instance's commit refused because the
// group rebalanced (it then reads its batch again itself), or a record
// fetched twice.
func moved(r *Run) bool {
	events, _ := r.Log.Snapshot()
	for _, e := range events {
		if e.Kind == trace.Revoked || (e.Kind == trace.Error && strings.Contains(e.Detail, "the group rebalanced")) {
			return true
		}
	}
	// Or a record read twice: an instance that kept its partition and
	// reads it again from the committed offset after the rebalance
	// (kafka-go's auto-commit loses what it had not committed yet).
	type at struct {
		p int32
		o int64
	}
	seen := map[at]bool{}
	for _, e := range events {
		if e.Kind == trace.Fetch && e.Deposit > 0 {
			if seen[at{e.Partition, e.Offset}] {
				return true
			}
			seen[at{e.Partition, e.Offset}] = true
		}
	}
	return false
}

// restarted reports whether the run's trace shows a new processor
// instance taking over.
func restarted(r *Run) bool {
	events, _ := r.Log.Snapshot()
	for _, e := range events {
		if e.Kind == trace.Restart {
			return true
		}
	}
	return false
}

// fenced reports whether the run's trace shows the broker refusing a
// zombie.
func fenced(r *Run) bool {
	events, _ := r.Log.Snapshot()
	for _, e := range events {
		if e.Kind == trace.Fenced && e.BrokerError != "" {
			return true
		}
	}
	return false
}

// TestGuaranteeUnderFault is the lessons' claims, executed: one run per row
// of the catalog's claim table, every guarantee × preset × fault.
func TestGuaranteeUnderFault(t *testing.T) {
	const n = 200
	for _, c := range lessons.Claims() {
		t.Run(fmt.Sprintf("%s/%s/%s", c.Guarantee, c.Preset, c.Fault), func(t *testing.T) {
			if f, _ := lessons.LookupFault(c.Fault); f.Needs == lessons.NeedsCluster {
				t.Skip("a cluster fault: TestClusterFaults runs it, on a cluster the tests own")
			}
			start := time.Now()
			spec := Spec{Guarantee: c.Guarantee, Preset: c.Preset, Fault: c.Fault, Messages: n}
			// For a rebalance, one instance owns all three partitions
			// until the joiner takes some: the batch in hand spans them.
			spec.Partitions, spec.Processors = lessons.ClaimShape(c.Fault)
			r, run := runSpec(t, spec)
			if !struck(run, c.Fault) {
				t.Errorf("the trace shows no %s striking a deposit", c.Fault)
			}
			if c.Fault == lessons.Rebalance && c.Duplicated == lessons.Some && !moved(run) {
				// Duplicates are what a move leaves behind; without one
				// the run would show them for another reason.
				t.Errorf("the trace shows no partition moving to the instance that joined, no commit refused by the rebalance, no record read again")
			}
			// The at-least-once lesson says order per account holds. Not
			// under an at-most-once zombie: nothing fences it, so once
			// awake it credits the rest of its committed batch late,
			// after the new instance may have credited later deposits of
			// the same accounts (84 of 200 once in CI).
			lateZombie := c.Guarantee == lessons.AtMostOnce && c.Fault == lessons.ProcessorStall
			if r.Reordered != 0 && !lateZombie {
				t.Errorf("%d deposits credited out of their account's order: %v", r.Reordered, r.ReorderedIDs)
			}
			if c.Restart && !restarted(run) {
				t.Errorf("the trace shows no new processor instance taking over")
			}
			t.Logf("%v: sent %d acked %d failed %d in_log %d credited %d lost %d dup %d recovered %d balance %d verdict %s",
				time.Since(start).Round(time.Millisecond), r.Sent, r.Acked, r.Failed, r.InLog, r.Credited, r.Lost, r.Duplicated, r.Recovered, r.Balance, r.Verdict)
			if r.Expected == nil || r.Mismatch != c.Check(r.Result, r.SideEffectsDuplicated) {
				t.Errorf("the result's claim %+v and mismatch %q are not the claim table's", r.Expected, r.Mismatch)
			}
			if msg := c.Check(r.Result, r.SideEffectsDuplicated); msg != "" {
				t.Errorf("the claim table says lost %s, duplicated %s, recovered %s, side effects duplicated %s, %s; %s", c.Lost, c.Duplicated, c.Recovered, c.SideEffectsDuplicated, c.Verdict, msg)
			}
			if c.Fenced && !fenced(run) {
				t.Errorf("the trace shows no %s event: the broker never refused the zombie", trace.Fenced)
			}
			if r.SideEffects < r.UniqueCredited {
				t.Errorf("side effects %d for %d deposits credited: every credit notifies", r.SideEffects, r.UniqueCredited)
			}
			if c.Lost == lessons.None && c.Duplicated == lessons.None && r.Balance != n {
				t.Errorf("balance %d, want %d", r.Balance, n)
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
	for seq := 50; seq < lessons.DrawnDeposits; seq += 50 {
		schedule = append(schedule, Strike{Seq: seq, Fault: lessons.ProcessorCrash}, Strike{Seq: seq + 10, Fault: lessons.ProduceAckLost})
	}
	res, r := runSpec(t, Spec{Guarantee: lessons.AtLeastOnce, Preset: lessons.Strict, Fault: lessons.NoFault,
		Messages: lessons.DrawnDeposits, Schedule: schedule})
	t.Logf("%d events", r.Log.Last())
	if last := r.Log.Last(); last <= trace.Head || last > trace.Head+trace.Recent {
		t.Fatalf("%d events: want more than the head holds and at most what a snapshot holds", last)
	}
	if got := credits(r); got != res.Credited || res.Duplicated == 0 {
		t.Fatalf("%d deposits, %d events: %d credit events for %d credits (%d duplicated)", lessons.DrawnDeposits, r.Log.Last(), got, res.Credited, res.Duplicated)
	}
	res, r = runTraced(t, lessons.AtLeastOnce, lessons.Strict, lessons.NoFault, 5000)
	if got := credits(r); got >= res.Credited {
		t.Fatalf("5000 deposits: all %d credit events kept, want a sample", got)
	}
}

// TestReplacementIsANewGenerationAndEpoch: after a crash, the exactly-once
// processor's new instance commits in a newer group generation with a
// newer producer epoch than the crashed one ever had: the broker fenced
// the old instance.
func TestReplacementIsANewGenerationAndEpoch(t *testing.T) {
	_, r := runTraced(t, lessons.ExactlyOnce, lessons.Strict, lessons.ProcessorCrash, 200)
	events, _ := r.Log.Snapshot()
	type identity struct{ gen, epoch int }
	last := map[string]identity{}
	for _, e := range events {
		if e.Actor == trace.Processor && (e.Kind == trace.TxnBegin || e.Kind == trace.TxnCommit) {
			if e.Generation == 0 && e.Epoch == 0 {
				t.Fatalf("%s %s carries no generation or epoch", e.Instance, e.Kind)
			}
			last[e.Instance] = identity{int(e.Generation), int(e.Epoch)}
		}
	}
	old, ok1 := last["p-1"]
	repl, ok2 := last["p-2"]
	if !ok1 || !ok2 {
		t.Fatalf("want transactions of p-1 and p-2, got %v", last)
	}
	if repl.gen <= old.gen || repl.epoch <= old.epoch {
		t.Fatalf("p-2 (generation %d, epoch %d) is not newer than p-1 (generation %d, epoch %d)", repl.gen, repl.epoch, old.gen, old.epoch)
	}
	t.Logf("p-1 generation %d epoch %d; p-2 generation %d epoch %d", old.gen, old.epoch, repl.gen, repl.epoch)
}

// TestLedgerIsDrawnWithItsAbortedCredits: a drawn exactly-once crash run's
// trace holds the ledger as read back, in offset order, with the crashed
// instance's aborted credits marked, each of them redone by a committed
// credit; the result counts them.
func TestLedgerIsDrawnWithItsAbortedCredits(t *testing.T) {
	res, r := runTraced(t, lessons.ExactlyOnce, lessons.Strict, lessons.ProcessorCrash, 40)
	events, _ := r.Log.Snapshot()
	last, aborted, committed := int64(-1), map[string]bool{}, map[string]int{}
	for _, e := range events {
		if e.Kind != trace.Record {
			continue
		}
		if e.Offset <= last {
			t.Fatalf("ledger records out of order: %d after %d", e.Offset, last)
		}
		last = e.Offset
		if e.Aborted {
			aborted[e.ID] = true
		} else {
			committed[e.ID]++
		}
	}
	if len(aborted) == 0 || len(aborted) != res.AbortedCredits {
		t.Fatalf("%d aborted credits drawn, the result counts %d", len(aborted), res.AbortedCredits)
	}
	for id := range aborted {
		if committed[id] != 1 {
			t.Errorf("%s: aborted, then committed %d times, want once", id, committed[id])
		}
	}
	if len(committed) != 40 {
		t.Errorf("%d deposits have a committed credit drawn, want 40", len(committed))
	}
}

// TestLatencyPercentiles: nearest-rank percentiles and a histogram that
// counts every deposit, on latencies set by hand.
func TestLatencyPercentiles(t *testing.T) {
	r := &Run{sentAt: make([]uint32, 100), credAt: make([]uint32, 100)}
	for i := range 100 {
		r.sentAt[i] = 1
		r.credAt[i] = 1 + uint32(i+1)*1000 // deposit i+1 took i+1 ms
	}
	l := r.latencies()
	if l.P50 != 50 || l.P95 != 95 || l.P99 != 99 {
		t.Fatalf("p50 %v p95 %v p99 %v, want 50, 95, 99", l.P50, l.P95, l.P99)
	}
	total := 0
	for _, n := range l.Histogram {
		total += n
	}
	// ≤1, ≤2, ≤5, ≤10, ≤20, ≤50, ≤100 ms: 1, 1, 3, 5, 10, 30, 50.
	want := []int{1, 1, 3, 5, 10, 30, 50, 0, 0, 0, 0, 0, 0, 0}
	if total != 100 || fmt.Sprint(l.Histogram) != fmt.Sprint(want) {
		t.Fatalf("histogram %v, want %v", l.Histogram, want)
	}
}

// TestWatermarksAreDrawn: a drawn exactly-once run's trace follows the
// input's high watermark and last stable offset: the LSO never above the
// high watermark, which ends past every deposit with the LSO caught up.
func TestWatermarksAreDrawn(t *testing.T) {
	_, r := runSpec(t, Spec{Guarantee: lessons.ExactlyOnce, Preset: lessons.Strict, Fault: lessons.NoFault, Messages: 10})
	events, _ := r.Log.Snapshot()
	var last trace.Event
	n := 0
	for _, e := range events {
		if e.Kind != trace.Watermarks {
			continue
		}
		n++
		if e.LSO == nil || *e.LSO > e.Offset {
			t.Fatalf("watermarks %d with LSO %v: the LSO is never above the high watermark", e.Offset, e.LSO)
		}
		last = e
	}
	// One transaction of 10 deposits, its commit marker, the end marker;
	// nothing left open.
	if n == 0 || last.Offset < 12 || *last.LSO != last.Offset {
		t.Fatalf("%d watermark events, the last %d (LSO %d): want at least 12, the LSO caught up", n, last.Offset, *last.LSO)
	}
}

// TestInputIsDrawnWithItsAbortedBatches: a transactional producer's aborted
// batch stays in the input topic, hidden from read_committed readers; a
// drawn run's trace shows each of its records, at its offset, marked
// aborted, and the processor (read_committed) never fetched it. The lab's
// produce faults never make the exactly-once producer abort (its
// idempotent retries succeed within the open transaction), so the test
// aborts a transaction on the run's input itself, as a producer whose
// retries ran out would, while the run is producing.
func TestInputIsDrawnWithItsAbortedBatches(t *testing.T) {
	spec := Spec{Guarantee: lessons.ExactlyOnce, Preset: lessons.Strict, Fault: lessons.NoFault, Messages: 20,
		RunID: fmt.Sprintf("r-test%d-%d", time.Now().UnixNano()%1e6, runCounter.Add(1))}
	r, err := New(testEnv, spec, NewPacer(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	type outcome struct {
		res Result
		err error
	}
	done := make(chan outcome, 1)
	go func() { res, err := r.Execute(ctx); done <- outcome{res, err} }()

	// Once the run's producer has written to the input, a batch of two
	// deposits, aborted.
	cl, err := kgo.NewClient(kgo.SeedBrokers(testEnv.Brokers...), kgo.DefaultProduceTopic(r.Names.Input),
		kgo.TransactionalID(r.Names.ProducerTxnID+".aborted"), kgo.RecordRetries(3))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for r.Progress.Acked.Load() == 0 {
		if ctx.Err() != nil {
			t.Fatal("the run acknowledged no deposit in 60 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	abortedIDs := []string{"d-000003", "d-000004"}
	for _, id := range abortedIDs {
		if err := cl.ProduceSync(ctx, &kgo.Record{Key: []byte(id), Value: []byte(`{"deposit":"` + id + `","amount":1}`)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatal(err)
	}
	out := <-done
	if out.err != nil {
		t.Fatal(out.err)
	}
	if out.res.Verdict != checker.Held || out.res.InLog != 20 {
		t.Fatalf("verdict %s, %d deposits in the log read_committed: the aborted batch was seen", out.res.Verdict, out.res.InLog)
	}
	events, _ := r.Log.Snapshot()
	fetched, aborted := map[int64]bool{}, map[int64]string{}
	for _, e := range events {
		switch {
		case e.Kind == trace.Fetch:
			fetched[e.Offset] = true
		case e.Kind == trace.Record && e.Actor == trace.Broker:
			if !e.Aborted || e.Topic != r.Names.Input {
				t.Fatalf("an input record event that is not an aborted record of %s: %+v", r.Names.Input, e)
			}
			aborted[e.Offset] = e.ID
		}
	}
	var ids []string
	for o, id := range aborted {
		if fetched[o] {
			t.Errorf("offset %d (%s): aborted, yet the read_committed processor fetched it", o, id)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, abortedIDs) {
		t.Errorf("aborted input records drawn: %v, want %v", aborted, abortedIDs)
	}
}
