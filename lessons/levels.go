package lessons

// Levels (issue 16): a broken pipeline, a fault, a goal, and the knobs the
// learner may turn. A level passes when a real run of the learner's
// settings keeps the goal under the fault.

import (
	"fmt"
	"slices"
)

// Level is one puzzle of /levels/{id}. Its title and story are the text
// keys level.<id>.title and level.<id>.story.
type Level struct {
	ID    string      `json:"id"`
	Fault FaultID     `json:"fault"`
	Goal  GuaranteeID `json:"goal"`
	// Start is the broken configuration the level begins with.
	Start Settings `json:"start"`
	// Knobs are the settings the learner may change; the others stay as
	// Start has them.
	Knobs []string `json:"knobs"`
	// Reference is a solution with the fewest changes from Start
	// (TestLevels runs it), and Par that number of changes.
	Reference Settings `json:"-"`
	Par       int      `json:"par"`
	// Needs is its fault's Needs: NeedsCluster for a level only cluster
	// mode can run.
	Needs string `json:"needs,omitempty"`
}

// A level starts from one of these pipelines.
var (
	// The at-most-once pipeline with retries turned on.
	retryingAMO = Settings{Acks: AcksLeader, Retries: 3, MaxInFlight: 5, Commit: CommitBefore, Isolation: ReadUncommitted}
	// The at-most-once strict preset.
	plainAMO = Settings{Acks: AcksLeader, Retries: 0, MaxInFlight: 5, Commit: CommitBefore, Isolation: ReadUncommitted}
	// The at-least-once strict preset.
	plainALO = Settings{Acks: AcksAll, Retries: 5, MaxInFlight: 5, Commit: CommitAfter, Isolation: ReadUncommitted}
	// The exactly-once common preset: a transactional producer and an
	// auto-committing processor outside any transaction.
	autoEOS = Settings{Acks: AcksAll, Retries: 5, Idempotent: true, MaxInFlight: 5, Transactional: true, Commit: CommitAuto, AutoCommitMs: 1000, Isolation: ReadUncommitted}
	// The at-least-once pipeline with the leader's acknowledgement only.
	// Ten retries outlast an election (outlastOutage): what fails is the
	// acknowledgement, not the retries.
	leaderAckALO = Settings{Acks: AcksLeader, Retries: 10, MaxInFlight: 5, Commit: CommitAfter, Isolation: ReadUncommitted}
)

func with(s Settings, f func(*Settings)) Settings { f(&s); return s }

