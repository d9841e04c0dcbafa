// Package runs keeps the lab's runs: it starts them within the work budget
// (queue.go), queues those that do not fit, gives each a deadline, reports their state, keeps a finished run's
// topics for a while so a learner can inspect them, then deletes them.
package runs

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/pipeline"
)

// ErrBusy is returned when the concurrent-run bound is reached and the
// registry keeps no queue.
var ErrBusy = errors.New("too many runs at once: wait for one to finish and try again")

// ErrClosed is returned once the registry is shutting down.
var ErrClosed = errors.New("the lab is shutting down and takes no new runs")

// State of a run.
type State string

const (
	Queued  State = "queued"
	Running State = "running"
	Done    State = "done"
	Failed  State = "failed"
)

// Config bounds the registry.
type Config struct {
	// MaxConcurrent is the full-speed runs at once: the CPU-bound budget
	// (queue.go says what a run costs).
	MaxConcurrent int
	// LightPerSlot is how many light runs share one full-speed slot; 0
	// means 1: every run takes a whole slot.
	LightPerSlot int
	// MaxQueue bounds the runs waiting for room, each client holding at
	// most a quarter of it; 0 keeps no queue: a run that does not fit
	// gets ErrBusy.
	MaxQueue  int
	Retention time.Duration // how long a finished run and its topics are kept
	// MaxKept bounds the finished runs kept at once: past it the oldest is
	// forgotten (and its topics deleted) before its retention ends, so a
	// client starting tiny runs in a loop cannot exhaust memory.
	MaxKept int
	// Deadline is how long a run may run, paused time not counted; nil
	// means deadline, generous for the run's size and pace.
	Deadline func(Request) time.Duration
	// Instance names this lab instance in its runs' status when several
	// share one Kafka cluster (package fleet); "" for a lab on its own.
	Instance string
	// Observer, if set, is told of every run (package fleet publishes
	// them to the other instances).
	Observer Observer
	// JoinTaken, if set, reports a join code another instance's run
	// holds, so that a new presenter run takes another.
	JoinTaken func(code string) bool
}

// Registry holds every run the lab knows about.
type Registry struct {
	env pipeline.Env
	cfg Config

	ctx    context.Context // cancelled at shutdown: ends every run
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	runs   map[string]*Run
	joins  map[string]*Run // join code → presenter run
	kept   []*Run          // finished runs, oldest first
	active int             // runs running
	used   int             // budget units the running runs take
	queue  []*Run          // runs waiting for room, first come first
	// waiting counts each client's queued runs; queuedDeposits sums
	// theirs (see maxQueuedDeposits).
	waiting        map[string]int
	queuedDeposits int
	closed         bool
}

