package pipeline

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// needCluster skips a test that needs the cluster the tests own unless
// LAB_CLUSTER_TESTS is set; set, TestMain has started it or failed.
func needCluster(t *testing.T) {
	t.Helper()
	if os.Getenv("LAB_CLUSTER_TESTS") == "" {
		t.Skip("set LAB_CLUSTER_TESTS=1 to run it on a three-broker Apache Kafka cluster the tests start (Java 17+)")
	}
}

// TestClusterFaultsNeedACluster: elsewhere a run of a cluster fault is
// refused with the sentence that says how to start cluster mode.
func TestClusterFaultsNeedACluster(t *testing.T) {
	env := testEnv
	env.Cluster = nil
	_, err := New(env, Spec{RunID: "r-nocluster", Guarantee: lessons.AtMostOnce, Fault: lessons.LeaderCrash, Messages: 10}, NewPacer(0))
	if !errors.Is(err, ErrNeedsCluster) {
		t.Fatalf("got %v, want ErrNeedsCluster", err)
	}
}

// TestClusterFaults is the claim table's rows of the cluster faults,
// executed on the three-broker cluster: acks=1 loses deposits the broker
// acknowledged, acks=all with min.insync.replicas=2 loses none. Each lost
// acknowledged deposit is proven absent from the input topic, read back
// once every replica is in sync again.
func TestClusterFaults(t *testing.T) {
	needCluster(t)
	const n = 200
	for _, c := range lessons.Claims() {
		if f, _ := lessons.LookupFault(c.Fault); f.Needs != lessons.NeedsCluster {
			continue
		}
		t.Run(fmt.Sprintf("%s/%s/%s", c.Guarantee, c.Preset, c.Fault), func(t *testing.T) {
			start := time.Now()
			r, run := runTraced(t, c.Guarantee, c.Preset, c.Fault, n)
			if !struck(run, c.Fault) {
				t.Errorf("the trace shows no %s striking a deposit", c.Fault)
			}
			switch c.Fault {
			case lessons.LeaderCrash:
				e := r.Election
				if e == nil || e.NewLeader < 0 || e.NewLeader == e.Killed {
					t.Fatalf("no election after the kill: %+v", e)
				}
				t.Logf("%v: sent %d acked %d failed %d in_log %d credited %d lost %d lost_acked %d acked_not_in_log %d dup %d recovered %d verdict %s; leader %d killed, held %v, %d elected in %d ms, healed in %d ms, deposits %d-%d with the leader alone",
					time.Since(start).Round(time.Millisecond), r.Sent, r.Acked, r.Failed, r.InLog, r.Credited, r.Lost, r.LostAcked, r.AckedNotInLog, r.Duplicated, r.Recovered, r.Verdict,
					e.Killed, e.Held, e.NewLeader, e.KillToLeaderMs, e.HealMs, e.First, e.Last)
			case lessons.FollowerDown:
				fd := r.FollowerDown
				if fd == nil {
					t.Fatal("follower-down left no record of what it did")
				}
				t.Logf("%v: sent %d acked %d failed %d in_log %d credited %d lost %d lost_acked %d dup %d recovered %d refused %d verdict %s; leader %d, follower %d paused and fenced in %d ms, follower %d stopped and the leader alone in %d ms, back in sync %d ms after the resume, healed in %d ms",
					time.Since(start).Round(time.Millisecond), r.Sent, r.Acked, r.Failed, r.InLog, r.Credited, r.Lost, r.LostAcked, r.Duplicated, r.Recovered, r.Refused, r.Verdict,
					fd.Leader, fd.Paused, fd.FencedMs, fd.Stopped, fd.AloneMs, fd.BackMs, fd.HealMs)
				// kafka-go's attempts are read from its log; franz-go's are
				// not counted.
				if rec, _ := lessons.LookupRecipe(c.Guarantee, c.Preset); c.Refused != "" && rec.Client == lessons.KafkaGo && !c.Refused.Holds(r.Refused) {
					t.Errorf("refused for too few in-sync replicas: the claim table says %s, the run shows %d", c.Refused, r.Refused)
				}
				if c.Refused == lessons.Some && !refusedOnTrace(run) {
					t.Error("the trace shows no attempt refused with NOT_ENOUGH_REPLICAS")
				}
			}
			if msg := c.Check(r.Result, r.SideEffectsDuplicated); msg != "" {
				t.Errorf("the claim table says lost %s, lost acked %s, duplicated %s, %s; %s", c.Lost, c.LostAcked, c.Duplicated, c.Verdict, msg)
			}
			if r.LostAcked != r.AckedNotInLog {
				t.Errorf("lost_acked %d, and %d acknowledged deposits are not in the input topic: every lost acknowledged deposit must be missing at the source", r.LostAcked, r.AckedNotInLog)
			}
		})
	}
}

// TestLeaderCrashLosesAckedEveryTime: leader-crash is precise: under
// acks=1 it loses acknowledged deposits in every run (LAB_LEADER_CRASH_RUNS
// runs, 3 by default, 1 in CI's cluster pass; the measure is 20:
// 20 of 20 after follower-down's cluster changes).
func TestLeaderCrashLosesAckedEveryTime(t *testing.T) {
	needCluster(t)
	runs := 3
	if v, err := strconv.Atoi(os.Getenv("LAB_LEADER_CRASH_RUNS")); err == nil && v > 0 {
		runs = v
	}
	lost := 0
	var election, heal []int64
	for i := range runs {
		r := runOnce(t, lessons.AtMostOnce, lessons.Strict, lessons.LeaderCrash, 200)
		if r.LostAcked > 0 && r.LostAcked == r.AckedNotInLog {
			lost++
		}
		election = append(election, r.Election.KillToLeaderMs)
		heal = append(heal, r.Election.HealMs)
		t.Logf("run %d: acked %d, lost_acked %d (not in the log: %d), elected in %d ms, healed in %d ms", i+1, r.Acked, r.LostAcked, r.AckedNotInLog, r.Election.KillToLeaderMs, r.Election.HealMs)
	}
	t.Logf("leader-crash under acks=1 lost acknowledged deposits in %d of %d runs; kill to new leader %v ms; heal %v ms", lost, runs, election, heal)
	if lost != runs {
		t.Fatalf("acknowledged deposits lost in %d of %d runs, want every run", lost, runs)
	}
}

// refusedOnTrace reports whether the run's trace shows a producer attempt
// the leader refused for too few in-sync replicas, by the broker's name
// for it.
func refusedOnTrace(r *Run) bool {
	events, _ := r.Log.Snapshot()
	for _, e := range events {
		if e.Kind == trace.Error && strings.HasPrefix(e.BrokerError, "NOT_ENOUGH_REPLICAS") {
			return true
		}
	}
	return false
}

// TestClusterLevels plays the levels only cluster mode has on the
// three-broker cluster: "survive a leader crash" fails from its start
// (acks=1 loses acknowledged deposits) and passes with its reference
// answer (acks=all).
func TestClusterLevels(t *testing.T) {
	needCluster(t)
	n := 0
	for _, l := range lessons.Levels() {
		if l.Needs != lessons.NeedsCluster {
			continue
		}
		n++
		t.Run(l.ID, func(t *testing.T) { playLevel(t, l) })
	}
	if n == 0 {
		t.Fatal("no level needs cluster mode")
	}
}
