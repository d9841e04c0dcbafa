package pipeline

// The rebalance fault: a processor instance joins the group mid-run.

import (
	"context"
	"slices"
	"time"

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

// joinerFetched notes, from Run.observe, that instance fetched: if it is
// the joiner, the hand-over happened.
func (r *Run) joinerFetched(instance string) {
	if j := r.joiner.Load(); j != nil && *j == instance {
		r.handOverOnce.Do(func() { close(r.handedOver) })
	}
}