// New returns a registry running pipelines in env.
func New(env pipeline.Env, cfg Config) *Registry {
	if cfg.MaxConcurrent < 1 {
		cfg.MaxConcurrent = 4
	}
	if cfg.LightPerSlot < 1 {
		cfg.LightPerSlot = 1
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 10 * time.Minute
	}
	if cfg.MaxKept < 1 {
		cfg.MaxKept = 200
	}
	if cfg.Deadline == nil {
		cfg.Deadline = deadline
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Registry{env: env, cfg: cfg, ctx: ctx, cancel: cancel, runs: map[string]*Run{}, joins: map[string]*Run{}, waiting: map[string]int{}}
}

// Run is one run and its live handles.
type Run struct {
	ID       string
	Request  Request
	Pipeline *pipeline.Run
	Done     chan struct{} // closed when the run is done or failed
	token    string
	joinCode string
	reg      *Registry
	client   string // who asked for it, for the queue's fair share
	cost     int    // budget units it takes while it runs; guarded by reg.mu
	queuedAt time.Time

	mu       sync.Mutex
	state    State
	err      string
	errKey   string // Status.ErrorKey
	result   *pipeline.Result
	finished time.Time
	waited   time.Duration // in the queue
	started  time.Time
	cancel   context.CancelCauseFunc // set when it starts

	mirror *mirror // non-nil: another instance owns the run (mirror.go)
}

// Start validates req and starts its run, or queues it if it does not fit
// (state Queued), or returns a *lessons.FieldError, ErrBusy, ErrQueueFull,
// ErrFairShare or ErrClosed.
func (g *Registry) Start(req Request) (*Run, error) {
	runs, err := g.start([]Request{req}, req.Client)
	if err != nil {
		return nil, err
	}
	return runs[0], nil
}

// Compare starts (or queues, one after the other) one run per guarantee
// under the same fault and size, all or none.
func (g *Registry) Compare(fault lessons.FaultID, messages *int, client string) (map[lessons.GuaranteeID]*Run, error) {
	var reqs []Request
	for _, gu := range lessons.Guarantees() {
		req := Request{RunParams: lessons.RunParams{Guarantee: gu.ID, Fault: fault, Messages: messages}}
		if fault == lessons.Rebalance {
			// A rebalance needs a partition for the joiner; three, as
			// the claim table's runs have, so the comparison shows them.
			n := 3
			req.Partitions = &n
		}
		reqs = append(reqs, req)
	}
	runs, err := g.start(reqs, client)
	if err != nil {
		return nil, err
	}
	out := map[lessons.GuaranteeID]*Run{}
	for _, r := range runs {
		out[r.Request.Guarantee] = r
	}
	return out, nil
}

func (g *Registry) start(reqs []Request, client string) ([]*Run, error) {
	cost, deposits := 0, 0
	for i := range reqs {
		if err := reqs[i].Validate(); err != nil {
			return nil, err
		}
		cost += g.cost(reqs[i])
		deposits += *reqs[i].Messages
	}
	g.mu.Lock()
	out, err := g.startLocked(reqs, client, cost, deposits)
	g.mu.Unlock()
	// Told outside g.mu: an observer reads the runs' status, which takes it.
	if o := g.cfg.Observer; o != nil {
		for _, r := range out {
			o.Created(r)
		}
	}
	return out, err
}

// startLocked admits, creates and queues the runs of start. g.mu is held.
func (g *Registry) startLocked(reqs []Request, client string, cost, deposits int) ([]*Run, error) {
	if g.closed {
		return nil, ErrClosed
	}
	if err := g.admitLocked(client, len(reqs), cost, deposits); err != nil {
		return nil, err
	}
	var out []*Run
	for _, req := range reqs {
		id := newID()
		p, err := pipeline.New(g.env, pipeline.Spec{
			RunID: id, Guarantee: req.Guarantee, Preset: req.Preset, Fault: req.Fault,
			Messages: *req.Messages, Partitions: *req.Partitions, Processors: *req.Processors, Notify: req.Notify, Settings: req.Settings,
		}, pipeline.NewPacer(time.Duration(*req.PaceMs)*time.Millisecond))
		if err != nil {
			return nil, err // Validate already checked everything New checks
		}
		if req.StartPaused {
			p.Pacer.Pause()
		}
		r := &Run{ID: id, Request: req, Pipeline: p, Done: make(chan struct{}), state: Queued, token: newToken(),
			reg: g, client: client, cost: g.cost(req)}
		if req.Presenter {
			for r.joinCode == "" || g.joins[r.joinCode] != nil || (g.cfg.JoinTaken != nil && g.cfg.JoinTaken(r.joinCode)) {
				r.joinCode = newJoinCode()
			}
		}
		out = append(out, r)
	}
	for _, r := range out {
		g.runs[r.ID] = r
		if r.joinCode != "" {
			g.joins[r.joinCode] = r
		}
		g.enqueueLocked(r)
	}
	g.dispatchLocked()
	return out, nil
}

// deadline bounds a run: generous for its size and pace, so that a stuck
// run ends failed with a clear error instead of hanging.
func deadline(req Request) time.Duration {
	n := time.Duration(*req.Messages)
	d := 2*time.Minute + n*2*time.Millisecond + n*time.Duration(*req.PaceMs)*time.Millisecond
	return min(d, 3*time.Hour)
}

// maxPaused bounds how long a run may stay paused in all: a forgotten
// presenter run must not hold its slot for ever.
const maxPaused = 3 * time.Hour

// Ending is a reason of the lab's own to end a run, as opposed to an
// error of its pipeline: Msg is the sentence the API gives in error, and
// Key names it (Status.ErrorKey) so that a page can say it in its own
// language (lessons/text "error.end.<key>").
type Ending struct{ Key, Msg string }

func (e *Ending) Error() string { return e.Msg }

// The lab's reasons to end a run.
var (
	endCancelled       = &Ending{"cancelled", "cancelled by the holder of its control token"}
	endCancelledQueued = &Ending{"cancelled-queued", "cancelled by the holder of its control token before it started"}
	endShutdown        = &Ending{"shutdown", "the lab shut down while this run was in flight"}
	endShutdownQueued  = &Ending{"shutdown-queued", "the lab shut down before this run started"}
	endPausedTooLong   = &Ending{"paused-too-long", "the run stayed paused for over " + maxPaused.String() + " and was ended; start a new run"}
	// OwnerGone ends another instance's run when that instance stops
	// mid-run (package fleet).
	OwnerGone = &Ending{"owner-gone", "the lab instance running this run stopped before it finished; start a new run"}
)

// overran is the end of a run that used up its deadline.
func overran(budget time.Duration) *Ending {
	return &Ending{"deadline", "the run did not finish within its deadline (" + budget.String() + " of running, pauses not counted); is the broker reachable? Start a new run"}
}

// watchDeadline cancels the run once it has run for its deadline, time
// paused not counted, or been paused for maxPaused.
func watchDeadline(ctx context.Context, cancel context.CancelCauseFunc, p *pipeline.Pacer, budget time.Duration) {
	start := time.Now()
	t := time.NewTimer(budget)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		paused := p.PausedFor()
		switch used := time.Since(start) - paused; {
		case used >= budget:
			cancel(overran(budget))
			return
		case paused >= maxPaused:
			cancel(endPausedTooLong)
			return
		default:
			// Look again when the budget or the pauses could run out.
			t.Reset(max(min(budget-used, maxPaused-paused), 100*time.Millisecond))
		}
	}
}

