package pipeline

// The cluster faults: what the nemesis does to the brokers' processes when
// the lab owns them (package cluster implements Cluster).

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/cluster"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// Cluster is a replicated cluster whose broker processes the lab owns.
// Env.Cluster is nil on the embedded broker and on an external cluster.
type Cluster interface {
	// Partition reads topic's partition 0 from the cluster's metadata:
	// its leader, replicas and in-sync set.
	Partition(ctx context.Context, topic string) (leader int32, replicas, isr []int32, err error)
	// Processes is each broker's process state as the lab left it
	// (running, paused, killed); it asks the cluster nothing.
	Processes() map[int32]string
	Pause(id int32) error  // SIGSTOP
	Resume(id int32) error // SIGCONT
	Kill(id int32) error   // SIGKILL
	// ServingLeader waits for a leader of topic's partition 0 other than
	// old that answers for it.
	ServingLeader(ctx context.Context, topic string, old int32) (int32, error)
	// Heal resumes paused brokers, restarts killed ones and waits until
	// every replica of every partition is in sync.
	Heal(ctx context.Context) error
	// CreateTopics creates a run's topics with the input led by a broker
	// that leads neither the ledger nor a coordinator's partition, so
	// killing it strikes the input alone.
	CreateTopics(ctx context.Context, ts cluster.Topics) error
	// Stop shuts a broker down (SIGTERM, a controlled shutdown); Heal
	// restarts it.
	Stop(id int32) error
}

// ErrNeedsCluster refuses a run of a fault that only a cluster the lab
// owns can inject.
var ErrNeedsCluster = errors.New("this fault kills and pauses brokers, so it needs a cluster the lab starts and owns: restart the lab with go run ./server -cluster 3 (or LAB_CLUSTER=3; Java 17+ required)")

// clusterFaults serialises the cluster faults of concurrent runs: one
// broker down at a time, healed before the next.
var clusterFaults sync.Mutex

const (
	// holdBack is how long the followers are paused before the leader is
	// given writes: longer than replica.fetch.wait.max.ms (500 ms), or a
	// follower's long-poll fetch, sent just before the pause, is answered
	// with the new records, which then sit in its socket buffer and reach
	// it on resume (producing within 0.5 s of the pause lost nothing in 4
	// of 4 runs).
	holdBack = time.Second
	// ackWindow bounds how long the leader alone takes writes before it is
	// killed. With acks=all nothing is acknowledged meanwhile; with acks=1
	// the kill comes as soon as every deposit is acknowledged. The pause
	// stays well under a second-quorum timeout: with combined nodes, two
	// paused of three leave no quorum, so nothing fences them.
	ackWindow = 1500 * time.Millisecond
)

// Election is what leader-crash did to the input partition.
type Election struct {
	Killed    int32   `json:"killed"`     // the leader killed
	Held      []int32 `json:"held"`       // its followers, paused meanwhile
	NewLeader int32   `json:"new_leader"` // the follower elected
	// KillToLeaderMs is the time from the kill to the new leader
	// answering for the partition.
	KillToLeaderMs int64 `json:"kill_to_leader_ms"`
	// HealMs is the time from the election to the killed broker being
	// back and every replica in sync.
	HealMs int64 `json:"heal_ms"`
	// First and Last are the deposits sent while only the leader could
	// have them.
	First int `json:"first"`
	Last  int `json:"last"`
}

// leaderCrash is leader-crash in one run: holdFollowers, then crash in the
// background while the producer goes on, then heal before the audit.
type leaderCrash struct {
	r        *Run
	cl       Cluster
	leader   int32
	replicas []int32 // the input partition's, leader first or not
	isr      []int32 // as the metadata said before the pause
	held     []int32
	first    int
	crashed  chan struct{}
	election Election
	err      error
	locked   bool
	started  bool // crash is running: heal waits for it
}

// holdFollowers pauses the followers of the input's leader and waits
// holdBack. What the producer has handed its client and seen acknowledged
// by then (a paced run's first deposits; an unpaced run hands nothing over
// this early) is left to reach the followers first.
func (r *Run) holdFollowers(ctx context.Context) (*leaderCrash, error) {
	cl := r.env.Cluster
	// The high watermark passes what was acknowledged once every in-sync
	// follower has copied it: only what comes next is the leader's alone.
	for settle := time.Now().Add(5 * time.Second); time.Now().Before(settle); time.Sleep(20 * time.Millisecond) {
		acked := r.Progress.Acked.Load()
		if acked < r.Progress.Sent.Load() {
			continue
		}
		if offs, err := r.env.Admin.ListEndOffsets(ctx, r.Names.Input); err == nil {
			if o, ok := offs.Lookup(r.Names.Input, 0); ok && o.Err == nil && o.Offset >= acked {
				break
			}
		}
	}
	clusterFaults.Lock()
	first := int(r.Progress.Sent.Load()) + 1
	lc := &leaderCrash{r: r, cl: cl, first: first, crashed: make(chan struct{}), locked: true}
	leader, replicas, isr, err := cl.Partition(ctx, r.Names.Input)
	if err != nil {
		lc.release()
		return nil, fmt.Errorf("leader-crash: finding the input's leader: %w", err)
	}
	lc.leader, lc.replicas, lc.isr = leader, replicas, isr
	r.emitReplicas(cl, leader, replicas, isr, "before the fault")
	for _, f := range replicas {
		if f == leader {
			continue
		}
		if err := cl.Pause(f); err != nil {
			_ = cl.Heal(ctx)
			lc.release()
			return nil, fmt.Errorf("leader-crash: %w", err)
		}
		lc.held = append(lc.held, f)
	}
	r.emitReplicas(cl, leader, replicas, isr, "followers paused")
	r.emit(trace.Event{Actor: trace.Nemesis, Kind: trace.FaultKind, Topic: r.Names.Input, Offset: -1, Fault: string(lessons.LeaderCrash), Phase: trace.Armed,
		Detail: fmt.Sprintf("followers %s of leader %d paused (SIGSTOP): they copy nothing more", ids(lc.held), leader)})
	select {
	case <-ctx.Done():
		lc.heal(context.Background())
		return nil, ctx.Err()
	case <-time.After(holdBack):
	}
	lc.started = true
	go lc.crash(ctx)
	return lc, nil
}

