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
	// SideEffectsDuplicated counts the deposits whose notification, the
	// processor's effect outside Kafka, a plain receiver acted on more
	// than once. No transaction covers it: a credit that is redone
	// notifies again even where the ledger stays exact.
	SideEffectsDuplicated Count `json:"side_effects_duplicated"`
	// Restart is true when a new processor instance must take over.
	Restart bool `json:"restart,omitempty"`
	// Fenced is true when the broker must refuse the zombie's work with
	// an error of its own (processor-stall under a transaction).
	Fenced bool `json:"fenced,omitempty"`
	// LostAcked, when said, counts the lost deposits the broker had
	// acknowledged: what the cluster faults are about. "" claims nothing.
	LostAcked Count `json:"lost_acked,omitempty"`
	// Refused, when said, counts the produce attempts the broker refused
	// with NOT_ENOUGH_REPLICAS (or NOT_ENOUGH_REPLICAS_AFTER_APPEND): an
	// acks=all write with fewer in-sync replicas than the topic's
	// min.insync.replicas. "" claims nothing.
	Refused Count `json:"refused,omitempty"`
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
	clean = Outcome{Lost: None, Duplicated: None, Recovered: None, Aborted: None, SideEffectsDuplicated: None}
	exact = Outcome{Lost: None, Duplicated: None, Recovered: Any, Aborted: None, SideEffectsDuplicated: None}
	// The crashed instance's open transaction is aborted when the next
	// instance fences it: its credits stay in the ledger, unseen by
	// read_committed readers, and are redone. Its notifications were sent
	// and are sent again: the transaction does not cover them.
	crashOnce = Outcome{Lost: None, Duplicated: None, Recovered: None, Aborted: Some, SideEffectsDuplicated: Some, Restart: true}
	// The frozen instance's open transaction is aborted when the next
	// instance's InitProducerID bumps the epoch; when it wakes, the broker
	// refuses its writes and its commit. Its notifications went out, and
	// those it sends on waking do too.
	fencedZombie = Outcome{Lost: None, Duplicated: None, Recovered: None, Aborted: Some, SideEffectsDuplicated: Some, Restart: true, Fenced: true}
	// A redone credit is a repeated notification.
	redone = Outcome{Lost: None, Duplicated: Some, Recovered: None, Aborted: None, SideEffectsDuplicated: Some, Restart: true}

	// leader-crash (cluster mode). acks=1: the leader acknowledged the
	// deposits alone, and the new leader never had them. A send the kill
	// broke fails, and may still have been written (recovered).
	leaderCrashAcksOne = Outcome{Lost: Some, LostAcked: Some, Duplicated: None, Recovered: Any, Aborted: None, SideEffectsDuplicated: None}
	// acks=all with min.insync.replicas=2: nothing is acknowledged while
	// the followers are held back; the producer's retries reach the new
	// leader. kafka-go is not idempotent, so a retry of a batch the new
	// leader already has would write it twice.
	leaderCrashAcksAll = Outcome{Lost: None, LostAcked: None, Duplicated: Any, Recovered: Any, Aborted: None, SideEffectsDuplicated: Any}
	// The idempotent (exactly-once) producer's retries are dropped by
	// sequence number, and the idempotent consumer skips repeats.
	leaderCrashDedup = Outcome{Lost: None, LostAcked: None, Duplicated: Any, Recovered: Any, Aborted: None, SideEffectsDuplicated: Any}
	leaderCrashOnce  = Outcome{Lost: None, LostAcked: None, Duplicated: None, Recovered: Any, Aborted: Any, SideEffectsDuplicated: Any}

	// follower-down (cluster mode). acks=1, or acks=all with
	// min.insync.replicas=1: the leader alone is enough, so it goes on
	// acknowledging writes no follower has; nothing is refused.
	followerDownAlone = Outcome{Lost: None, LostAcked: None, Duplicated: None, Recovered: None, Aborted: None, SideEffectsDuplicated: None, Refused: None}
	// acks=all with min.insync.replicas=2: once the in-sync set is the
	// leader alone, every attempt is refused with NOT_ENOUGH_REPLICAS
	// until a follower is back; kafka-go retries them, and a refusal
	// after the append (NOT_ENOUGH_REPLICAS_AFTER_APPEND) would make the
	// retry a second record.
	followerDownRefused = Outcome{Lost: None, LostAcked: None, Duplicated: Any, Recovered: Any, Aborted: None, SideEffectsDuplicated: Any, Refused: Some}
	followerDownDedup   = Outcome{Lost: None, LostAcked: None, Duplicated: None, Recovered: Any, Aborted: None, SideEffectsDuplicated: None, Refused: Some}
	// franz-go's idempotent producer retries until the follower is back;
	// a rewrite is dropped by sequence number. Its refusals are not
	// counted (the lab reads kafka-go's attempts only).
	followerDownOnce = Outcome{Lost: None, LostAcked: None, Duplicated: None, Recovered: Any, Aborted: Any, SideEffectsDuplicated: Any}
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
			ProduceRequestLost: {Lost: Some, Duplicated: None, Recovered: None, Aborted: None, SideEffectsDuplicated: None},
			// The broker wrote them; the producer was told they failed.
			// Other batches on the reset connection may fail unwritten.
			ProduceAckLost: {Lost: Any, Duplicated: None, Recovered: Some, Aborted: None, SideEffectsDuplicated: None},
			// The rest of the batch was committed before it was credited.
			ProcessorCrash: {Lost: Some, Duplicated: None, Recovered: None, Aborted: None, SideEffectsDuplicated: None, Restart: true},
			// The batch was committed before it was credited, so the new
			// instance starts after it, and the zombie, once awake,
			// credits the rest of it late: nothing lost, nothing twice.
			// Not fenced: at-most-once writes credits outside any
			// transaction, and its commit came first.
			ProcessorStall: {Lost: None, Duplicated: None, Recovered: None, Aborted: None, SideEffectsDuplicated: None, Restart: true},
			// The batch was committed before it was credited: the
			// instance that gets its partition starts after it. A record
			// fetched before the hand-over is neither committed nor
			// credited, and its new owner reads it again (kafka-go would
			// send its commit in the new generation, racing the new
			// owner's read of the offset: processor_kafkago.go, current).
			Rebalance:    clean,
			LeaderCrash:  leaderCrashAcksOne,
			FollowerDown: followerDownAlone,
		},
		// The seed's consumer: auto-commit. Commits run on a timer inside
		// the consumer, only for records already handed out, so after a
		// crash what was processed since the last commit is read again:
		// duplicates, not losses.
		Common: {
			NoFault:            clean,
			ProduceRequestLost: {Lost: Some, Duplicated: None, Recovered: None, Aborted: None, SideEffectsDuplicated: None},
			ProduceAckLost:     {Lost: Any, Duplicated: None, Recovered: Some, Aborted: None, SideEffectsDuplicated: None},
			ProcessorCrash:     redone,
			// The new instance redoes what the zombie credited since the
			// last auto-commit, and the zombie credits the rest again.
			ProcessorStall: redone,
			// kafka-go commits, at the end of a generation, only what the
			// application already handed it: the batch credited and not
			// yet handed over is read again by the partition's new owner.
			Rebalance:    {Lost: None, Duplicated: Some, Recovered: None, Aborted: None, SideEffectsDuplicated: Some},
			LeaderCrash:  leaderCrashAcksOne,
			FollowerDown: followerDownAlone,
		},
	},
	AtLeastOnce: {
		// Producer acks=all with retries; the processor credits a batch,
		// then commits it.
		Strict: {
			NoFault: clean,
			// The retry may rewrite batches whose answers the reset
			// connection lost too.
			ProduceRequestLost: {Lost: None, Duplicated: Any, Recovered: Any, Aborted: None, SideEffectsDuplicated: Any},
			// The retry writes the deposits a second time.
			ProduceAckLost: {Lost: None, Duplicated: Some, Recovered: Any, Aborted: None, SideEffectsDuplicated: Some},
			// What was credited after the last commit is credited again.
			ProcessorCrash: redone,
			// The new instance credits the zombie's batch again, and the
			// zombie, awake, credits the rest of it a second time; the
			// group refuses its commit, too late to matter.
			ProcessorStall: redone,
			// The instance commits on revocation: kafka-go's
			// ConsumerGroup waits for it before it rejoins, so it
			// commits what it credited in the ending generation, and
			// the partitions' new owner starts after it. No duplicates
			// (kfake 20 of 20 runs, Apache Kafka 12 of 12; common, the
			// Reader, duplicated 33 to 133 in 20 of 20 on kfake, 0 to
			// 133 on Apache Kafka).
			// What would still duplicate: an instance slower than the
			// rebalance timeout (three sessions) to finish its record
			// and commit is dropped from the group, and its commit is
			// refused, which the trace shows as an error.
			Rebalance:    clean,
			LeaderCrash:  leaderCrashAcksAll,
			FollowerDown: followerDownRefused,
		},
		// The seed's consumer: credit one record, commit it, next.
		Common: {
			NoFault:            clean,
			ProduceRequestLost: {Lost: None, Duplicated: Any, Recovered: Any, Aborted: None, SideEffectsDuplicated: Any},
			ProduceAckLost:     {Lost: None, Duplicated: Some, Recovered: Any, Aborted: None, SideEffectsDuplicated: Some},
			// The crash falls between one credit and its commit.
			ProcessorCrash: redone,
			// So does the stall: the new instance credits that deposit
			// again.
			ProcessorStall: redone,
			// The instance goes on crediting and committing the batch it
			// fetched, record by record, for partitions no longer its
			// own; kafka-go's Reader accepts those commits in the new
			// generation, after the new owner has read the old committed
			// offset. It has no revocation callback: this is the
			// consumer that does not commit on revoke.
			Rebalance: {Lost: None, Duplicated: Any, Recovered: None, Aborted: None, SideEffectsDuplicated: Any},
			// min.insync.replicas=1 (Kafka's default) loses nothing here,
			// measured: acks=all waits for every member of the in-sync
			// set, however few min.insync.replicas asks for, and the
			// held-back followers never left it (two of the three KRaft
			// controllers were paused: no quorum to take them out). The
			// setting matters once they are out: follower-down.
			LeaderCrash: leaderCrashAcksAll,
			// The leader alone is enough: it acknowledges deposits no
			// follower has, and nothing is refused.
			FollowerDown: followerDownAlone,
		},
		// strict plus an idempotent consumer: every repeat is delivered
		// and skipped, so the ledger holds each deposit once.
		Dedup: {
			NoFault: clean,
			// A rewritten batch is a second record of the same deposits in
			// the input topic: skipped.
			ProduceRequestLost: {Lost: None, Duplicated: None, Recovered: Any, Aborted: None, SideEffectsDuplicated: None},
			ProduceAckLost:     {Lost: None, Duplicated: None, Recovered: Any, Aborted: None, SideEffectsDuplicated: None},
			// The new instance restores what the crashed one credited
			// from the ledger and skips it.
			ProcessorCrash: {Lost: None, Duplicated: None, Recovered: None, Aborted: None, SideEffectsDuplicated: None, Restart: true},
			// The new instance skips what the zombie credited, and credits
			// the rest; the zombie's store, restored before the new
			// instance wrote, does not know that, so the zombie credits the
			// rest again. A dedup store guards against repeats in the log,
			// not against a second writer: only fencing stops a zombie.
			ProcessorStall: redone,
			// The joiner restores its store from the ledger when it
			// starts, after the other instance credited its batch: the
			// records it reads again are skipped.
			Rebalance: clean,
			// In 1 of 4 cluster runs the processor credited 99 of the
			// deposits written during the election twice, though the
			// input held each once. Likely (not yet confirmed by a
			// cluster run) the processor's own ledger writes: kafka-go,
			// acks=all, not idempotent. The killed broker stays in the
			// ledger's ISR until the controller fences it, a write
			// waits for it and times out, and kafka-go writes the batch
			// again, while the first copy is committed once the ISR
			// shrinks. The store is checked before writing, so it
			// guards against repeats in the input, not against its
			// writer's retries: "any".
			LeaderCrash:  leaderCrashDedup,
			FollowerDown: followerDownDedup,
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
			// The zombie is fenced: its transaction is aborted, and the
			// broker refuses what it tries when it wakes.
			ProcessorStall: fencedZombie,
			// franz-go's GroupTransactSession aborts a transaction open
			// when its partitions were revoked; the new owner redoes it.
			// Whether the revocation fell inside the transaction is the
			// group's timing, so the aborted credits may be none.
			Rebalance:    {Lost: None, Duplicated: None, Recovered: None, Aborted: Any, SideEffectsDuplicated: Any},
			LeaderCrash:  leaderCrashOnce,
			FollowerDown: followerDownOnce,
		},
		// The same producer, with an auto-committing processor that is not
		// part of any transaction.
		Common: {
			NoFault:            clean,
			ProduceRequestLost: exact,
			ProduceAckLost:     exact,
			ProcessorCrash:     redone,
			// Credits outside a transaction: nothing fences the zombie's.
			ProcessorStall: redone,
			// The auto-committed offset lags what was credited: the new
			// owner credits the difference again.
			Rebalance:    {Lost: None, Duplicated: Some, Recovered: None, Aborted: None, SideEffectsDuplicated: Some},
			LeaderCrash:  leaderCrashOnce,
			FollowerDown: followerDownOnce,
		},
	},
}

