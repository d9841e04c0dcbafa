// Package lessons is the lab's domain: the three delivery guarantees, the
// faults that test them, and the lesson content that teaches them. It knows
// nothing of HTTP, templates or websockets.
package lessons

import (
	"slices"

	"github.com/kafka-delivery-lab/lab/lessons/checker"
)

// Bounds of a run (API.md, "Runs"): what POST /api/runs accepts, what a
// lesson's ::run may ask for and what the run form lets a learner type.
const (
	// MinMessages and MaxMessages bound the deposits of a run.
	MinMessages = 1
	MaxMessages = 1_000_000
	// DefaultMessages is the number of deposits when a run names none.
	DefaultMessages = 100
	// MaxPaceMs is the slowest pace, in milliseconds between deposits; the
	// fastest is 0, no pause at all.
	MaxPaceMs = 5000
)

// GuaranteeID names a delivery guarantee.
type GuaranteeID string

const (
	AtMostOnce  GuaranteeID = "at-most-once"
	AtLeastOnce GuaranteeID = "at-least-once"
	ExactlyOnce GuaranteeID = "exactly-once"
)

// PresetID names a configuration of a guarantee's pipeline.
type PresetID string

const (
	// Strict is the configuration that keeps the guarantee under every fault
	// the lab injects.
	Strict PresetID = "strict"
	// Common is the configuration as commonly written (the seed material's
	// settings, e.g. auto-commit), so a learner can see where it breaks.
	Common PresetID = "common"
)

// Guarantee is one delivery guarantee and the client library that runs it.
type Guarantee struct {
	ID      GuaranteeID   `json:"id"`
	Presets []PresetID    `json:"presets"`
	Client  string        `json:"client"`
	Claim   checker.Claim `json:"claim"`
}

var guarantees = []Guarantee{
	{AtMostOnce, []PresetID{Strict, Common}, "github.com/segmentio/kafka-go", checker.Claim{NoDuplicates: true}},
	{AtLeastOnce, []PresetID{Strict, Common}, "github.com/segmentio/kafka-go", checker.Claim{NoLoss: true}},
	// kafka-go has no idempotent producer and no transactions (its issues
	// #233, #797, #897), so exactly-once runs on franz-go.
	{ExactlyOnce, []PresetID{Strict, Common}, "github.com/twmb/franz-go", checker.Claim{NoLoss: true, NoDuplicates: true}},
}

// Guarantees lists the three guarantees, weakest first.
func Guarantees() []Guarantee { return slices.Clone(guarantees) }

// LookupGuarantee finds a guarantee by id.
func LookupGuarantee(id GuaranteeID) (Guarantee, bool) {
	i := slices.IndexFunc(guarantees, func(g Guarantee) bool { return g.ID == id })
	if i < 0 {
		return Guarantee{}, false
	}
	return guarantees[i], true
}

// HasPreset reports whether g offers preset p.
func (g Guarantee) HasPreset(p PresetID) bool { return slices.Contains(g.Presets, p) }

// FaultID names a fault the lab can inject.
type FaultID string

const (
	NoFault            FaultID = "none"
	ProduceRequestLost FaultID = "produce-request-lost"
	ProduceAckLost     FaultID = "produce-ack-lost"
	ProcessorCrash     FaultID = "processor-crash"
)

// Fault is one injectable fault and where it strikes.
type Fault struct {
	ID    FaultID `json:"id"`
	Where string  `json:"where"` // "" for none, "network" or "process"
}

var faults = []Fault{
	{NoFault, ""},
	// The producer's connection loses one Produce request before the broker
	// sees it, and the connection breaks.
	{ProduceRequestLost, "network"},
	// The broker appends the records, then the response is lost and the
	// connection breaks: the client cannot tell this from a lost request.
	{ProduceAckLost, "network"},
	// The processor dies mid-batch, after crediting some deposits and before
	// its next commit; a new instance takes over the group.
	{ProcessorCrash, "process"},
}

// Faults lists the injectable faults.
func Faults() []Fault { return slices.Clone(faults) }

// LookupFault finds a fault by id.
func LookupFault(id FaultID) (Fault, bool) {
	i := slices.IndexFunc(faults, func(f Fault) bool { return f.ID == id })
	if i < 0 {
		return Fault{}, false
	}
	return faults[i], true
}