// execute runs r, which dispatchLocked has started with ctx.
func (g *Registry) execute(ctx context.Context, r *Run) {
	defer g.wg.Done()
	r.mu.Lock()
	cancel := r.cancel
	r.mu.Unlock()
	defer cancel(nil)
	go watchDeadline(ctx, cancel, r.Pipeline.Pacer, g.cfg.Deadline(r.Request))
	res, err := r.Pipeline.Execute(ctx)
	var end *Ending
	switch {
	case err == nil:
	case g.ctx.Err() != nil:
		err = endShutdown
	case errors.As(context.Cause(ctx), &end):
		err = end
	}
	r.finish(res, err)
	g.mu.Lock()
	g.active--
	g.used -= r.cost
	g.dispatchLocked()
	g.mu.Unlock()
	g.keep(r)
}

// keep keeps a finished run for its retention, forgetting the oldest kept
// run early past MaxKept.
func (g *Registry) keep(r *Run) {
	g.mu.Lock()
	g.kept = append(g.kept, r)
	var evict *Run
	if len(g.kept) > g.cfg.MaxKept {
		evict = g.kept[0]
	}
	g.mu.Unlock()
	if evict != nil {
		g.expire(evict)
	}
	time.AfterFunc(g.cfg.Retention, func() { g.expire(r) })
}

// expire forgets a finished run and deletes its topics, once.
func (g *Registry) expire(r *Run) {
	g.mu.Lock()
	if g.closed || g.runs[r.ID] != r {
		g.mu.Unlock()
		return
	}
	delete(g.runs, r.ID)
	delete(g.joins, r.joinCode)
	if i := slices.Index(g.kept, r); i >= 0 {
		g.kept = slices.Delete(g.kept, i, i+1)
	}
	g.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n := r.Pipeline.Names
	// Best effort: a topic left behind is only clutter, never wrong data.
	_, _ = g.env.Admin.DeleteTopics(ctx, n.Input, n.Ledger)
	_, _ = g.env.Admin.DeleteGroup(ctx, n.Group)
	if o := g.cfg.Observer; o != nil {
		o.Expired(r)
	}
}

// Get finds a run by id.
func (g *Registry) Get(id string) (*Run, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	r, ok := g.runs[id]
	return r, ok
}

// List is every run the registry holds: running, queued, and finished
// ones not yet forgotten (at most Config.MaxKept).
func (g *Registry) List() []*Run {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]*Run, 0, len(g.runs))
	for _, r := range g.runs {
		out = append(out, r)
	}
	return out
}

