package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

func TestCreditedSet(t *testing.T) {
	s := newCreditedSet(130)
	for _, seq := range []int{1, 63, 64, 65, 128, 130} {
		if s.has(seq) {
			t.Fatalf("%d credited before it was added", seq)
		}
		s.add(seq)
		if !s.has(seq) {
			t.Fatalf("%d not credited after it was added", seq)
		}
	}
	for _, seq := range []int{0, 2, 62, 66, 129, 131, -1} {
		s.add(seq) // outside the run: ignored
		if seq >= 1 && seq <= 130 {
			continue
		}
		if s.has(seq) {
			t.Errorf("%d is outside the run, yet credited", seq)
		}
	}
}

// TestDedupSkipsRepeats: under the faults that make at-least-once repeat
// a deposit, the idempotent consumer is handed the repeats (the input topic
// holds a deposit twice, or a new instance reads again what the crashed one
// credited), skips every one of them with a skip event, and says how many.
func TestDedupSkipsRepeats(t *testing.T) {
	const n = 200
	for _, f := range []lessons.FaultID{lessons.ProduceAckLost, lessons.ProcessorCrash} {
		t.Run(string(f), func(t *testing.T) {
			res, run := runTraced(t, lessons.AtLeastOnce, lessons.Dedup, f, n)
			if res.Duplicated != 0 || res.Lost != 0 || res.Balance != n {
				t.Fatalf("duplicated %d, lost %d, balance %d: want 0, 0, %d", res.Duplicated, res.Lost, res.Balance, n)
			}
			if res.Deduplicated == 0 {
				t.Fatalf("deduplicated 0: the fault repeated no delivery, so the run proves nothing")
			}
			events, _ := run.Log.Snapshot()
			skips, restores := 0, 0
			for _, e := range events {
				switch {
				case e.Kind == trace.Skip:
					skips++
				case e.Kind == trace.Lifecycle && e.Actor == trace.Processor && strings.Contains(e.Detail, "restored its deduplication store"):
					// Not the generations it joins: it commits on revoke.
					restores++
				}
			}
			if skips != res.Deduplicated {
				t.Errorf("%d skip events, deduplicated %d", skips, res.Deduplicated)
			}
			// Every repeat in the input topic is skipped at least once; a
			// batch read again after a refused commit (a rebalance, seen
			// once on Apache Kafka as the run began) is skipped again.
			if f == lessons.ProduceAckLost && res.Deduplicated < res.InLog-n {
				t.Errorf("the input topic holds %d repeats, deduplicated only %d", res.InLog-n, res.Deduplicated)
			}
			if f == lessons.ProcessorCrash && restores != 2 {
				t.Errorf("%d instances restored their store, want 2", restores)
			}
			t.Logf("in_log %d credited %d deduplicated %d", res.InLog, res.Credited, res.Deduplicated)
		})
	}
}

// TestDedupStoreMustBeRestored: the same crash with a store kept in memory
// only, not restored from the ledger it guards. The replacement starts
// with an empty store and credits again what the crashed instance credited
// after its last commit, as strict does: the lesson's "where it breaks".
func TestDedupStoreMustBeRestored(t *testing.T) {
	const n = 200
	spec := Spec{RunID: fmt.Sprintf("r-forget%d-%d", time.Now().UnixNano()%1e6, runCounter.Add(1)),
		Guarantee: lessons.AtLeastOnce, Preset: lessons.Dedup, Fault: lessons.ProcessorCrash, Messages: n}
	r, err := New(testEnv, spec, NewPacer(0))
	if err != nil {
		t.Fatal(err)
	}
	r.memoryOnlyStore = true
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := r.Execute(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicated == 0 || res.Lost != 0 {
		t.Fatalf("duplicated %d, lost %d: a store that forgets on a crash must let the repeats through", res.Duplicated, res.Lost)
	}
	if res.Mismatch == "" {
		t.Errorf("the run agrees with the dedup claim row, so the row proves nothing about restoring")
	}
	t.Logf("duplicated %d, deduplicated %d", res.Duplicated, res.Deduplicated)
}
