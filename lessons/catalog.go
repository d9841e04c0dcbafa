// Package lessons is the lab's domain: the three delivery guarantees, the
// faults that test them, and the lesson content that teaches them. It knows
// nothing of HTTP, templates or websockets.
//
// This file is the catalog: the one list of guarantees, presets and faults.
// claims.go says what every guarantee × preset × fault run must show,
// recipes.go how each guarantee and preset is configured, and request.go
// what a run may ask for. Pages, scripts, API lists, error messages, fault
// schedules and the tests all derive from these.
package lessons

import (
	"slices"
	"strings"

	"github.com/kafka-delivery-lab/lab/lessons/checker"
)

// Bounds of a run (docs/API.md, "Runs"): what POST /api/runs accepts, what
// a lesson's ::run may ask for and what the run form lets a learner type.
const (
	// MinMessages and MaxMessages bound the deposits of a run.
	MinMessages = 1
	MaxMessages = 1_000_000
	// DefaultMessages is the number of deposits when a run names none.
	DefaultMessages = 100
	// MaxPaceMs is the slowest pace, in milliseconds between deposits; the
	// fastest is 0, no pause at all.
	MaxPaceMs = 5000
	// DrawnDeposits is the largest run the page draws one cell per
	// deposit, and whose trace keeps every event. A larger run is drawn
	// as counts and anomalies, and its trace keeps a sample of the routine
	// events.
	DrawnDeposits = 200

	// Partitions and processors (issue 13): a run's input and ledger
	// topics have Partitions partitions, and its processor group starts
	// with Processors instances. Lessons keep one of each unless a scenario
	// is about partitions. MaxPartitions is deposit.Accounts, so that every
	// partition of the largest run gets an account's deposits.
	MinPartitions     = 1
	MaxPartitions     = 12
	DefaultPartitions = 1
	MinProcessors     = 1
	MaxProcessors     = 4
	DefaultProcessors = 1
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
	// Dedup is at-least-once with an idempotent consumer: the processor
	// skips deposits it has already credited, by id, so the repeats
	// at-least-once delivers never reach the ledger twice.
	Dedup PresetID = "dedup"
)

// Guarantee is one delivery guarantee and the client library that runs it.
type Guarantee struct {
	ID GuaranteeID `json:"id"`
	// TextKey is the key of its name in lessons/text; TextKey+".meaning"
	// and TextKey+".fits" say what it promises and where it fits.
	TextKey string        `json:"text_key"`
	Presets []PresetID    `json:"presets"`
	Claim   checker.Claim `json:"claim"`
	// Client is the module of the library its strict preset runs on,
	// from its recipe.
	Client string `json:"client"`
}

var guarantees = []Guarantee{
	{ID: AtMostOnce, TextKey: "g.amo", Presets: []PresetID{Strict, Common}, Claim: checker.Claim{NoDuplicates: true}},
	{ID: AtLeastOnce, TextKey: "g.alo", Presets: []PresetID{Strict, Common, Dedup}, Claim: checker.Claim{NoLoss: true}},
	{ID: ExactlyOnce, TextKey: "g.eos", Presets: []PresetID{Strict, Common}, Claim: checker.Claim{NoLoss: true, NoDuplicates: true}},
}

// Guarantees lists the three guarantees, weakest first.
func Guarantees() []Guarantee {
	out := slices.Clone(guarantees)
	for i := range out {
		out[i] = out[i].withClient()
	}
	return out
}

// withClient fills in Client from the strict preset's recipe.
func (g Guarantee) withClient() Guarantee {
	r, _ := LookupRecipe(g.ID, Strict)
	g.Client = r.Client.Module()
	return g
}

