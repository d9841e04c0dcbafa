package pipeline

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Pacer sets the tempo of a run: a delay between sends, so a run can be
// followed at human speed, and pause / step / resume for teaching. The
// producer and the processor wait on it before each deposit's next stage.
type Pacer struct {
	mu     sync.Mutex
	pace   time.Duration
	paused bool
	steps  int           // stages allowed to advance while paused
	wake   chan struct{} // closed whenever any of the above changes

	pausedAt    time.Time     // when the current pause began
	pausedTotal time.Duration // earlier pauses

	// slowed mirrors pace > 0 || paused without the lock: every deposit
	// asks at every stage, and nearly every run goes at full speed.
	slowed atomic.Bool
}

// NewPacer returns a running pacer with the given delay between sends.
func NewPacer(pace time.Duration) *Pacer {
	p := &Pacer{pace: pace, wake: make(chan struct{})}
	p.slowed.Store(pace > 0)
	return p
}

// Slowed reports whether the run is paced or paused: then the stages hand
// deposits on one at a time, so each can be watched.
func (p *Pacer) Slowed() bool { return p.slowed.Load() }

func (p *Pacer) changed() {
	p.slowed.Store(p.pace > 0 || p.paused)
	close(p.wake)
	p.wake = make(chan struct{})
}

// SetPace changes the delay between sends.
func (p *Pacer) SetPace(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pace = d
	p.changed()
}

// Pace is the current delay between sends.
func (p *Pacer) Pace() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pace
}

// Pause stops every stage at its next wait.
func (p *Pacer) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.paused {
		p.pausedAt = time.Now()
	}
	p.paused, p.steps = true, 0
	p.changed()
}

// Resume lets the run go on at its pace.
func (p *Pacer) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paused {
		p.pausedTotal += time.Since(p.pausedAt)
	}
	p.paused, p.steps = false, 0
	p.changed()
}

// PausedFor is how long the run has been paused in all, the current pause
// included: a class may pause a run for as long as it discusses it, and
// that time does not count against the run's deadline.
func (p *Pacer) PausedFor() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.pausedTotal
	if p.paused {
		d += time.Since(p.pausedAt)
	}
	return d
}

// Step lets one waiting stage advance while paused.
func (p *Pacer) Step() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.steps++
	p.changed()
}

// Paused reports whether the run is paused.
func (p *Pacer) Paused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paused
}

// Send waits until the producer may send its next deposit: the pace, or a
// step while paused.
func (p *Pacer) Send(ctx context.Context) error { return p.wait(ctx, true) }

// Stage waits until the processor may take a deposit through its next
// stage: immediately unless paused.
func (p *Pacer) Stage(ctx context.Context) error { return p.wait(ctx, false) }

func (p *Pacer) wait(ctx context.Context, paced bool) error {
	if !p.slowed.Load() {
		return nil
	}
	for {
		p.mu.Lock()
		wake := p.wake
		if p.paused && p.steps > 0 {
			p.steps--
			p.mu.Unlock()
			return nil
		}
		if !p.paused {
			d := p.pace
			p.mu.Unlock()
			if !paced || d == 0 {
				return nil
			}
			t := time.NewTimer(d)
			select {
			case <-t.C:
				return nil
			case <-wake: // re-read the pace or the pause
				t.Stop()
				continue
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
		p.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