// crash kills the leader once it has acknowledged every deposit sent so
// far, or after ackWindow, resumes the followers and waits for one of
// them to lead.
func (lc *leaderCrash) crash(ctx context.Context) {
	defer close(lc.crashed)
	r := lc.r
	deadline := time.Now().Add(ackWindow)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if sent := r.Progress.Sent.Load(); sent >= int64(lc.first) && sent == int64(r.Spec.Messages) && r.Progress.Acked.Load() == sent {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	last := int(r.Progress.Sent.Load())
	lc.election = Election{Killed: lc.leader, Held: lc.held, NewLeader: -1, First: lc.first, Last: last}
	if err := lc.cl.Kill(lc.leader); err != nil {
		lc.err = err
		return
	}
	killed := time.Now()
	r.emitReplicas(lc.cl, -1, lc.replicas, lc.isr, "leader killed")
	for _, f := range lc.held {
		if err := lc.cl.Resume(f); err != nil {
			lc.err = err
		}
	}
	b := r.Log.Batch()
	b.Add(trace.Event{Actor: trace.Nemesis, Kind: trace.FaultKind, Topic: r.Names.Input, Offset: -1, Fault: string(lessons.LeaderCrash), Phase: trace.Struck,
		Detail: fmt.Sprintf("leader %d killed (SIGKILL) holding deposits its followers never copied; followers %s resumed", lc.leader, ids(lc.held))})
	for seq := lc.first; seq <= last; seq++ {
		b.Add(trace.Event{Actor: trace.Nemesis, Kind: trace.FaultKind, Deposit: seq, Topic: r.Names.Input, Offset: -1, Fault: string(lessons.LeaderCrash), Phase: trace.Struck,
			Detail: fmt.Sprintf("sent while only leader %d could have it", lc.leader)})
	}
	b.Emit()
	r.nemesis.strike(lessons.LeaderCrash, max(0, last-lc.first+1))
	ectx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	nl, err := lc.cl.ServingLeader(ectx, r.Names.Input, lc.leader)
	if err != nil {
		lc.err = err
		return
	}
	lc.election.NewLeader, lc.election.KillToLeaderMs = nl, time.Since(killed).Milliseconds()
	if _, replicas, isr, err := lc.cl.Partition(ctx, r.Names.Input); err == nil {
		r.emitReplicas(lc.cl, nl, replicas, isr, "follower elected")
	} else {
		r.emitReplicas(lc.cl, nl, lc.replicas, lc.isr, "follower elected")
	}
	r.emit(trace.Event{Actor: trace.Nemesis, Kind: trace.FaultKind, Topic: r.Names.Input, Offset: -1, Fault: string(lessons.LeaderCrash), Phase: trace.Struck,
		Detail: fmt.Sprintf("follower %d elected leader %.1f s after the kill", nl, float64(lc.election.KillToLeaderMs)/1000)})
}

// heal waits for the crash, restarts the killed broker and waits until
// every replica is in sync: the auditor then reads a log every replica
// agrees on, and the next run starts from a whole cluster.
func (lc *leaderCrash) heal(ctx context.Context) error {
	defer lc.release()
	if lc.started {
		<-lc.crashed
	}
	t0 := time.Now()
	err := lc.cl.Heal(ctx)
	lc.election.HealMs = time.Since(t0).Milliseconds()
	if err == nil {
		if leader, replicas, isr, perr := lc.cl.Partition(ctx, lc.r.Names.Input); perr == nil {
			lc.r.emitReplicas(lc.cl, leader, replicas, isr, "healed")
		}
		lc.r.emit(trace.Event{Actor: trace.Nemesis, Kind: trace.Lifecycle, Offset: -1,
			Detail: fmt.Sprintf("broker %d restarted; every replica in sync again after %.1f s", lc.leader, float64(lc.election.HealMs)/1000)})
	}
	return errors.Join(lc.err, err)
}

func (lc *leaderCrash) release() {
	if lc.locked {
		lc.locked = false
		clusterFaults.Unlock()
	}
}

// emitReplicas puts the input partition's replica set, as the fault left
// it, on the trace: leader (-1: none), the in-sync set the metadata last
// gave, and each replica's process as the lab knows it.
func (r *Run) emitReplicas(cl Cluster, leader int32, replicas, isr []int32, detail string) {
	procs := cl.Processes()
	set := &trace.ReplicaSet{Leader: leader, ISR: slices.Clone(isr)}
	for _, id := range slices.Sorted(slices.Values(replicas)) {
		set.Brokers = append(set.Brokers, trace.BrokerState{ID: id, State: procs[id]})
	}
	r.emit(trace.Event{Actor: trace.Broker, Kind: trace.Replicas, Topic: r.Names.Input, Offset: -1, Replicas: set, Detail: detail})
}

func ids(xs []int32) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
