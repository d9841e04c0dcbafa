package lessons

import (
	"errors"
	"fmt"
	"slices"

	"github.com/kafka-delivery-lab/lab/lessons/checker"
)

// Count is what a claim says about how many deposits end up in one class.
type Count string

const (
	None Count = "none" // not one
	Some Count = "some" // at least one
	Any  Count = "any"  // either: the fault may or may not cause it
)

// Holds reports whether n deposits agree with c.
func (c Count) Holds(n int) bool {
	switch c {
	case None:
		return n == 0
	case Some:
		return n > 0
	}
	return true
}

// Outcome is what a run must show: the checker's classes, and what else
// its trace must contain for the run to prove anything.
type Outcome struct {
	Lost       Count `json:"lost"`
	Duplicated Count `json:"duplicated"`
	Recovered  Count `json:"recovered"`
	// Aborted counts the credits of aborted transactions in the ledger:
	// written, never seen by read_committed readers.
	Aborted Count `json:"aborted"`
	// Restart is true when a new processor instance must take over.
	Restart bool `json:"restart,omitempty"`
	// LostAcked, when said, counts the lost deposits the broker had
	// acknowledged: what the cluster faults are about. "" claims nothing.
	LostAcked Count `json:"lost_acked,omitempty"`
}

// Claim is one row of the claim table: what a run of a guarantee, in a
// preset, under a fault, shows on every broker. The lessons state these
// outcomes; the pipeline tests execute every row on the embedded broker
// and on Apache Kafka.
type Claim struct {
	Guarantee GuaranteeID     `json:"guarantee"`
	Preset    PresetID        `json:"preset"`
	Fault     FaultID         `json:"fault"`
	Outcome                   // what the run shows
	Verdict   checker.Verdict `json:"verdict"` // derived from Outcome and the guarantee's promise
}

var (
	clean = Outcome{Lost: None, Duplicated: None, Recovered: None, Aborted: None}
	exact = Outcome{Lost: None, Duplicated: None, Recovered: Any, Aborted: None}
	// The crashed instance's open transaction is aborted when the next
	// instance fences it: its credits stay in the ledger, unseen by
	// read_committed readers, and are redone.
	crashOnce = Outcome{Lost: None, Duplicated: None, Recovered: None, Aborted: Some, Restart: true}

	// leader-crash (cluster mode). acks=1: the leader acknowledged the
	// deposits alone, and the new leader never had them. A send the kill
	// broke fails, and may still have been written (recovered).
	leaderCrashAcksOne = Outcome{Lost: Some, LostAcked: Some, Duplicated: None, Recovered: Any, Aborted: None}
	// acks=all with min.insync.replicas=2: nothing is acknowledged while
	// the followers are held back; the producer's retries reach the new
	// leader. kafka-go is not idempotent, so a retry of a batch the new
	// leader already has would write it twice.
	leaderCrashAcksAll = Outcome{Lost: None, LostAcked: None, Duplicated: Any, Recovered: Any, Aborted: None}
	// The idempotent (exactly-once) producer's retries are dropped by
	// sequence number, and the idempotent consumer skips repeats.
	leaderCrashOnce = Outcome{Lost: None, LostAcked: None, Duplicated: None, Recovered: Any, Aborted: Any}
)