// ClaimShape is the partitions and processors of the runs the claim table
// is measured with under fault f: one of each, and for a rebalance three
// partitions, so that the joiner takes some from the one instance. A run
// of another shape has no row: a group of several instances rebalances as
// its members join at the start, and what that does is the rebalance
// fault's story, not the fault's the run names.
func ClaimShape(f FaultID) (partitions, processors int) {
	if f == Rebalance {
		return 3, 1
	}
	return 1, 1
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

// WithNotify is the claim for a run whose notifications go to sink n: an
// idempotent receiver acts on each deposit once, whatever the processor
// redoes.
func (c Claim) WithNotify(n NotifyID) Claim {
	if n == NotifyIdempotent {
		c.SideEffectsDuplicated = None
	}
	return c
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

// Check compares a run's result, and how many deposits its notification
// sink acted on more than once, with the claim: "" when it agrees, or a
// sentence naming every class that does not.
func (c Claim) Check(r checker.Result, sideEffectsDuplicated int) string {
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
	add("side effects duplicated", c.SideEffectsDuplicated, sideEffectsDuplicated)
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
				case c.Lost == "" || c.Duplicated == "" || c.Recovered == "" || c.Aborted == "" || c.SideEffectsDuplicated == "":
					errs = append(errs, fmt.Errorf("claim table: %s/%s/%s leaves a class unsaid: say none, some or any", g.ID, p, f.ID))
				case c.Verdict == "":
					errs = append(errs, fmt.Errorf("claim table: %s/%s/%s leaves a class its guarantee promises as %q: say none or some", g.ID, p, f.ID, Any))
				}
			}
		}
	}
	return errors.Join(errs...)
}