// Join finds a presenter's run by its join code (case-insensitive).
func (g *Registry) Join(code string) (*Run, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	r, ok := g.joins[strings.ToUpper(strings.TrimSpace(code))]
	return r, ok
}

// Active is the number of runs in flight.
func (g *Registry) Active() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.active
}

// Queued is the number of runs waiting in the queue.
func (g *Registry) Queued() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue)
}

// Shutdown stops taking runs, ends the queued ones, cancels the running
// ones and waits for them to end, or for ctx.
func (g *Registry) Shutdown(ctx context.Context) error {
	g.mu.Lock()
	g.closed = true
	queued := g.queue
	g.queue, g.waiting, g.queuedDeposits = nil, map[string]int{}, 0
	g.mu.Unlock()
	for _, r := range queued {
		r.finish(pipeline.Result{}, endShutdownQueued)
	}
	g.cancel()
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Run) finish(res pipeline.Result, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.finished = time.Now()
	if err != nil {
		r.state, r.err = Failed, err.Error()
		var end *Ending
		if errors.As(err, &end) {
			r.errKey = end.Key
		}
	} else {
		r.state, r.result = Done, &res
	}
	close(r.Done)
}

// Status is a run as the API shows it (GET /api/runs/{id}).
type Status struct {
	ID        string              `json:"id"`
	Guarantee lessons.GuaranteeID `json:"guarantee"`
	Preset    lessons.PresetID    `json:"preset"`
	Fault     lessons.FaultID     `json:"fault"`
	Messages  int                 `json:"messages"`
	PaceMs    int64               `json:"pace_ms"`
	// Partitions and Processors are the run's topics' partitions and its
	// processor group's instances at the start (issue 13).
	Partitions int     `json:"partitions"`
	Processors int     `json:"processors"`
	State      State   `json:"state"`
	Paused     bool    `json:"paused"`
	Error      *string `json:"error"`
	// ErrorKey names Error when the lab itself ended the run (Ending):
	// cancelled, cancelled-queued, shutdown, shutdown-queued, deadline,
	// paused-too-long, owner-gone. Empty for an error of the pipeline.
	ErrorKey  string                `json:"error_key,omitempty"`
	Topics    pipeline.Names        `json:"topics"`
	Group     string                `json:"group"`
	Progress  pipeline.ProgressView `json:"progress"`
	Result    *pipeline.Result      `json:"result"`
	Presenter bool                  `json:"presenter"`
	Join      string                `json:"join,omitempty"`
	Notify    lessons.NotifyID      `json:"notify"`
	// QueuePosition is, for a queued run only, how many runs are ahead
	// of it.
	QueuePosition *int `json:"queue_position,omitempty"`
	// Settings, Claim and Level are a custom run's (preset custom).
	Settings *lessons.Settings   `json:"settings,omitempty"`
	Claim    lessons.GuaranteeID `json:"claim,omitempty"`
	Level    string              `json:"level,omitempty"`
	// Instance is the lab instance that runs it, when several share one
	// Kafka cluster; a control sent to any other goes to it.
	Instance string `json:"instance,omitempty"`
}

// Status returns a consistent copy of the run's state.
func (r *Run) Status() Status {
	if r.mirror != nil {
		return r.mirror.snapshot()
	}
	pos := r.QueuePosition() // before r.mu: the registry's lock comes first
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Status{
		ID: r.ID, Guarantee: r.Request.Guarantee, Preset: r.Request.Preset, Fault: r.Request.Fault,
		Messages: *r.Request.Messages, PaceMs: r.Pipeline.Pacer.Pace().Milliseconds(),
		Partitions: *r.Request.Partitions, Processors: *r.Request.Processors, Notify: r.Request.Notify,
		State: r.state, Paused: r.Pipeline.Pacer.Paused(),
		Topics: r.Pipeline.Names, Group: r.Pipeline.Names.Group,
		Progress: r.Pipeline.Progress.View(), Result: r.result,
		Presenter: r.Request.Presenter, Join: r.JoinPath(),
		Settings: r.Request.Settings, Claim: r.Request.Claim, Level: r.Request.Level,
		Instance: r.reg.cfg.Instance,
	}
	if r.err != "" {
		e := r.err
		s.Error, s.ErrorKey = &e, r.errKey
	}
	if r.state == Queued && pos >= 0 {
		s.QueuePosition = &pos
	}
	return s
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "r-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}
