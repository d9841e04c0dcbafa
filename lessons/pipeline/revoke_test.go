package pipeline

import (
	"fmt"
	"testing"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// TestCommitOnRevoke: under a rebalance, the strict at-least-once
// processor commits what it credited on revocation, in the generation
// that is ending, before the partition's new owner fetches it; the trace
// shows that commit (on_revoke, in generation 1) ahead of every revoked
// event, and nothing is credited twice.
func TestCommitOnRevoke(t *testing.T) {
	// Unpaced, the batch in hand when the joiner comes holds every
	// deposit; paced, batches of one, and deposits are left for both
	// instances after the hand-over.
	for _, tc := range []struct {
		preset lessons.PresetID
		pace   time.Duration
	}{{lessons.Strict, 0}, {lessons.Dedup, 0}, {lessons.Strict, 2 * time.Millisecond}} {
		t.Run(fmt.Sprintf("%s/pace=%s", tc.preset, tc.pace), func(t *testing.T) {
			spec := Spec{Guarantee: lessons.AtLeastOnce, Preset: tc.preset, Fault: lessons.Rebalance, Messages: 200}
			spec.Partitions, spec.Processors = lessons.ClaimShape(lessons.Rebalance)
			res, run := runSpecAt(t, spec, tc.pace)
			if !struck(run, lessons.Rebalance) {
				t.Errorf("the trace shows no rebalance striking a deposit")
			}
			events, _ := run.Log.Snapshot()
			var revokeCommits []trace.Event
			moves, firstMove := 0, int64(-1)
			for _, e := range events {
				if testing.Verbose() && (e.Kind == trace.Lifecycle || e.Kind == trace.Revoked || e.OnRevoke || e.Kind == trace.FaultKind || e.Kind == trace.Error) {
					t.Logf("%8dµs %s %s p%d %s", e.TUs, e.Kind, e.Instance, e.Partition, e.Detail)
				}
				switch {
				case e.Kind == trace.Commit && e.OnRevoke:
					revokeCommits = append(revokeCommits, e)
					if e.Instance != "p-1" || e.Generation != 1 {
						t.Errorf("a commit on revoke by %s in generation %d: want p-1's, in generation 1, the one the joiner ended", e.Instance, e.Generation)
					}
				case e.Kind == trace.Revoked:
					// A partition also moves when its owner, caught up
					// with everything committed, leaves at the run's end.
					if moves++; firstMove < 0 {
						firstMove = e.Seq
					}
				}
			}
			if len(revokeCommits) == 0 {
				t.Fatalf("no commit on revoke: p-1 let its partitions go without committing what it credited")
			}
			if firstMove >= 0 && firstMove < revokeCommits[0].Seq {
				t.Errorf("a partition moved (event %d) before p-1 committed on revoke (event %d)", firstMove, revokeCommits[0].Seq)
			}
			if tc.pace > 0 && moves == 0 {
				// Unpaced, the run is over once p-1 has committed its one
				// batch: nobody is left to take a partition.
				t.Errorf("no partition moved to the instance that joined")
			}
			if res.Duplicated != 0 {
				t.Errorf("%d deposits credited twice", res.Duplicated)
			}
			t.Logf("%d partitions moved; %d partitions committed on revoke; duplicated %d", moves, len(revokeCommits), res.Duplicated)
		})
	}
}
