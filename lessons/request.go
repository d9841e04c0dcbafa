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
	// Partitions of the run's input and ledger topics, and Processors, the
	// instances its processor group starts with (issue 13).
	Partitions *int `json:"partitions"`
	Processors *int `json:"processors"`
	// Settings and Claim make a custom run (preset custom, issue 16):
	// the learner's knobs, and the guarantee they claim those knobs keep,
	// which becomes the run's guarantee.
	Settings *Settings   `json:"settings,omitempty"`
	Claim    GuaranteeID `json:"claim,omitempty"`
	// Level, optional with preset custom, is the level the run tries to
	// pass: its fault and goal, and the knobs it does not let change.
	Level string `json:"level,omitempty"`
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
// DefaultMessages deposits, no pause, notify plain, one partition, one
// processor.
func (p *RunParams) Validate() *FieldError {
	if err := p.validateCustom(); err != nil {
		return err
	}
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
	if !g.HasPreset(p.Preset) && p.Preset != Custom {
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
	if p.Partitions == nil {
		n := DefaultPartitions
		p.Partitions = &n
	}
	if *p.Partitions < MinPartitions || *p.Partitions > MaxPartitions {
		return fieldErr("partitions", "partitions must be a whole number from %d to %d", MinPartitions, MaxPartitions)
	}
	if p.Processors == nil {
		n := DefaultProcessors
		p.Processors = &n
	}
	if *p.Processors < MinProcessors || *p.Processors > MaxProcessors {
		return fieldErr("processors", "processors must be a whole number from %d to %d", MinProcessors, MaxProcessors)
	}
	return p.checkApplies()
}

// checkApplies refuses a fault that cannot show what it is about with
// the run's partitions and processors: a rebalance moves partitions to the
// instance that joins only if there is one left for it. The group's
// assignors (range in kafka-go, cooperative-sticky in franz-go) give every
// member a partition when there are at least as many partitions as
// members; with fewer, whether the joiner gets one, and whose it takes,
// depends on member ids the broker makes up, so the run would show
// nothing it could promise.
func (p *RunParams) checkApplies() *FieldError {
	if p.Fault == Rebalance && *p.Partitions <= *p.Processors {
		return fieldErr("partitions", "fault rebalance needs more partitions than processors (here %d and %d), so the instance that joins gets at least one: ask for partitions of at least %d",
			*p.Partitions, *p.Processors, *p.Processors+1)
	}
	return nil
}

// Applies reports whether fault f can strike a run of p's partitions and
// processors (p validated): what a random schedule draws from.
func (p RunParams) Applies(f FaultID) bool {
	p.Fault = f
	return p.checkApplies() == nil
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

// validateCustom checks a custom run's claim and settings, and makes the
// claim the run's guarantee; settings or a claim without preset custom
// are refused.
func (p *RunParams) validateCustom() *FieldError {
	if p.Preset != Custom {
		if p.Level != "" {
			return fieldErr("level", "a level's run is preset custom: send \"preset\":\"custom\" with level")
		}
		if p.Settings != nil {
			return fieldErr("settings", "settings are for preset custom: send \"preset\":\"custom\" with them, or leave them out")
		}
		if p.Claim != "" {
			return fieldErr("claim", "claim is for preset custom: a preset's run is judged by its guarantee")
		}
		return nil
	}
	if p.Claim == "" {
		return fieldErr("claim", "claim is required with preset custom: the guarantee your settings keep, one of %s", orList(guaranteeIDs()))
	}
	if _, ok := LookupGuarantee(p.Claim); !ok {
		return fieldErr("claim", "unknown claim %q: use %s", p.Claim, orList(guaranteeIDs()))
	}
	if p.Guarantee != "" && p.Guarantee != p.Claim {
		return fieldErr("guarantee", "a custom run's guarantee is its claim: send claim %s only, or guarantee %s", p.Claim, p.Claim)
	}
	p.Guarantee = p.Claim
	if p.Settings == nil {
		return fieldErr("settings", "settings are required with preset custom: acks, retries, idempotent, max_in_flight, transactional, commit, auto_commit_interval_ms, isolation, dedup, commit_on_revoke")
	}
	if err := checkSettings(p.Settings); err != nil {
		return err
	}
	if p.Level == "" {
		return nil
	}
	l, ok := LookupLevel(p.Level)
	switch {
	case !ok:
		return fieldErr("level", "unknown level %q: GET /api/levels lists them", p.Level)
	case p.Fault != "" && p.Fault != l.Fault, p.Claim != l.Goal:
		return fieldErr("level", "level %s is fault %s with claim %s: send those, or leave fault out", l.ID, l.Fault, l.Goal)
	}
	p.Fault = l.Fault
	if k := l.Frozen(*p.Settings); k != "" {
		return fieldErr("settings."+k, "level %s does not let settings.%s change: it lets you change %s", l.ID, k, orList(l.Knobs))
	}
	return nil
}

// Recipe is the recipe of validated parameters: the preset's row, or the
// custom settings mapped onto one.
func (p *RunParams) Recipe() Recipe {
	if p.Preset == Custom && p.Settings != nil {
		return p.Settings.Recipe(p.Guarantee)
	}
	r, _ := LookupRecipe(p.Guarantee, p.Preset)
	return r
}
