// Package runs keeps the lab's runs: it starts them within the concurrency
// bound, gives each a deadline, reports their state, keeps a finished run's
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

// ErrBusy is returned when the concurrent-run bound is reached.
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
	MaxConcurrent int           // runs at once; more get ErrBusy
	Retention     time.Duration // how long a finished run and its topics are kept
	// MaxKept bounds the finished runs kept at once: past it the oldest is
	// forgotten (and its topics deleted) before its retention ends, so a
	// client starting tiny runs in a loop cannot exhaust memory.
	MaxKept int
	// Deadline is how long a run may run, paused time not counted; nil
	// means deadline, generous for the run's size and pace.
	Deadline func(Request) time.Duration
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
	active int
	closed bool
}

// New returns a registry running pipelines in env.
func New(env pipeline.Env, cfg Config) *Registry {
	if cfg.MaxConcurrent < 1 {
		cfg.MaxConcurrent = 4
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
	return &Registry{env: env, cfg: cfg, ctx: ctx, cancel: cancel, runs: map[string]*Run{}, joins: map[string]*Run{}}
}

// Run is one run and its live handles.
type Run struct {
	ID       string
	Request  Request
	Pipeline *pipeline.Run
	Done     chan struct{} // closed when the run is done or failed
	token    string
	joinCode string

	mu       sync.Mutex
	state    State
	err      string
	result   *pipeline.Result
	finished time.Time
}

// Start validates req and starts its run, or returns a *lessons.FieldError,
// ErrBusy or ErrClosed.
func (g *Registry) Start(req Request) (*Run, error) {
	runs, err := g.start([]Request{req})
	if err != nil {
		return nil, err
	}
	return runs[0], nil
}

// Compare starts one run per guarantee under the same fault and size, all
// or none.
func (g *Registry) Compare(fault lessons.FaultID, messages *int) (map[lessons.GuaranteeID]*Run, error) {
	var reqs []Request
	for _, gu := range lessons.Guarantees() {
		reqs = append(reqs, Request{RunParams: lessons.RunParams{Guarantee: gu.ID, Fault: fault, Messages: messages}})
	}
	runs, err := g.start(reqs)
	if err != nil {
		return nil, err
	}
	out := map[lessons.GuaranteeID]*Run{}
	for _, r := range runs {
		out[r.Request.Guarantee] = r
	}
	return out, nil
}

func (g *Registry) start(reqs []Request) ([]*Run, error) {
	for i := range reqs {
		if err := reqs[i].Validate(); err != nil {
			return nil, err
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, ErrClosed
	}
	if g.active+len(reqs) > g.cfg.MaxConcurrent {
		return nil, ErrBusy
	}
	var out []*Run
	for _, req := range reqs {
		id := newID()
		p, err := pipeline.New(g.env, pipeline.Spec{
			RunID: id, Guarantee: req.Guarantee, Preset: req.Preset, Fault: req.Fault,
			Messages: *req.Messages, Settings: req.Settings,
		}, pipeline.NewPacer(time.Duration(*req.PaceMs)*time.Millisecond))
		if err != nil {
			return nil, err // Validate already checked everything New checks
		}
		if req.StartPaused {
			p.Pacer.Pause()
		}
		r := &Run{ID: id, Request: req, Pipeline: p, Done: make(chan struct{}), state: Queued, token: newToken()}
		if req.Presenter {
			for r.joinCode == "" || g.joins[r.joinCode] != nil {
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
		g.active++
		g.wg.Add(1)
		go g.execute(r)
	}
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

// overrun ends a run that used up its deadline or its pauses.
type overrun struct{ msg string }

func (o *overrun) Error() string { return o.msg }

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
			cancel(&overrun{"the run did not finish within its deadline (" + budget.String() + " of running, pauses not counted); is the broker reachable? Start a new run"})
			return
		case paused >= maxPaused:
			cancel(&overrun{"the run stayed paused for over " + maxPaused.String() + " and was ended; start a new run"})
			return
		default:
			// Look again when the budget or the pauses could run out.
			t.Reset(max(min(budget-used, maxPaused-paused), 100*time.Millisecond))
		}
	}
}

func (g *Registry) execute(r *Run) {
	defer g.wg.Done()
	ctx, cancel := context.WithCancelCause(g.ctx)
	defer cancel(nil)
	go watchDeadline(ctx, cancel, r.Pipeline.Pacer, g.cfg.Deadline(r.Request))
	r.setState(Running)
	res, err := r.Pipeline.Execute(ctx)
	var over *overrun
	switch {
	case err == nil:
	case g.ctx.Err() != nil:
		err = errors.New("the lab shut down while this run was in flight")
	case errors.As(context.Cause(ctx), &over):
		err = over
	}
	r.finish(res, err)
	g.mu.Lock()
	g.active--
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
}

// Get finds a run by id.
func (g *Registry) Get(id string) (*Run, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	r, ok := g.runs[id]
	return r, ok
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

// Shutdown stops taking runs, cancels the running ones and waits for them
// to end, or for ctx.
func (g *Registry) Shutdown(ctx context.Context) error {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
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

func (r *Run) setState(s State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state = s
}

func (r *Run) finish(res pipeline.Result, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.finished = time.Now()
	if err != nil {
		r.state, r.err = Failed, err.Error()
	} else {
		r.state, r.result = Done, &res
	}
	close(r.Done)
}

// Status is a run as the API shows it (GET /api/runs/{id}).
type Status struct {
	ID        string                `json:"id"`
	Guarantee lessons.GuaranteeID   `json:"guarantee"`
	Preset    lessons.PresetID      `json:"preset"`
	Fault     lessons.FaultID       `json:"fault"`
	Messages  int                   `json:"messages"`
	PaceMs    int64                 `json:"pace_ms"`
	State     State                 `json:"state"`
	Paused    bool                  `json:"paused"`
	Error     *string               `json:"error"`
	Topics    pipeline.Names        `json:"topics"`
	Group     string                `json:"group"`
	Progress  pipeline.ProgressView `json:"progress"`
	Result    *pipeline.Result      `json:"result"`
	Presenter bool                  `json:"presenter"`
	Join      string                `json:"join,omitempty"`
	// Settings, Claim and Level are a custom run's (preset custom).
	Settings *lessons.Settings   `json:"settings,omitempty"`
	Claim    lessons.GuaranteeID `json:"claim,omitempty"`
	Level    string              `json:"level,omitempty"`
}

// Status returns a consistent copy of the run's state.
func (r *Run) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Status{
		ID: r.ID, Guarantee: r.Request.Guarantee, Preset: r.Request.Preset, Fault: r.Request.Fault,
		Messages: *r.Request.Messages, PaceMs: r.Pipeline.Pacer.Pace().Milliseconds(),
		State: r.state, Paused: r.Pipeline.Pacer.Paused(),
		Topics: r.Pipeline.Names, Group: r.Pipeline.Names.Group,
		Progress: r.Pipeline.Progress.View(), Result: r.result,
		Presenter: r.Request.Presenter, Join: r.JoinPath(),
		Settings: r.Request.Settings, Claim: r.Request.Claim, Level: r.Request.Level,
	}
	if r.err != "" {
		e := r.err
		s.Error = &e
	}
	return s
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "r-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}
