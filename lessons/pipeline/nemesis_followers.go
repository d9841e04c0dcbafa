package pipeline

// follower-down: the followers of the input partition stop one by one, the
// in-sync set shrinks to the leader alone, and one follower comes back.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// The in-sync set shrinks only through the KRaft controller
// (AlterPartition), and the lab's three nodes are each a controller too:
// with two of them down there is no quorum, and nothing can shrink it
// (acks=all writes would just time out). So the first follower is paused
// (SIGSTOP) while two controllers remain, and the controller fences it once
// its heartbeats stop for broker.session.timeout.ms (3 s); the second is
// shut down (SIGTERM), and its controlled shutdown takes it out of the
// in-sync set while its own controller still counts for the quorum. The
// paused one is resumed after leaderAlone: it rejoins the quorum, is
// unfenced, copies what it missed and is in sync again.
const (
	// leaderAlone is how long the in-sync set stays the leader alone: a
	// few of kafka-go's attempts (0.1, 0.4, 0.9, 1.6, 2 s apart) are
	// refused meanwhile.
	leaderAlone = 3 * time.Second
	// isrWait bounds each wait for the in-sync set to change.
	isrWait = 30 * time.Second
)

// FollowerDown is what follower-down did to the input partition.
type FollowerDown struct {
	Leader  int32 `json:"leader"`
	Paused  int32 `json:"paused"`  // fenced by the controller, then resumed
	Stopped int32 `json:"stopped"` // controlled shutdown; restarted after the run
	// FencedMs is the time from the pause to the controller taking the
	// paused follower out of the in-sync set.
	FencedMs int64 `json:"fenced_ms"`
	// AloneMs is the time from the shutdown to the in-sync set being the
	// leader alone.
	AloneMs int64 `json:"alone_ms"`
	// BackMs is the time from resuming the paused follower to its being
	// in sync again: acks=all writes are taken again from then on.
	BackMs int64 `json:"back_ms"`
	// Refused counts the produce attempts the leader refused with
	// NOT_ENOUGH_REPLICAS or NOT_ENOUGH_REPLICAS_AFTER_APPEND.
	Refused int `json:"refused"`
	// HealMs is the time from the paused follower being in sync again to
	// the stopped one being restarted and every replica in sync.
	HealMs int64 `json:"heal_ms"`
}

// followerDown is follower-down in one run, from stopFollowers to heal.
type followerDown struct {
	r        *Run
	cl       Cluster
	replicas []int32
	back     chan struct{} // closed once the paused follower is in sync again
	first    int           // the first deposit sent with the leader alone
	fd       FollowerDown
	err      error
	locked   bool
}

