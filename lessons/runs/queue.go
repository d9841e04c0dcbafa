package runs

import (
	"context"
	"errors"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons/pipeline"
)

// Capacity is budgeted by work, not by count. A full-speed run is
// CPU-bound while it lasts: it takes a whole slot (Config.MaxConcurrent
// slots in all). A light run — a lesson's few deposits at human pace, or a
// tiny run — spends nearly all its time waiting on its pacer or the
// broker, so Config.LightPerSlot of them share one slot. A run that does
// not fit waits in a bounded FIFO queue and starts when its turn comes.
const (
	// LightPaceMs is the shortest delay between sends at which a run of
	// up to LightMessages deposits counts as light: it then does well
	// under a millisecond of work per send and waits the rest.
	LightPaceMs = 50
	// LightMessages bounds a paced light run: a longer one holds its
	// memory (and, once a learner speeds it up, a core) for long.
	LightMessages = 1000
	// TinyMessages: a run this small is light at any pace; at full speed
	// it is over in well under a second of CPU.
	TinyMessages = 100
	// maxQueuedDeposits bounds the memory queued runs hold (a run keeps a
	// few bytes per deposit from the moment it is asked for): past it a
	// run is refused with ErrQueueFull whatever the queue's length.
	maxQueuedDeposits = 5_000_000
)

// ErrQueueFull is returned when a run does not fit and the queue of
// waiting runs is full.
var ErrQueueFull = errors.New("the lab is full: every run slot is taken and its queue of waiting runs is full; try again in a minute")

// ErrFairShare is returned when one client already has its share of the
// queue waiting.
var ErrFairShare = errors.New("you already have as many runs waiting as one client may: wait for them to start, or cancel one")

// ErrQueued refuses a control of a run that has not started.
var ErrQueued = errors.New("the run is still queued: it can be driven once it starts, or cancelled now")

// ErrNoRoom refuses speeding a light run up to full speed when no
// full-speed slot is free.
var ErrNoRoom = errors.New("no full-speed slot is free now: keep the pace at 50 ms or more, or try again when a run ends")

// light reports whether req's run is light (see Capacity).
func light(req Request) bool {
	m := *req.Messages
	return m <= TinyMessages || (m <= LightMessages && *req.PaceMs >= LightPaceMs)
}

// cost is what a run of req takes from the budget, in units of one light
// run.
func (g *Registry) cost(req Request) int {
	if light(req) {
		return 1
	}
	return g.cfg.LightPerSlot
}

// budget is the units all running runs may take together.
func (g *Registry) budget() int { return g.cfg.MaxConcurrent * g.cfg.LightPerSlot }

// share is how many runs one client may have waiting: a quarter of the
// queue, so that one client cannot crowd out the rest of a class.
func (g *Registry) share() int { return max(1, g.cfg.MaxQueue/4) }

// admitLocked decides whether runs costing cost in all and holding
// deposits may be asked for now by client: nil if they start at once or
// may wait. g.mu is held.
func (g *Registry) admitLocked(client string, n, cost, deposits int) error {
	if len(g.queue) == 0 && g.used+cost <= g.budget() {
		return nil
	}
	switch {
	case g.cfg.MaxQueue == 0:
		return ErrBusy
	case len(g.queue)+n > g.cfg.MaxQueue, g.queuedDeposits+deposits > maxQueuedDeposits:
		return ErrQueueFull
	case g.waiting[client]+n > g.share():
		return ErrFairShare
	}
	return nil
}

// enqueueLocked puts r at the back of the queue. g.mu is held.
func (g *Registry) enqueueLocked(r *Run) {
	r.queuedAt = time.Now()
	g.queue = append(g.queue, r)
	g.waiting[r.client]++
	g.queuedDeposits += *r.Request.Messages
}

// unqueueLocked takes r out of the queue, or reports that it is not in
// it. g.mu is held.
func (g *Registry) unqueueLocked(r *Run) bool {
	i := g.position(r)
	if i < 0 {
		return false
	}
	copy(g.queue[i:], g.queue[i+1:])
	g.queue[len(g.queue)-1] = nil // the backing array must not keep it
	g.queue = g.queue[:len(g.queue)-1]
	if g.waiting[r.client]--; g.waiting[r.client] == 0 {
		delete(g.waiting, r.client)
	}
	g.queuedDeposits -= *r.Request.Messages
	return true
}

// dispatchLocked starts the runs at the head of the queue while they fit.
// Strictly first come, first served: a full-speed run at the head waits
// for its slot rather than be overtaken for ever by light runs. g.mu is
// held.
func (g *Registry) dispatchLocked() {
	for len(g.queue) > 0 && !g.closed {
		r := g.queue[0]
		if g.used+r.cost > g.budget() {
			return
		}
		g.unqueueLocked(r)
		g.used += r.cost
		g.active++
		ctx, cancel := context.WithCancelCause(g.ctx)
		r.mu.Lock()
		r.state, r.waited, r.cancel, r.started = Running, time.Since(r.queuedAt), cancel, time.Now()
		r.mu.Unlock()
		r.Pipeline.Log.StartClock()
		g.wg.Add(1)
		go g.execute(ctx, r)
	}
}

// position is r's place in the queue, 0 for the next to start, or -1.
// g.mu is held.
func (g *Registry) position(r *Run) int {
	for i, q := range g.queue {
		if q == r {
			return i
		}
	}
	return -1
}

// QueuePosition is how many runs are ahead of r in the queue, or -1 once
// r has left it.
func (r *Run) QueuePosition() int {
	if r.mirror != nil {
		if p := r.mirror.snapshot().QueuePosition; p != nil {
			return *p
		}
		return -1
	}
	r.reg.mu.Lock()
	defer r.reg.mu.Unlock()
	return r.reg.position(r)
}

// Waited is how long r waited in the queue before it started (0 while it
// waits, and for a run that started at once).
func (r *Run) Waited() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.waited
}

// Started is when r left the queue and started, at or just before the
// zero of its events' t_us; zero while it waits.
func (r *Run) Started() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.started
}

// speedUp charges a light run as a full-speed one before its pace drops
// below LightPaceMs, or returns ErrNoRoom. A tiny run stays light at any
// pace, and a run already charged in full needs nothing.
func (g *Registry) speedUp(r *Run) error {
	if *r.Request.Messages <= TinyMessages {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if r.cost == g.cfg.LightPerSlot {
		return nil
	}
	extra := g.cfg.LightPerSlot - r.cost
	if g.used+extra > g.budget() {
		return ErrNoRoom
	}
	g.used += extra
	r.cost += extra
	return nil
}

// Cancel ends the run for the holder of its control token: a queued run
// leaves the queue and ends failed without having started; a running one
// is stopped and ends failed. It returns ErrForbidden or ErrFinished.
func (r *Run) Cancel(token string) error {
	if r.mirror != nil {
		return r.mirror.control(r, token, Control{Action: "cancel"})
	}
	if !r.holds(token) {
		return ErrForbidden
	}
	return r.cancelRun()
}

// cancelRun cancels the run for a holder of its token.
func (r *Run) cancelRun() error {
	g := r.reg
	g.mu.Lock()
	queued := g.unqueueLocked(r)
	g.mu.Unlock()
	if queued {
		r.finish(pipeline.Result{}, endCancelledQueued)
		g.keep(r)
		return nil
	}
	r.mu.Lock()
	cancel := r.cancel
	r.mu.Unlock()
	if r.Finished() || cancel == nil {
		return ErrFinished
	}
	cancel(endCancelled)
	return nil
}
