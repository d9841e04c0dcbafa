package pipeline

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/content"
	"github.com/kafka-delivery-lab/lab/lessons/text"
)

// TestLessonScenarios runs every ::run of every lesson, in every language,
// as a learner's button would start it (its size and pace), and fails when
// a run does not come out as the lesson states: its row of the claim
// table. On the embedded broker here, on Apache Kafka in CI.
func TestLessonScenarios(t *testing.T) {
	set, err := content.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[content.Scenario]bool{}
	for _, id := range set.IDs() {
		for _, l := range text.Langs {
			les, err := set.Load(id, l)
			if err != nil {
				t.Fatal(err)
			}
			for _, sc := range les.Scenarios {
				key := sc
				key.Label, key.Section = "", "" // the same run in another section or language
				if seen[key] {
					continue
				}
				seen[key] = true
				name := fmt.Sprintf("%s/%s/%s/%d@%dms/p%d", sc.Guarantee, sc.Preset, sc.Fault, sc.Messages, sc.PaceMs, sc.Partitions)
				if sc.Notify != lessons.NotifyPlain {
					name += "/notify=" + string(sc.Notify)
				}
				t.Run(name, func(t *testing.T) {
					if f, _ := lessons.LookupFault(sc.Fault); f.Needs == lessons.NeedsCluster && testEnv.Cluster == nil {
						t.Skip("a cluster fault: TestClusterFaults runs its row on the cluster the tests own (LAB_CLUSTER_TESTS=1)")
					}
					t.Parallel() // paced runs mostly wait
					spec := Spec{RunID: fmt.Sprintf("r-lesson%d-%d", time.Now().UnixNano()%1e6, runCounter.Add(1)),
						Guarantee: sc.Guarantee, Preset: sc.Preset, Fault: sc.Fault, Messages: sc.Messages, Notify: sc.Notify,
						Partitions: sc.Partitions, Processors: sc.Processors}
					r, err := New(testEnv, spec, NewPacer(time.Duration(sc.PaceMs)*time.Millisecond))
					if err != nil {
						t.Fatal(err)
					}
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
					defer cancel()
					res, err := r.Execute(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if !struck(r, sc.Fault) {
						t.Errorf("the trace shows no %s striking a deposit", sc.Fault)
					}
					switch {
					case res.Expected == nil:
						t.Errorf("%s.%s: the result names no claim for this run", id, l)
					case *res.Expected != sc.Expect:
						t.Errorf("the run was judged by %+v, the lesson states %+v", *res.Expected, sc.Expect)
					case res.Mismatch != "":
						t.Errorf("%s.%s says lost %s, duplicated %s; the run: lost %d, duplicated %d, recovered %d, %s (%s)",
							id, l, res.Expected.Lost, res.Expected.Duplicated, res.Lost, res.Duplicated, res.Recovered, res.Verdict, res.Mismatch)
					}
				})
			}
		}
	}
	if len(seen) == 0 {
		t.Fatal("the lessons offer no run")
	}
}
