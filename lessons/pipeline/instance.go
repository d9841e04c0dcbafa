package pipeline

// Processor instances, whatever their client: supervised, crashed, released, caught up.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/deposit"
	"github.com/kafka-delivery-lab/lab/lessons/faultconn"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

const (
	// linger is how long a processor waits to fill a batch once it has
	// the first record of it.
	linger = 5 * time.Millisecond
	// idle is how long a processor waits for a record before it checks
	// whether the run is processed.
	idle = 250 * time.Millisecond
	// closeWait bounds how long a crashed instance may take to let go of
	// its resources; its connections are already severed.
	closeWait = 5 * time.Second
)

// supervise runs the processor group: Spec.Processors instances at once,
// until every one of them has found the group caught up with every
// partition's end marker. An instance that crashed is replaced by a new
// one, as a real deployment would restart it; a rebalance (r.joins) adds
// one. The first instance error ends the others and is the group's.
//
// An instance that froze (processor-stall) keeps its goroutine: the next
// instance starts beside it, as a deployment whose health check saw the
// member leave the group would start one. Once only frozen instances are
// left the run is processed, and they wake, finish as zombies and end.
func (r *Run) supervise(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type end struct {
		instance string
		err      error
	}
	ended := make(chan end)
	instances, running := 0, 0
	zombies := map[string]bool{} // frozen instances, until they end
	// slots: which slot each instance holds (Names.ProcessorTxnIDFor). A
	// replacement takes the slot of the instance it replaces, as a
	// restarted pod keeps its name; a joiner takes a new one.
	slots, nextSlot := map[string]int{}, 0
	start := func(e *trace.Event, slot int) {
		instances++
		running++
		name := fmt.Sprintf("p-%d", instances)
		if slot == 0 {
			nextSlot++
			slot = nextSlot
		}
		slots[name] = slot
		if e != nil {
			e.Instance = name
			r.emit(*e)
		}
		go func() {
			err := r.process(ctx, name, slot)
			r.left(name)
			ended <- end{name, err}
		}()
	}
	restart := func() *trace.Event {
		return &trace.Event{Actor: trace.Processor, Kind: trace.Restart, Offset: -1,
			Detail: "a new processor instance joins the group and resumes from the committed offset"}
	}
	for range r.processors() {
		start(nil, 0)
	}
	var first error
	for running > 0 {
		select {
		case e := <-ended:
			running--
			switch {
			case zombies[e.instance]:
				delete(zombies, e.instance)
				if e.err != nil && !errors.Is(e.err, errZombie) && !errors.Is(e.err, errCrashed) && first == nil {
					first = e.err
					cancel(e.err)
				}
			case errors.Is(e.err, errCrashed):
				if first == nil {
					start(restart(), slots[e.instance])
				}
			case e.err != nil && first == nil:
				first = e.err
				cancel(e.err)
			}
		case name := <-r.zombies.stalled:
			zombies[name] = true
			if first == nil {
				start(restart(), slots[name])
			}
		case <-r.joins:
			if first == nil && running > 0 {
				name := fmt.Sprintf("p-%d", instances+1)
				r.joiner.Store(&name)
				start(&trace.Event{Actor: trace.Processor, Kind: trace.Lifecycle, Offset: -1,
					Detail: name + " joins the group: the group rebalances and moves partitions to it"}, 0)
			}
		}
		if len(zombies) > 0 && running == len(zombies) {
			r.wakeZombies("") // still frozen: the run is processed, and they wake
		}
	}
	return first
}

var errCrashed = errors.New("processor crashed (injected)")

// process runs one processor instance in slot (supervise).
func (r *Run) process(ctx context.Context, instance string, slot int) error {
	// The recipe's client is its producer's. A custom run with a
	// franz-go producer and commit before or after, or dedup, is
	// processed by kafka-go, the processor that has those.
	switch {
	case r.recipe.Commit == lessons.CommitInTransaction:
		return newTxnProcessor(r, instance, r.Names.ProcessorTxnIDFor(slot)).run(ctx)
	case r.recipe.Client == lessons.FranzGo && r.recipe.Commit == lessons.CommitAuto && !r.recipe.Dedup:
		return newAutoCommitProcessor(r, instance).run(ctx)
	default:
		return newKafkaGoProcessor(r, instance).run(ctx)
	}
}

// crash ends a processor instance, as the nemesis planned, right after it
// credited the deposit keyed key; how tells what that leaves behind.
func (r *Run) crash(key []byte, instance, how string) {
	r.nemesis.crashed()
	r.emit(trace.Event{Actor: trace.Processor, Kind: trace.Crash, ID: string(key), Instance: instance, Offset: -1,
		Fault: string(lessons.ProcessorCrash), Phase: trace.Struck,
		Detail: "crashed after crediting " + string(key) + how})
}

// release closes an instance's client when the instance ends: at once
// after a clean end; after a crash, the way a dead process lets go, with
// its connections reset first and a bounded wait.
func release(err error, dialer *faultconn.Dialer, closeFn func()) {
	if errors.Is(err, errCrashed) || errors.Is(err, errZombie) {
		dialer.Sever()
		closeBounded(closeFn)
		return
	}
	closeFn()
}

// closeBounded runs a client's Close, waiting at most closeWait: a dead
// instance's clients may retry into severed connections for a while.
func closeBounded(closeFn func()) {
	done := make(chan struct{})
	go func() { closeFn(); close(done) }()
	select {
	case <-done:
	case <-time.After(closeWait):
	}
}

// batchLimit is how many records the processor takes at once: one at a
// time while the run is paced or paused, so each step is one deposit's
// real Kafka calls; a full batch otherwise.
func (r *Run) batchLimit() int {
	if r.Pacer.Slowed() {
		return 1
	}
	return r.env.Tuning.Batch
}

// fetchEvent is what a processor fetched from the input topic.
func fetchEvent(key []byte, instance, topic string, partition int32, offset int64) trace.Event {
	e := trace.Event{Actor: trace.Broker, Kind: trace.Fetch, Instance: instance, Topic: topic, Partition: partition, Offset: offset}
	if seq, ok := deposit.ParseID(string(key)); ok {
		e.Deposit = seq
	} else {
		e.ID = string(key) // the end marker, or a stranger
	}
	return e
}
