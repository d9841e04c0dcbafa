package runs

import (
	"fmt"

	"github.com/kafka-delivery-lab/lab/lessons"
)

// Bounds of a run request: package lessons declares them (with MinMessages
// and DefaultMessages); these aliases keep runs.MaxMessages and
// runs.MaxPaceMs for the package's callers.
const (
	MaxMessages = lessons.MaxMessages
	MaxPaceMs   = lessons.MaxPaceMs
)

// Request asks for one run. Zero values take the documented defaults.
type Request struct {
	Guarantee lessons.GuaranteeID `json:"guarantee"`
	Preset    lessons.PresetID    `json:"preset"`
	Fault     lessons.FaultID     `json:"fault"`
	Messages  *int                `json:"messages"`
	PaceMs    *int                `json:"pace_ms"`
	// Seed is accepted as API.md shows it, and changes nothing: a run's
	// fault strikes at its middle deposit, every time.
	Seed      int64 `json:"seed"`
	Presenter bool  `json:"presenter"`
	// StartPaused starts the run paused, so a step-through begins at the
	// first deposit.
	StartPaused bool `json:"start_paused"`
}

// FieldError says which input is wrong and what to do about it.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Msg }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// normalize checks r and fills in defaults.
func (r *Request) normalize() *FieldError {
	if r.Guarantee == "" {
		return fieldErr("guarantee", "guarantee is required: one of at-most-once, at-least-once, exactly-once")
	}
	g, ok := lessons.LookupGuarantee(r.Guarantee)
	if !ok {
		return fieldErr("guarantee", "unknown guarantee %q: use at-most-once, at-least-once or exactly-once", r.Guarantee)
	}
	if r.Preset == "" {
		r.Preset = lessons.Strict
	}
	if !g.HasPreset(r.Preset) {
		return fieldErr("preset", "unknown preset %q: use strict or common", r.Preset)
	}
	if r.Fault == "" {
		return fieldErr("fault", "fault is required: one of none, produce-request-lost, produce-ack-lost, processor-crash")
	}
	if _, ok := lessons.LookupFault(r.Fault); !ok {
		return fieldErr("fault", "unknown fault %q: see GET /api/faults for the list", r.Fault)
	}
	if r.Messages == nil {
		n := lessons.DefaultMessages
		r.Messages = &n
	}
	if *r.Messages < lessons.MinMessages || *r.Messages > lessons.MaxMessages {
		return fieldErr("messages", "messages must be a whole number from %d to %d", lessons.MinMessages, lessons.MaxMessages)
	}
	if r.PaceMs == nil {
		p := 0
		r.PaceMs = &p
	}
	return checkPace(r.PaceMs)
}

// checkPace checks a pace_ms, of a request or of a pace control: nil (not
// given) is an error here, so a request fills in its default first.
func checkPace(ms *int) *FieldError {
	if ms == nil || *ms < 0 || *ms > lessons.MaxPaceMs {
		return fieldErr("pace_ms", "pace_ms must be a whole number of milliseconds from 0 to %d", lessons.MaxPaceMs)
	}
	return nil
}