// stopFollowers takes the followers of the input's leader out of its
// in-sync set, one after the other, and returns once it is the leader
// alone; in the background it resumes the paused one after leaderAlone.
func (r *Run) stopFollowers(ctx context.Context) (*followerDown, error) {
	cl := r.env.Cluster
	clusterFaults.Lock()
	fd := &followerDown{r: r, cl: cl, back: make(chan struct{}), locked: true}
	fail := func(err error) (*followerDown, error) {
		close(fd.back)
		_ = fd.heal(context.Background())
		return nil, fmt.Errorf("follower-down: %w", err)
	}
	leader, replicas, isr, err := cl.Partition(ctx, r.Names.Input)
	if err != nil {
		return fail(fmt.Errorf("finding the input's leader: %w", err))
	}
	var followers []int32
	for _, id := range replicas {
		if id != leader {
			followers = append(followers, id)
		}
	}
	if len(followers) < 2 {
		return fail(fmt.Errorf("the input has %d followers, want 2", len(followers)))
	}
	fd.replicas, fd.fd = replicas, FollowerDown{Leader: leader, Paused: followers[0], Stopped: followers[1]}
	r.emitReplicas(cl, leader, replicas, isr, "before the fault")

	t0 := time.Now()
	if err := cl.Pause(fd.fd.Paused); err != nil {
		return fail(err)
	}
	r.emitReplicas(cl, leader, replicas, isr, fmt.Sprintf("follower %d paused", fd.fd.Paused))
	r.emit(trace.Event{Actor: trace.Nemesis, Kind: trace.FaultKind, Topic: r.Names.Input, Offset: -1, Fault: string(lessons.FollowerDown), Phase: trace.Armed,
		Detail: fmt.Sprintf("follower %d paused (SIGSTOP): no fetches, no heartbeats; the controller fences it after broker.session.timeout.ms", fd.fd.Paused)})
	isr, err = fd.waitISR(ctx, func(isr []int32) bool { return !slices.Contains(isr, fd.fd.Paused) })
	if err != nil {
		return fail(err)
	}
	fd.fd.FencedMs = time.Since(t0).Milliseconds()
	r.emitReplicas(cl, leader, replicas, isr, fmt.Sprintf("follower %d fenced: out of the in-sync set after %.1f s", fd.fd.Paused, float64(fd.fd.FencedMs)/1000))

	t1 := time.Now()
	if err := cl.Stop(fd.fd.Stopped); err != nil {
		return fail(err)
	}
	if _, _, now, err := cl.Partition(ctx, r.Names.Input); err == nil {
		isr = now
	}
	r.emitReplicas(cl, leader, replicas, isr, fmt.Sprintf("follower %d shut down", fd.fd.Stopped))
	isr, err = fd.waitISR(ctx, func(isr []int32) bool { return slices.Equal(isr, []int32{leader}) })
	if err != nil {
		return fail(err)
	}
	fd.fd.AloneMs = time.Since(t1).Milliseconds()
	r.emitReplicas(cl, leader, replicas, isr, "the in-sync set is the leader alone")
	r.emit(trace.Event{Actor: trace.Nemesis, Kind: trace.FaultKind, Topic: r.Names.Input, Offset: -1, Fault: string(lessons.FollowerDown), Phase: trace.Struck,
		Detail: fmt.Sprintf("follower %d shut down (SIGTERM, a controlled shutdown); leader %d is alone in the in-sync set %.1f s later: acks=all with min.insync.replicas=%d is refused, acks=1 is not",
			fd.fd.Stopped, leader, float64(fd.fd.AloneMs)/1000, r.recipe.MinInsyncReplicas())})
	fd.first = int(r.Progress.Sent.Load()) + 1
	go fd.resume(ctx)
	return fd, nil
}

// resume brings the paused follower back after leaderAlone and waits until
// it is in sync again.
func (fd *followerDown) resume(ctx context.Context) {
	defer close(fd.back)
	r := fd.r
	select {
	case <-ctx.Done():
		return
	case <-time.After(leaderAlone):
	}
	last := int(r.Progress.Sent.Load())
	b := r.Log.Batch()
	for seq := fd.first; seq <= last; seq++ {
		b.Add(trace.Event{Actor: trace.Nemesis, Kind: trace.FaultKind, Deposit: seq, Topic: r.Names.Input, Offset: -1, Fault: string(lessons.FollowerDown), Phase: trace.Struck,
			Detail: fmt.Sprintf("sent while leader %d was alone in the in-sync set", fd.fd.Leader)})
	}
	b.Emit()
	r.nemesis.strike(lessons.FollowerDown, max(0, last-fd.first+1))
	t0 := time.Now()
	if err := fd.cl.Resume(fd.fd.Paused); err != nil {
		fd.err = err
		return
	}
	isr := []int32{fd.fd.Leader} // as last read, unless the metadata says otherwise now
	if _, _, now, err := fd.cl.Partition(ctx, r.Names.Input); err == nil {
		isr = now
	}
	r.emitReplicas(fd.cl, fd.fd.Leader, fd.replicas, isr, fmt.Sprintf("follower %d resumed (SIGCONT)", fd.fd.Paused))
	isr, err := fd.waitISR(ctx, func(isr []int32) bool { return slices.Contains(isr, fd.fd.Paused) })
	if err != nil {
		fd.err = err
		return
	}
	fd.fd.BackMs = time.Since(t0).Milliseconds()
	r.emitReplicas(fd.cl, fd.fd.Leader, fd.replicas, isr, fmt.Sprintf("follower %d in sync again after %.1f s", fd.fd.Paused, float64(fd.fd.BackMs)/1000))
	// The stopped follower is restarted now, while the run finishes, not
	// after it: its JVM's start (10 s and more on two busy cores) overlaps
	// the rest of the run.
	t1 := time.Now()
	hctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := fd.cl.Heal(hctx); err == nil {
		fd.fd.HealMs = time.Since(t1).Milliseconds()
		fd.healed()
	}
}