// LookupGuarantee finds a guarantee by id.
func LookupGuarantee(id GuaranteeID) (Guarantee, bool) {
	i := slices.IndexFunc(guarantees, func(g Guarantee) bool { return g.ID == id })
	if i < 0 {
		return Guarantee{}, false
	}
	return guarantees[i].withClient(), true
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
	// ProcessorStall is the zombie: a processor that is slow, not dead.
	ProcessorStall FaultID = "processor-stall"
	// Rebalance adds a processor instance to the group mid-run: no crash,
	// but partitions move from the instances that had them to the joiner.
	Rebalance FaultID = "rebalance"
	// LeaderCrash kills the leader of the input partition while its
	// followers are held back: what it acknowledged alone is gone.
	LeaderCrash FaultID = "leader-crash"
	// FollowerDown stops the followers of the input partition one by one
	// until its in-sync set is the leader alone, and brings one back.
	FollowerDown FaultID = "follower-down"
)

// Where a fault strikes.
const (
	OnNetwork = "network" // the producer's connection, through faultconn
	InProcess = "process" // the processor, through the nemesis
	OnBroker  = "broker"  // the brokers' processes, through the cluster the lab owns
)

// NeedsCluster is Fault.Needs of a fault that acts on the brokers'
// processes: only a cluster the lab starts and owns (-cluster 3) has them.
const NeedsCluster = "cluster"

// Fault is one injectable fault and where it strikes. Every fault but
// none can be injected into a running run and drawn by a random schedule.
type Fault struct {
	ID    FaultID `json:"id"`
	Where string  `json:"where"` // "" for none, OnNetwork or InProcess
	// TextKey is the key of its one-line description in lessons/text.
	TextKey string `json:"text_key"`
	// Explains names, per anomaly a run can show ("lost", "duplicated"),
	// the text key that explains how this fault caused it.
	Explains map[string]string `json:"explains,omitempty"`
	// Needs is NeedsCluster for a fault only a cluster the lab owns can
	// inject, "" for one any broker can. Elsewhere a run of it is refused.
	Needs string `json:"needs,omitempty"`
}

var faults = []Fault{
	{NoFault, "", "fault.none", nil, ""},
	// The producer's connection loses one Produce request before the broker
	// sees it, and the connection breaks.
	{ProduceRequestLost, OnNetwork, "fault.produce-request-lost", map[string]string{"lost": "explain.lost.request"}, ""},
	// The broker appends the records, then the response is lost and the
	// connection breaks: the client cannot tell this from a lost request.
	{ProduceAckLost, OnNetwork, "fault.produce-ack-lost", map[string]string{"lost": "explain.lost.request", "duplicated": "explain.dup.ack"}, ""},
	// The processor dies mid-batch, after crediting some deposits and before
	// its next commit; a new instance takes over the group.
	{ProcessorCrash, InProcess, "fault.processor-crash", map[string]string{"lost": "explain.lost.crash", "duplicated": "explain.dup.crash"}, ""},
	// The processor freezes mid-batch, after crediting some deposits and
	// before its next commit: no heartbeats either, as in a long GC pause
	// or a paused VM. The group gives its partition to a new instance
	// once the session times out; then the frozen instance wakes and
	// finishes its batch, a zombie.
	{ProcessorStall, InProcess, "fault.processor-stall", map[string]string{"duplicated": "explain.dup.stall"}, ""},
	// A new processor instance joins the group mid-run; the group takes
	// partitions from the instances that had them and gives them to it.
	{Rebalance, InProcess, "fault.rebalance", map[string]string{"duplicated": "explain.dup.rebalance"}, ""},
	// The followers of the input partition's leader are held back (SIGSTOP)
	// so they have not copied the newest writes, the leader acknowledges
	// them, is killed (SIGKILL), and a follower still in the in-sync set
	// becomes leader without them. The lab restarts the killed broker and
	// waits for every replica to be in sync again.
	{LeaderCrash, OnBroker, "fault.leader-crash", map[string]string{"lost": "explain.lost.leader-crash"}, NeedsCluster},
	// One follower of the input partition is paused (SIGSTOP) until the
	// controller fences it, the other shut down (SIGTERM); the in-sync set
	// is then the leader alone, and the paused follower is resumed a few
	// seconds later. The lab restarts the stopped one after the run.
	{FollowerDown, OnBroker, "fault.follower-down", nil, NeedsCluster},
}

// Faults lists the faults, none first.
func Faults() []Fault { return slices.Clone(faults) }