var levels = []Level{
	{ID: "amo-ack-lost", Fault: ProduceAckLost, Goal: AtMostOnce, Start: retryingAMO,
		Knobs:     []string{SettingAcks, SettingRetries},
		Reference: with(retryingAMO, func(s *Settings) { s.Retries = 0 })},
	{ID: "alo-request-lost", Fault: ProduceRequestLost, Goal: AtLeastOnce, Start: plainAMO,
		Knobs:     []string{SettingAcks, SettingRetries, SettingCommit},
		Reference: with(plainAMO, func(s *Settings) { s.Retries = 3 })},
	{ID: "alo-crash", Fault: ProcessorCrash, Goal: AtLeastOnce, Start: plainAMO,
		Knobs:     []string{SettingCommit, SettingAutoCommitMs},
		Reference: with(plainAMO, func(s *Settings) { s.Commit = CommitAfter })},
	{ID: "amo-crash", Fault: ProcessorCrash, Goal: AtMostOnce, Start: plainALO,
		Knobs:     []string{SettingCommit, SettingAutoCommitMs},
		Reference: with(plainALO, func(s *Settings) { s.Commit = CommitBefore })},
	{ID: "acks-zero", Fault: ProduceRequestLost, Goal: AtLeastOnce, Start: with(plainALO, func(s *Settings) { s.Acks = AcksNone }),
		Knobs:     []string{SettingAcks, SettingRetries},
		Reference: plainALO},
	{ID: "idempotent-producer", Fault: ProduceAckLost, Goal: ExactlyOnce, Start: plainALO,
		Knobs:     []string{SettingAcks, SettingRetries, SettingIdempotent, SettingMaxInFlight},
		Reference: with(plainALO, func(s *Settings) { s.Idempotent = true })},
	{ID: "dedup-consumer", Fault: ProduceAckLost, Goal: ExactlyOnce, Start: plainALO,
		Knobs:     []string{SettingCommit, SettingDedup},
		Reference: with(plainALO, func(s *Settings) { s.Dedup = true })},
	{ID: "eos-request-lost", Fault: ProduceRequestLost, Goal: ExactlyOnce, Start: plainAMO,
		Knobs: []string{SettingAcks, SettingRetries, SettingIdempotent, SettingMaxInFlight},
		Reference: with(plainAMO, func(s *Settings) {
			s.Acks, s.Retries, s.Idempotent = AcksAll, 3, true
		})},
	{ID: "dedup-crash", Fault: ProcessorCrash, Goal: ExactlyOnce, Start: plainALO,
		Knobs:     []string{SettingCommit, SettingDedup},
		Reference: with(plainALO, func(s *Settings) { s.Dedup = true })},
	{ID: "eos-fenced", Fault: ProcessorCrash, Goal: ExactlyOnce, Start: autoEOS,
		Knobs:     []string{SettingCommit, SettingAutoCommitMs, SettingIsolation},
		Reference: with(autoEOS, func(s *Settings) { s.Commit, s.AutoCommitMs = CommitInTransaction, 0 })},
	// Cluster mode only: retries cannot bring back what the leader
	// acknowledged alone.
	{ID: "leader-crash", Fault: LeaderCrash, Goal: AtLeastOnce, Start: leaderAckALO,
		Knobs:     []string{SettingAcks, SettingRetries},
		Reference: with(leaderAckALO, func(s *Settings) { s.Acks = AcksAll })},
}

// Levels lists the levels, easiest first, each with its par.
func Levels() []Level {
	out := slices.Clone(levels)
	for i := range out {
		out[i].Par = Changes(out[i].Start, out[i].Reference)
		f, _ := LookupFault(out[i].Fault)
		out[i].Needs = f.Needs
	}
	return out
}

// LookupLevel finds a level by id.
func LookupLevel(id string) (Level, bool) {
	for _, l := range Levels() {
		if l.ID == id {
			return l, true
		}
	}
	return Level{}, false
}

// Changes counts the knobs in which b differs from a: a level's score,
// like Learn Git Branching's command count. The auto-commit interval
// counts only between two auto commits: otherwise it comes and goes with
// the commit.
func Changes(a, b Settings) int {
	n := 0
	for _, name := range SettingNames {
		if name == SettingAutoCommitMs && (a.Commit != CommitAuto || b.Commit != CommitAuto) {
			continue
		}
		if a.value(name) != b.value(name) {
			n++
		}
	}
	return n
}

// Value is knob name's value as a query string spells it.
func (s Settings) Value(name string) string { return fmt.Sprint(s.value(name)) }

// value is knob name's value, as the API spells it.
func (s Settings) value(name string) any {
	switch name {
	case SettingAcks:
		return s.Acks
	case SettingRetries:
		return s.Retries
	case SettingIdempotent:
		return s.Idempotent
	case SettingMaxInFlight:
		return s.MaxInFlight
	case SettingTransactional:
		return s.Transactional
	case SettingCommit:
		return s.Commit
	case SettingAutoCommitMs:
		return s.AutoCommitMs
	case SettingIsolation:
		return s.Isolation
	case SettingDedup:
		return s.Dedup
	case SettingCommitOnRevoke:
		return s.CommitOnRevoke
	}
	return nil
}

// Frozen reports which knob of settings s a level does not let the
// learner change, if any: "" when s keeps every frozen knob as Start has
// it.
func (l Level) Frozen(s Settings) string {
	for _, name := range SettingNames {
		if !slices.Contains(l.Knobs, name) && s.value(name) != l.Start.value(name) {
			return name
		}
	}
	return ""
}
