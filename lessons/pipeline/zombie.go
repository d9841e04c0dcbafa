package pipeline

// processor-stall: a processor that is slow, not dead, and wakes as a zombie.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/faultconn"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// errZombie ends a processor instance that woke from a stall and finished
// its batch: the group gave its partition away meanwhile, so, like a
// deployment that notices, the lab shuts it down the way a dead process
// goes (no LeaveGroup, which would disturb the instance that took over).
var errZombie = errors.New("the stalled instance finished its batch as a zombie")

// zombie is a frozen processor instance waiting to wake.
type zombie struct {
	instance string
	frozenAt time.Time
	wake     chan struct{}
}

// zombies are the frozen instances of a run.
type zombies struct {
	mu     sync.Mutex
	frozen []*zombie
	// stalled hands the supervisor each instance that froze, so it starts
	// the next one while the frozen one keeps its goroutine.
	stalled chan string
	// refusals are the broker's fencing errors, as the clients returned
	// them, in the order they came.
	refusals []*kerr.Error
}

// stall freezes instance right after it credited the deposit keyed key,
// before its next commit: every connection of its client holds still
// (dialer.Freeze), heartbeats included, as in a long GC pause, and this
// goroutine waits. The group's coordinator hears nothing for the session
// timeout, drops the member and gives its partition to the next instance.
// stall returns when the instance wakes: once a newer instance has
// credited a deposit, or the run is processed.
func (r *Run) stall(ctx context.Context, key []byte, instance string, dialer *faultconn.Dialer) error {
	r.nemesis.stalled()
	z := &zombie{instance: instance, frozenAt: time.Now(), wake: make(chan struct{})}
	dialer.Freeze()
	defer dialer.Thaw()
	r.emit(trace.Event{Actor: trace.Processor, Kind: trace.Stall, ID: string(key), Instance: instance, Offset: -1,
		Fault: string(lessons.ProcessorStall), Phase: trace.Struck,
		Detail: fmt.Sprintf("froze after crediting %s, before its next commit: no heartbeats, so after the session timeout (%s) the group gives its partition to a new instance", key, r.sessionTimeout())})
	r.zombies.mu.Lock()
	r.zombies.frozen = append(r.zombies.frozen, z)
	r.zombies.mu.Unlock()
	select {
	case r.zombies.stalled <- instance:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-z.wake:
	case <-ctx.Done():
		return ctx.Err()
	}
	r.emit(trace.Event{Actor: trace.Processor, Kind: trace.Wake, Instance: instance, Offset: -1,
		Detail: fmt.Sprintf("woke after %s, unaware, and finishes its batch: credits the rest and commits", time.Since(z.frozenAt).Round(time.Millisecond))})
	return nil
}

// wakeZombies wakes every frozen instance but by: by has credited a
// deposit ("" when the run is processed). The first credit of a newer
// instance is the takeover, and how long it took after the freeze is
// measured.
func (r *Run) wakeZombies(by string) {
	r.zombies.mu.Lock()
	defer r.zombies.mu.Unlock()
	keep := r.zombies.frozen[:0]
	for _, z := range r.zombies.frozen {
		if z.instance == by {
			keep = append(keep, z)
			continue
		}
		if by != "" {
			d := time.Since(z.frozenAt)
			r.takeover.CompareAndSwap(0, d.Microseconds())
			r.emit(trace.Event{Actor: trace.Processor, Kind: trace.Lifecycle, Instance: by, Offset: -1,
				Detail: fmt.Sprintf("%s credited its first deposit %s after %s froze: the takeover", by, d.Round(time.Millisecond), z.instance)})
		}
		close(z.wake)
	}
	clear(r.zombies.frozen[len(keep):])
	r.zombies.frozen = keep
}

// frozenCount is how many instances are frozen.
func (r *Run) frozenCount() int {
	r.zombies.mu.Lock()
	defer r.zombies.mu.Unlock()
	return len(r.zombies.frozen)
}

// fencingErrors are the errors by which a broker refuses a member or a
// producer that a newer one replaced: the transaction coordinator fences a
// producer whose epoch a newer InitProducerID bumped, the group
// coordinator a member of a past generation or one it dropped.
var fencingErrors = []error{
	kerr.ProducerFenced, kerr.InvalidProducerEpoch, kerr.InvalidProducerIDMapping,
	kerr.IllegalGeneration, kerr.UnknownMemberID, kerr.FencedInstanceID, kerr.RebalanceInProgress,
}

// brokerFencing returns the first of errs that is a broker's fencing
// error, or nil.
func brokerFencing(errs ...error) *kerr.Error {
	for _, err := range errs {
		for _, f := range fencingErrors {
			var ke *kerr.Error
			if errors.Is(err, f) && errors.As(err, &ke) {
				return ke
			}
		}
	}
	return nil
}

// fenced puts on the trace that the broker refused instance, a zombie,
// with err: what it tried (what) and what that means.
func (r *Run) fenced(instance, what string, err *kerr.Error) {
	r.zombies.mu.Lock()
	r.zombies.refusals = append(r.zombies.refusals, err)
	r.zombies.mu.Unlock()
	r.emit(trace.Event{Actor: trace.Broker, Kind: trace.Fenced, Instance: instance, Offset: -1, BrokerError: err.Message,
		Detail: fmt.Sprintf("the broker refused %s's %s with %s: a newer instance took its place", instance, what, err.Message)})
}