// Injectable lists the faults a running run can be given, and a random
// schedule draws from: every fault but none and those that need a cluster
// (they take the cluster down for seconds and heal it after the run).
func Injectable() []FaultID {
	var out []FaultID
	for _, f := range faults {
		if f.ID != NoFault && f.Needs == "" {
			out = append(out, f.ID)
		}
	}
	return out
}

// LookupFault finds a fault by id.
func LookupFault(id FaultID) (Fault, bool) {
	i := slices.IndexFunc(faults, func(f Fault) bool { return f.ID == id })
	if i < 0 {
		return Fault{}, false
	}
	return faults[i], true
}

// orList words ids as "a, b or c", for error messages.
func orList[T ~string](ids []T) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = string(id)
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func guaranteeIDs() []GuaranteeID {
	out := make([]GuaranteeID, len(guarantees))
	for i, g := range guarantees {
		out[i] = g.ID
	}
	return out
}

func faultIDs() []FaultID {
	out := make([]FaultID, len(faults))
	for i, f := range faults {
		out[i] = f.ID
	}
	return out
}

// NotifyID names how a run's notification sink takes the processor's
// effect outside Kafka: one notification per credit, sent after crediting
// and before the commit, as an application would send an e-mail.
type NotifyID string

const (
	// NotifyPlain acts on every notification it receives: a credit the
	// processor redoes notifies the customer again.
	NotifyPlain NotifyID = "plain"
	// NotifyIdempotent is an idempotent receiver: it keeps the deposit
	// ids it has acted on and drops a repeat.
	NotifyIdempotent NotifyID = "idempotent"
)

var notifyModes = []NotifyID{NotifyPlain, NotifyIdempotent}

// NotifyModes lists the notification sinks a run may ask for, the default
// first.
func NotifyModes() []NotifyID { return slices.Clone(notifyModes) }

// Limits are the bounds of a run, as documents and forms state them.
type Limits struct {
	MinMessages     int `json:"min_messages"`
	MaxMessages     int `json:"max_messages"`
	DefaultMessages int `json:"default_messages"`
	MaxPaceMs       int `json:"max_pace_ms"`
	DrawnDeposits   int `json:"drawn_deposits"`
	MaxPartitions   int `json:"max_partitions"`
	MaxProcessors   int `json:"max_processors"`
}

// Document is the whole catalog as one value: what GET /api/catalog
// answers and what every page hands its scripts, so that no list is
// written twice.
type Document struct {
	Limits
	// DefaultPreset is the preset of a run that names none.
	DefaultPreset PresetID    `json:"default_preset"`
	Guarantees    []Guarantee `json:"guarantees"`
	Faults        []Fault     `json:"faults"`
	Injectable    []FaultID   `json:"injectable"`
	// Notify lists the notification sinks, the default first.
	Notify  []NotifyID `json:"notify"`
	Recipes []Recipe   `json:"recipes"`
	Claims  []Claim    `json:"claims"`
	// Shapes are the partitions and processors each fault's claim rows
	// are measured with (ClaimShape): what a page asks for when it runs a
	// fault outside a lesson, such as the sandbox.
	Shapes map[FaultID]Shape `json:"shapes"`
}

// Shape is a run's partitions and processors.
type Shape struct {
	Partitions int `json:"partitions"`
	Processors int `json:"processors"`
}

// Catalog returns the catalog as one document.
func Catalog() Document {
	return Document{
		Limits:        Limits{MinMessages, MaxMessages, DefaultMessages, MaxPaceMs, DrawnDeposits, MaxPartitions, MaxProcessors},
		DefaultPreset: Strict,
		Guarantees:    Guarantees(),
		Faults:        Faults(),
		Injectable:    Injectable(),
		Notify:        NotifyModes(),
		Recipes:       Recipes(),
		Claims:        Claims(),
		Shapes:        shapes(),
	}
}

func shapes() map[FaultID]Shape {
	out := map[FaultID]Shape{}
	for _, f := range Faults() {
		p, n := ClaimShape(f.ID)
		out[f.ID] = Shape{p, n}
	}
	return out
}
