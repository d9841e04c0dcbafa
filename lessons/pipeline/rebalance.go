package pipeline

// The rebalance fault: a processor instance joins the group mid-run.

import (
	"context"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/deposit"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// armJoinLocked adds a rebalance point: once a deposit numbered seq or
// more is credited, a new instance joins. n.mu is held.
func (n *nemesis) armJoinLocked(seq int) {
	at := int64(max(seq, 1))
	i, _ := slices.BinarySearch(n.joins, at)
	n.joins = slices.Insert(n.joins, i, at)
	n.joinAfter.Store(n.joins[0])
}

// joinDue consumes the lowest rebalance point if a credit of one of seqs
// reached it, and returns the first such deposit: one instance joins per
// point.
func (n *nemesis) joinDue(seqs []int) (int, bool) {
	at := n.joinAfter.Load()
	i := slices.IndexFunc(seqs, func(seq int) bool { return at > 0 && int64(seq) >= at })
	if i < 0 {
		return 0, false // nearly every batch
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.joins) == 0 || n.joins[0] != at {
		return 0, false // another instance's credit consumed it
	}
	n.joins = n.joins[1:]
	next := int64(0)
	if len(n.joins) > 0 {
		next = n.joins[0]
	}
	n.joinAfter.Store(next)
	return seqs[i], true
}

// handOverWait bounds how long the instance whose credits struck waits
// for the joiner: a joining member is in the group within a rebalance
// timeout or two (Tuning.SessionTimeout), and a joiner that got only
// partitions with nothing left to read never fetches.
const handOverWait = 5 * time.Second

// rebalanceIfDue is called by an instance that has written the credits of
// seqs and not yet committed them. When they reached a rebalance point it
// asks supervise for a new instance and waits until the joiner has
// fetched its first record (at most handOverWait), then returns, and the
// instance goes on to commit as it always does: the group hands partitions
// over while the instance holds credited, uncommitted records, which is
// the moment a rebalance meets a busy consumer. The group, not the lab,
// decides which partitions move. Only the first rebalance of a run waits:
// the others find the hand-over done.
func (r *Run) rebalanceIfDue(ctx context.Context, seqs []int, instance string) {
	at, ok := r.nemesis.joinDue(seqs)
	if !ok {
		return
	}
	r.nemesis.strike(lessons.Rebalance, 0)
	r.emit(trace.Event{Actor: trace.Nemesis, Kind: trace.FaultKind, ID: deposit.ID(at), Instance: instance, Offset: -1,
		Fault: string(lessons.Rebalance), Phase: trace.Struck,
		Detail: instance + " credited " + deposit.ID(at) + " and has not committed it yet: a new instance joins the group, which rebalances and moves partitions to it; no instance crashed"})
	select {
	case r.joins <- struct{}{}:
	default: // one is already on its way; joins has room for one
	}
	t := time.NewTimer(handOverWait)
	defer t.Stop()
	select {
	case <-r.handedOver:
	case <-t.C:
	case <-ctx.Done():
	}
}

// isJoiner reports whether instance is the one a rebalance added.
func (r *Run) isJoiner(instance string) bool {
	j := r.joiner.Load()
	return j != nil && *j == instance
}

// joined notes that instance has its first assignment, or fetched its
// first record: if it is the joiner, the group has rebalanced, every
// member is in the new generation and the joiner has read the committed
// offsets of the partitions it got. The hand-over happened.
func (r *Run) joined(instance string) {
	if r.isJoiner(instance) {
		r.handOverOnce.Do(func() {
			r.emit(trace.Event{Actor: trace.Processor, Kind: trace.Lifecycle, Instance: instance, Offset: -1,
				Detail: instance + " is in the group: the rebalance is over and the partitions it got resume from their committed offsets"})
			close(r.handedOver)
		})
	}
}

// left notes that instance ended: if it is the joiner, nobody need wait
// for it any more. A joiner that finds the group caught up with every end
// marker ends before it has joined.
func (r *Run) left(instance string) {
	if r.isJoiner(instance) {
		r.handOverOnce.Do(func() { close(r.handedOver) })
	}
}

// onAssigned is a franz-go member's part of joined. franz-go balances
// cooperatively by default: a joiner's first assignment is empty, and
// the partitions come in a second rebalance, once their owners have
// given them up. The hand-over is that second one.
func onAssigned(r *Run, instance string) kgo.Opt {
	return kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
		if len(assigned[r.Names.Input]) > 0 {
			r.joined(instance)
		}
	})
}