// claimRows is the claim table, by guarantee, preset and fault. Every
// guarantee × preset × fault has its row (TestClaimTableIsComplete).
var claimRows = map[GuaranteeID]map[PresetID]map[FaultID]Outcome{
	AtMostOnce: {
		// Producer acks=1 without retries; the processor commits before it
		// credits.
		Strict: {
			NoFault: clean,
			// The lost request's deposits fail and are never retried.
			ProduceRequestLost: {Lost: Some, Duplicated: None, Recovered: None, Aborted: None},
			// The broker wrote them; the producer was told they failed.
			// Other batches on the reset connection may fail unwritten.
			ProduceAckLost: {Lost: Any, Duplicated: None, Recovered: Some, Aborted: None},
			// The rest of the batch was committed before it was credited.
			ProcessorCrash: {Lost: Some, Duplicated: None, Recovered: None, Aborted: None, Restart: true},
			LeaderCrash:    leaderCrashAcksOne,
		},
		// The seed's consumer: auto-commit. Commits run on a timer inside
		// the consumer, only for records already handed out, so after a
		// crash what was processed since the last commit is read again:
		// duplicates, not losses.
		Common: {
			NoFault:            clean,
			ProduceRequestLost: {Lost: Some, Duplicated: None, Recovered: None, Aborted: None},
			ProduceAckLost:     {Lost: Any, Duplicated: None, Recovered: Some, Aborted: None},
			ProcessorCrash:     {Lost: None, Duplicated: Some, Recovered: None, Aborted: None, Restart: true},
			LeaderCrash:        leaderCrashAcksOne,
		},
	},
	AtLeastOnce: {
		// Producer acks=all with retries; the processor credits a batch,
		// then commits it.
		Strict: {
			NoFault: clean,
			// The retry may rewrite batches whose answers the reset
			// connection lost too.
			ProduceRequestLost: {Lost: None, Duplicated: Any, Recovered: Any, Aborted: None},
			// The retry writes the deposits a second time.
			ProduceAckLost: {Lost: None, Duplicated: Some, Recovered: Any, Aborted: None},
			// What was credited after the last commit is credited again.
			ProcessorCrash: {Lost: None, Duplicated: Some, Recovered: None, Aborted: None, Restart: true},
			LeaderCrash:    leaderCrashAcksAll,
		},
		// The seed's consumer: credit one record, commit it, next.
		Common: {
			NoFault:            clean,
			ProduceRequestLost: {Lost: None, Duplicated: Any, Recovered: Any, Aborted: None},
			ProduceAckLost:     {Lost: None, Duplicated: Some, Recovered: Any, Aborted: None},
			// The crash falls between one credit and its commit.
			ProcessorCrash: {Lost: None, Duplicated: Some, Recovered: None, Aborted: None, Restart: true},
			LeaderCrash:    leaderCrashAcksAll,
		},
		// strict plus an idempotent consumer: every repeat is delivered
		// and skipped, so the ledger holds each deposit once.
		Dedup: {
			NoFault: clean,
			// A rewritten batch is a second record of the same deposits in
			// the input topic: skipped.
			ProduceRequestLost: {Lost: None, Duplicated: None, Recovered: Any, Aborted: None},
			ProduceAckLost:     {Lost: None, Duplicated: None, Recovered: Any, Aborted: None},
			// The new instance restores what the crashed one credited
			// from the ledger and skips it.
			ProcessorCrash: {Lost: None, Duplicated: None, Recovered: None, Aborted: None, Restart: true},
			LeaderCrash:    leaderCrashOnce,
		},
	},
	ExactlyOnce: {
		// Idempotent, transactional producer; the processor reads
		// read_committed and commits credits and offsets in one
		// transaction.
		Strict: {
			NoFault:            clean,
			ProduceRequestLost: exact,
			// The broker drops the retry by producer id and sequence.
			ProduceAckLost: exact,
			// The crashed instance's transaction is aborted and redone.
			ProcessorCrash: crashOnce,
			LeaderCrash:    leaderCrashOnce,
		},
		// The same producer, with an auto-committing processor that is not
		// part of any transaction.
		Common: {
			NoFault:            clean,
			ProduceRequestLost: exact,
			ProduceAckLost:     exact,
			ProcessorCrash:     {Lost: None, Duplicated: Some, Recovered: None, Aborted: None, Restart: true},
			LeaderCrash:        leaderCrashOnce,
		},
	},
}