// healed puts the whole replica set on the trace.
func (fd *followerDown) healed() {
	r := fd.r
	if leader, replicas, isr, err := fd.cl.Partition(context.Background(), r.Names.Input); err == nil {
		r.emitReplicas(fd.cl, leader, replicas, isr, "healed")
	}
	r.emit(trace.Event{Actor: trace.Nemesis, Kind: trace.Lifecycle, Offset: -1,
		Detail: fmt.Sprintf("broker %d restarted; every replica in sync again after %.1f s", fd.fd.Stopped, float64(fd.fd.HealMs)/1000)})
}

// waitISR polls the input's in-sync set, as the metadata gives it, until
// ok holds, at most isrWait.
func (fd *followerDown) waitISR(ctx context.Context, ok func([]int32) bool) ([]int32, error) {
	ctx, cancel := context.WithTimeout(ctx, isrWait)
	defer cancel()
	var last []int32
	for {
		if _, _, isr, err := fd.cl.Partition(ctx, fd.r.Names.Input); err == nil {
			slices.Sort(isr)
			last = isr
			if ok(isr) {
				return isr, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the input's in-sync set stayed %v for %s", last, isrWait)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// heal waits for the paused follower and the early restart of the stopped
// one (resume), and heals what they left undone (a run cut short), so
// that every replica is in sync before the audit and the next run.
func (fd *followerDown) heal(ctx context.Context) error {
	defer func() {
		if fd.locked {
			fd.locked = false
			clusterFaults.Unlock()
		}
	}()
	<-fd.back
	fd.fd.Refused = int(fd.r.refused.Load())
	t0 := time.Now()
	err := fd.cl.Heal(ctx) // at once when resume has healed it
	if err == nil && fd.fd.HealMs == 0 {
		fd.fd.HealMs = time.Since(t0).Milliseconds()
		fd.healed()
	}
	return errors.Join(fd.err, err)
}

// transportWaits are how long a kafka-go transport of run r waits for a
// new connection's handshake and keeps its metadata (0: kafka-go's 5 s
// and 6 s). Under follower-down, 30 s each. A transport refreshes its
// metadata from any broker, on a connection it may open then: to the
// paused follower the TCP connect succeeds (the kernel answers for it) and
// the handshake, or the refresh, whose deadline is the TTL, timed out
// instead, leaving the transport failing every request with that timeout
// until its next refresh (a processor's ledger write, 1 run in 3). With
// 30 s both outlast the pause, and the leader, which follower-down leaves
// in place, stays known meanwhile. leader-crash keeps the defaults: a
// killed broker refuses connections at once, and kafka-go learns the new
// leader when its metadata expires.
func transportWaits(r *Run) (dial, metadataTTL time.Duration) {
	if r.Spec.Fault == lessons.FollowerDown {
		return 30 * time.Second, 30 * time.Second
	}
	return 0, 0
}

// attemptLog is a kafka-go writer's ErrorLogger: kafka-go retries inside
// the writer and reports only a batch's last error, so each failed attempt
// is read from its log line ("error writing messages to %s (partition %d,
// attempt %d): %s") and put on the trace with the broker's error name.
type attemptLog struct {
	r     *Run
	tries int
}

func (l attemptLog) Printf(format string, args ...any) {
	if !strings.HasPrefix(format, "error writing messages") || len(args) != 4 {
		return
	}
	attempt, _ := args[2].(int)
	err, _ := args[3].(error)
	var ke kafka.Error
	if !errors.As(err, &ke) {
		return
	}
	name := fmt.Sprintf("error %d", int(ke))
	if e := kerr.ErrorForCode(int16(ke)); e != nil {
		var k *kerr.Error
		if errors.As(e, &k) {
			name = k.Message
		}
	}
	if ke == kafka.NotEnoughReplicas || ke == kafka.NotEnoughReplicasAfterAppend {
		l.r.refused.Add(1)
	}
	next := "retried"
	if attempt+1 >= l.tries {
		next = "the last attempt: the send fails"
	}
	l.r.emit(trace.Event{Actor: trace.Producer, Kind: trace.Error, Attempt: attempt + 1, Topic: l.r.Names.Input, Offset: -1, BrokerError: name,
		Detail: fmt.Sprintf("attempt %d of %d refused by the leader: %s; %s", attempt+1, l.tries, name, next)})
}

var _ kafka.Logger = attemptLog{}
