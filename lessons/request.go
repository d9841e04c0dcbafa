package lessons

import (
	"fmt"
	"slices"
)

// RunParams is what a run asks for, wherever it comes from: POST
// /api/runs, a lesson's ::run, a test. Validate is the one check of them.
type RunParams struct {
	Guarantee GuaranteeID `json:"guarantee"`
	Preset    PresetID    `json:"preset"`
	Fault     FaultID     `json:"fault"`
	// Messages and PaceMs are pointers so that "not given" (the default)
	// differs from 0 (refused, or no pause).
	Messages *int `json:"messages"`
	PaceMs   *int `json:"pace_ms"`
	// Notify is the run's notification sink; "" is plain.
	Notify NotifyID `json:"notify"`
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

// Validate checks p and fills in the defaults: preset strict,
// DefaultMessages deposits, no pause, notify plain.
func (p *RunParams) Validate() *FieldError {
	if p.Guarantee == "" {
		return fieldErr("guarantee", "guarantee is required: one of %s", orList(guaranteeIDs()))
	}
	g, ok := LookupGuarantee(p.Guarantee)
	if !ok {
		return fieldErr("guarantee", "unknown guarantee %q: use %s", p.Guarantee, orList(guaranteeIDs()))
	}
	if p.Preset == "" {
		p.Preset = Strict // Document.DefaultPreset
	}
	if !g.HasPreset(p.Preset) {
		return fieldErr("preset", "unknown preset %q: %s offers %s", p.Preset, g.ID, orList(g.Presets))
	}
	if p.Fault == "" {
		return fieldErr("fault", "fault is required: one of %s", orList(faultIDs()))
	}
	if _, ok := LookupFault(p.Fault); !ok {
		return fieldErr("fault", "unknown fault %q: use %s", p.Fault, orList(faultIDs()))
	}
	if p.Messages == nil {
		n := DefaultMessages
		p.Messages = &n
	}
	if *p.Messages < MinMessages || *p.Messages > MaxMessages {
		return fieldErr("messages", "messages must be a whole number from %d to %d", MinMessages, MaxMessages)
	}
	if p.PaceMs == nil {
		n := 0
		p.PaceMs = &n
	}
	if err := CheckPace(p.PaceMs); err != nil {
		return err
	}
	if p.Notify == "" {
		p.Notify = NotifyPlain
	}
	if !slices.Contains(notifyModes, p.Notify) {
		return fieldErr("notify", "unknown notify %q: use %s (an idempotent receiver that drops a repeated notification)", p.Notify, orList(notifyModes))
	}
	return nil
}

// CheckPace checks a pace_ms, of a run or of a pace control: nil (not
// given) is an error here, so a run fills in its default first.
func CheckPace(ms *int) *FieldError {
	if ms == nil || *ms < 0 || *ms > MaxPaceMs {
		return fieldErr("pace_ms", "pace_ms must be a whole number of milliseconds from 0 to %d", MaxPaceMs)
	}
	return nil
}

// CheckInjectable checks a fault to inject into a running run.
func CheckInjectable(f FaultID) *FieldError {
	for _, id := range Injectable() {
		if id == f {
			return nil
		}
	}
	return fieldErr("fault", "fault must be one of %s", orList(Injectable()))
}