// LookupClaim returns the claim for a run of g in preset p under fault f.
func LookupClaim(g GuaranteeID, p PresetID, f FaultID) (Claim, bool) {
	o, ok := claimRows[g][p][f]
	if !ok {
		return Claim{}, false
	}
	gu, _ := LookupGuarantee(g)
	return Claim{Guarantee: g, Preset: p, Fault: f, Outcome: o, Verdict: o.verdict(gu.Claim)}, true
}

// Claims lists the claim table in catalog order: by guarantee, preset and
// fault.
func Claims() []Claim {
	var out []Claim
	for _, g := range guarantees {
		for _, p := range g.Presets {
			for _, f := range faults {
				if c, ok := LookupClaim(g.ID, p, f.ID); ok {
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// verdict is what a run with outcome o means for a guarantee that promises
// promise: held when nothing it forbids can happen, violated when
// something it forbids must. An outcome that leaves a promised class Any
// has no verdict: CheckClaims refuses it.
func (o Outcome) verdict(promise checker.Claim) checker.Verdict {
	forbidden := []Count{}
	if promise.NoLoss {
		forbidden = append(forbidden, o.Lost)
	}
	if promise.NoDuplicates {
		forbidden = append(forbidden, o.Duplicated)
	}
	switch {
	case slices.Contains(forbidden, Some):
		return checker.Violated
	case slices.Contains(forbidden, Any):
		return ""
	}
	return checker.Held
}

// Check compares a run's result with the claim: "" when it agrees, or a
// sentence naming every class that does not.
func (c Claim) Check(r checker.Result) string {
	var msg string
	add := func(class string, want Count, got int) {
		if !want.Holds(got) {
			msg += fmt.Sprintf("%s: want %s, got %d; ", class, want, got)
		}
	}
	add("lost", c.Lost, r.Lost)
	add("duplicated", c.Duplicated, r.Duplicated)
	add("recovered", c.Recovered, r.Recovered)
	add("aborted credits", c.Aborted, r.AbortedCredits)
	if c.LostAcked != "" {
		add("lost acked", c.LostAcked, r.LostAcked)
	}
	if r.Unexpected != 0 {
		msg += fmt.Sprintf("unexpected: want none, got %d; ", r.Unexpected)
	}
	if r.Verdict != c.Verdict {
		msg += fmt.Sprintf("verdict: want %s, got %s; ", c.Verdict, r.Verdict)
	}
	if msg != "" {
		msg = msg[:len(msg)-2]
	}
	return msg
}

// CheckClaims reports what is wrong with the claim table: a guarantee ×
// preset × fault without its row, a row for something the catalog does
// not have, or a row whose verdict cannot be derived.
func CheckClaims() error {
	var errs []error
	for g, presets := range claimRows {
		gu, ok := LookupGuarantee(g)
		if !ok {
			errs = append(errs, fmt.Errorf("claim table: unknown guarantee %q", g))
			continue
		}
		for p, fs := range presets {
			if !gu.HasPreset(p) {
				errs = append(errs, fmt.Errorf("claim table: %s has no preset %q", g, p))
			}
			for f := range fs {
				if _, ok := LookupFault(f); !ok {
					errs = append(errs, fmt.Errorf("claim table: unknown fault %q", f))
				}
			}
		}
	}
	for _, g := range guarantees {
		for _, p := range g.Presets {
			for _, f := range faults {
				c, ok := LookupClaim(g.ID, p, f.ID)
				switch {
				case !ok:
					errs = append(errs, fmt.Errorf("claim table: no row for %s/%s/%s", g.ID, p, f.ID))
				case c.Lost == "" || c.Duplicated == "" || c.Recovered == "" || c.Aborted == "":
					errs = append(errs, fmt.Errorf("claim table: %s/%s/%s leaves a class unsaid: say none, some or any", g.ID, p, f.ID))
				case c.Verdict == "":
					errs = append(errs, fmt.Errorf("claim table: %s/%s/%s leaves a class its guarantee promises as %q: say none or some", g.ID, p, f.ID, Any))
				}
			}
		}
	}
	return errors.Join(errs...)
}
