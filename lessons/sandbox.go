package lessons

// The sandbox (issue 16): a run of the learner's own settings, the claim
// they make for it, what the claim table's rules predict it shows, and which
// setting to blame when it breaks the claim.

import (
	"fmt"

	"github.com/kafka-delivery-lab/lab/lessons/checker"
)

// Custom is the preset of a run whose settings the learner chose.
const Custom PresetID = "custom"

// Bounds of a custom run's settings.
const (
	MaxRetries    = 10
	MaxInFlight   = 5 // the idempotent producer's limit in every client: see checkSettings
	MinAutoCommit = 100
	MaxAutoCommit = 5000
)

// Settings are a custom run's knobs, named as the Java client names them.
// The producer's settings configure the deposit producer; the processor's,
// the consumer group member that credits them.
type Settings struct {
	Acks Acks `json:"acks"`
	// Retries counts the resends after the first try; 0 never resends.
	Retries       int  `json:"retries"`
	Idempotent    bool `json:"idempotent"`
	MaxInFlight   int  `json:"max_in_flight"`
	Transactional bool `json:"transactional"`
	// Commit is before, after, auto or transaction.
	Commit       Commit    `json:"commit"`
	AutoCommitMs int       `json:"auto_commit_interval_ms,omitempty"`
	Isolation    Isolation `json:"isolation"`
	Dedup        bool      `json:"dedup"`
	// CommitOnRevoke, with commit after, commits what was credited when
	// the group revokes the processor's partitions, before they move
	// (Java's ConsumerRebalanceListener.onPartitionsRevoked with
	// commitSync). false, every client's default, commits nothing then.
	CommitOnRevoke bool `json:"commit_on_revoke"`
}

// AcksNone is acks=0: the producer does not wait for any answer.
const AcksNone Acks = "0"

// The knobs, named as the API, the errors and the blame name them.
const (
	SettingAcks           = "acks"
	SettingRetries        = "retries"
	SettingIdempotent     = "idempotent"
	SettingMaxInFlight    = "max_in_flight"
	SettingTransactional  = "transactional"
	SettingCommit         = "commit"
	SettingAutoCommitMs   = "auto_commit_interval_ms"
	SettingIsolation      = "isolation"
	SettingDedup          = "dedup"
	SettingCommitOnRevoke = "commit_on_revoke"
)

// SettingNames lists the knobs in the order the sandbox shows them.
var SettingNames = []string{SettingAcks, SettingRetries, SettingIdempotent, SettingMaxInFlight, SettingTransactional,
	SettingCommit, SettingAutoCommitMs, SettingIsolation, SettingDedup, SettingCommitOnRevoke}

var (
	acksValues      = []Acks{AcksNone, AcksLeader, AcksAll}
	commitValues    = []Commit{CommitBefore, CommitAfter, CommitAuto, CommitInTransaction}
	isolationValues = []Isolation{ReadUncommitted, ReadCommitted}
)

// checkSettings is Validate's check of a custom run's settings: each knob in
// its range, then the combinations a real client refuses, refused with the
// client's own rule. The rules are Java's ProducerConfig (Kafka 4.x), which
// kafka-python and franz-go follow: franz-go's NewClient refuses
// idempotence with acks other than all, and a transactional id with
// idempotence disabled.
func checkSettings(s *Settings) *FieldError {
	if !oneOf(s.Acks, acksValues) {
		return fieldErr("settings.acks", "settings.acks must be %s", orList(acksValues))
	}
	if s.Retries < 0 || s.Retries > MaxRetries {
		return fieldErr("settings.retries", "settings.retries must be a whole number from 0 to %d", MaxRetries)
	}
	if s.MaxInFlight == 0 {
		s.MaxInFlight = MaxInFlight // every client's default
	}
	if s.MaxInFlight < 1 || s.MaxInFlight > MaxInFlight {
		return fieldErr("settings.max_in_flight", "settings.max_in_flight must be a whole number from 1 to %d, the most the idempotent producer allows: %q (Java's ProducerConfig)", MaxInFlight,
			"To use the idempotent producer, max.in.flight.requests.per.connection must be set to at most 5.")
	}
	if !oneOf(s.Commit, commitValues) {
		return fieldErr("settings.commit", "settings.commit must be %s", orList(commitValues))
	}
	if s.Commit == CommitAuto {
		if s.AutoCommitMs < MinAutoCommit || s.AutoCommitMs > MaxAutoCommit {
			return fieldErr("settings.auto_commit_interval_ms", "settings.auto_commit_interval_ms must be a whole number of milliseconds from %d to %d when settings.commit is auto", MinAutoCommit, MaxAutoCommit)
		}
	} else if s.AutoCommitMs != 0 {
		return fieldErr("settings.auto_commit_interval_ms", "settings.auto_commit_interval_ms applies only to settings.commit auto: leave it out with commit %s", s.Commit)
	}
	if s.Isolation == "" {
		s.Isolation = ReadUncommitted // every client's default
	}
	if !oneOf(s.Isolation, isolationValues) {
		return fieldErr("settings.isolation", "settings.isolation must be %s", orList(isolationValues))
	}
	// The teaching moments: what the clients refuse, in the order Java's
	// ProducerConfig checks them (TestProducerRulesAreJavas).
	if s.Idempotent && s.Retries == 0 {
		return fieldErr("settings.retries", "settings.idempotent=true needs settings.retries above 0: %q (Java's ProducerConfig; kafka-python refuses it too)",
			"Must set retries to non-zero when using the idempotent producer.")
	}
	if s.Idempotent && s.Acks != AcksAll {
		return fieldErr("settings.acks", "settings.idempotent=true needs settings.acks=all, not %s: %q (Java's ProducerConfig; franz-go and kafka-python refuse it too)",
			s.Acks, "Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence.")
	}
	if s.Transactional && !s.Idempotent {
		return fieldErr("settings.transactional", "settings.transactional=true needs settings.idempotent=true: %q (Java's ProducerConfig)",
			"Cannot set a transactional.id without also enabling idempotence.")
	}
	// No client refuses a rebalance listener; this rule is the lab's, and
	// says why the knob means nothing with the other commits.
	if s.CommitOnRevoke && s.Commit != CommitAfter {
		return fieldErr("settings.commit_on_revoke", "settings.commit_on_revoke=true needs settings.commit=after, not %s: %s", s.Commit, map[Commit]string{
			CommitBefore:        "commit before processing has committed every record before crediting it, so a revocation finds nothing credited and uncommitted to commit",
			CommitAuto:          "with auto-commit the client commits on revocation by itself, what the loop was handed (Java's and kafka-python's consumers commit synchronously before they rejoin the group), so there is no listener of yours to add",
			CommitInTransaction: "with commit=transaction the offsets go with the credits in one transaction, and franz-go's GroupTransactSession aborts a transaction whose partitions are revoked, for the next owner to redo",
		}[s.Commit])
	}
	if s.Dedup && s.Commit == CommitInTransaction {
		return fieldErr("settings.dedup", "settings.dedup=true needs settings.commit before, after or auto: the lab's idempotent consumer is a kafka-go processor, and commit=transaction runs on franz-go's GroupTransactSession, which writes credits and offsets atomically and needs none")
	}
	return nil
}

func oneOf[T comparable](v T, vs []T) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// Recipe maps the settings onto the recipe a pipeline runs, for claim g.
// kafka-go has no idempotent writer, so an idempotent or transactional
// producer is franz-go's; any other is kafka-go's, as in the presets.
// max_in_flight has no place in it: kafka-go's writer sends one batch per
// partition at a time, and franz-go ignores the setting when idempotent
// (up to 5 in flight, as Kafka allows); it configures the generated
// kafka-python and Java lines only.
func (s Settings) Recipe(g GuaranteeID) Recipe {
	r := Recipe{Guarantee: g, Preset: Custom, Client: KafkaGo, Acks: s.Acks, Attempts: s.Retries + 1,
		Idempotent: s.Idempotent, Transactional: s.Transactional, Isolation: s.Isolation,
		Commit: s.Commit, AutoCommitMs: s.AutoCommitMs, Dedup: s.Dedup, CommitOnRevoke: s.CommitOnRevoke}
	if s.Idempotent || s.Transactional {
		r.Client = FranzGo
	}
	return r
}

// ValidConfigurations counts the distinct settings checkSettings accepts,
// every auto-commit interval counted as its own, and how many of them
// differ in more than the interval.
func ValidConfigurations() (all, shapes int) {
	EachValidSetting(func(s Settings) {
		shapes++
		all++
		if s.Commit == CommitAuto {
			all += MaxAutoCommit - MinAutoCommit
		}
	})
	return all, shapes
}

// EachValidSetting calls fn with every valid setting, auto-commit at
// MinAutoCommit only: the interval changes when commits happen, not which
// rules apply.
func EachValidSetting(fn func(Settings)) {
	bools := []bool{false, true}
	for _, acks := range acksValues {
		for retries := 0; retries <= MaxRetries; retries++ {
			for _, idem := range bools {
				for inFlight := 1; inFlight <= MaxInFlight; inFlight++ {
					for _, txn := range bools {
						for _, commit := range commitValues {
							ms := 0
							if commit == CommitAuto {
								ms = MinAutoCommit
							}
							for _, iso := range isolationValues {
								for _, dedup := range bools {
									for _, revoke := range bools {
										s := Settings{Acks: acks, Retries: retries, Idempotent: idem, MaxInFlight: inFlight, Transactional: txn,
											Commit: commit, AutoCommitMs: ms, Isolation: iso, Dedup: dedup, CommitOnRevoke: revoke}
										if checkSettings(&s) == nil {
											fn(s)
										}
									}
								}
							}
						}
					}
				}
			}
		}
	}
}

// Predict is what the claim table's rules say a run of recipe r shows
// under fault f: the same rules the table's rows state for each preset
// (TestPredictAgreesWithClaimTable), applied to any combination of knobs.
func Predict(r Recipe, f FaultID) Outcome {
	o := clean
	switch f {
	case ProduceRequestLost, ProduceAckLost:
		o = predictProducer(r, f)
		if r.Dedup {
			// The idempotent consumer skips a rewritten deposit by id.
			o.Duplicated = None
		}
		// A deposit credited twice is notified twice.
		o.SideEffectsDuplicated = o.Duplicated
	case ProcessorCrash:
		o.Restart = true
		switch {
		case r.Commit == CommitBefore:
			o.Lost = Some
		case r.Commit == CommitInTransaction:
			// The crashed instance's transaction is aborted and redone; its
			// notifications, outside Kafka, are not taken back.
			o.Aborted, o.SideEffectsDuplicated = Some, Some
		case !r.Dedup:
			// after, each and auto: what was credited since the last
			// commit is credited again.
			o.Duplicated, o.SideEffectsDuplicated = Some, Some
		}
	case ProcessorStall:
		o.Restart = true
		switch r.Commit {
		case CommitBefore:
			// The batch was committed first: the zombie credits the rest
			// of it late, and nobody else does.
		case CommitInTransaction:
			// The broker fences the zombie and aborts its transaction.
			o.Aborted, o.SideEffectsDuplicated, o.Fenced = Some, Some, true
		default:
			// The new instance redoes the batch and the zombie credits the
			// rest again; a dedup store restored before the new instance
			// wrote does not stop a second writer.
			o.Duplicated, o.SideEffectsDuplicated = Some, Some
		}
	case LeaderCrash:
		// With min.insync.replicas=2, as cluster mode sets it.
		switch {
		case r.Acks != AcksAll:
			o = leaderCrashAcksOne
		case r.Idempotent:
			o = leaderCrashOnce
		case r.Dedup:
			o = leaderCrashDedup
		default:
			o = leaderCrashAcksAll
		}
		if r.Acks == AcksAll && !r.Idempotent && r.Attempts < outlastOutage {
			o.Lost = Any
		}
	case FollowerDown:
		switch {
		case r.Acks != AcksAll || r.MinInsyncReplicas() < 2:
			o = followerDownAlone
		case r.Idempotent:
			o = followerDownOnce
		case r.Dedup:
			o = followerDownDedup
		default:
			o = followerDownRefused
		}
		if r.Acks == AcksAll && r.MinInsyncReplicas() >= 2 && !r.Idempotent && r.Attempts < outlastOutage {
			o.Lost = Any
		}
	case Rebalance:
		switch {
		case r.Commit == CommitBefore, r.Dedup:
		case r.CommitOnRevoke:
			// What was credited is committed in the generation that is
			// ending, before the partitions move: the new owner starts
			// after it.
		case r.Commit == CommitInTransaction:
			// A transaction open when its partitions moved is aborted and
			// redone, if the revocation fell inside one.
			o.Aborted, o.SideEffectsDuplicated = Any, Any
		case r.Commit == CommitAuto && r.AutoCommitMs >= 1000:
			// The auto-committed offset lags what was credited by up to a
			// second, longer than a 200-deposit batch takes: the new owner
			// credits the difference again. A shorter timer may have
			// committed the batch before the hand-over (the default case).
			o.Duplicated, o.SideEffectsDuplicated = Some, Some
		default:
			// Without commit_on_revoke nothing is committed on
			// revocation (kafka-go's Reader cannot): the new owner
			// credits again what was credited and not committed, unless
			// the batch's commit lands first.
			o.Duplicated, o.SideEffectsDuplicated = Any, Any
		}
	}
	return o
}

// outlastOutage is how many kafka-go attempts outlast a cluster fault's
// outage: a leader's election after leader-crash (3-4 s, and kafka-go
// learns of it when its metadata expires), or the leader alone in the
// in-sync set under follower-down (5-7 s). With cluster mode's backoff
// (0.1, 0.4, 0.9, 1.6, then 2 s) 10 span 13 s; fewer may run out first,
// and the deposits fail (measured: retries=5 failed 31 of 60 under
// leader-crash).
const outlastOutage = 10

// predictProducer is what a lost request or a lost answer does to the
// deposits, by the producer's settings.
func predictProducer(r Recipe, f FaultID) Outcome {
	o := clean
	switch {
	case r.Acks == AcksNone:
		// No answer is awaited: a dropped request is never known to have
		// failed, and there is no answer to lose.
		if f == ProduceRequestLost {
			o.Lost = Some
		}
	case r.Idempotent:
		// Retried until written; the broker drops a rewrite by producer id
		// and sequence number.
		o.Recovered = Any
	case r.Attempts == 1:
		if f == ProduceRequestLost {
			o.Lost = Some
		} else {
			// The broker wrote them; the producer was told they failed.
			// Other batches on the reset connection may fail unwritten.
			o.Lost, o.Recovered = Any, Some
		}
	default:
		// Retried without idempotence: a rewrite of a batch the broker
		// had written is a second record.
		o.Recovered = Any
		if f == ProduceRequestLost {
			o.Duplicated = Any
		} else {
			o.Duplicated = Some
		}
	}
	return o
}

// Prediction is the claim table's word on a custom run: the outcome and
// the verdict for the learner's claim ("" when the outcome leaves it open).
func Prediction(g GuaranteeID, r Recipe, f FaultID) Claim {
	gu, _ := LookupGuarantee(g)
	o := Predict(r, f)
	return Claim{Guarantee: g, Preset: Custom, Fault: f, Outcome: o, Verdict: o.verdict(gu.Claim)}
}

// Blame names the settings that broke the learner's claim, and why: the
// setting at fault first, then those whose change would also have
// prevented it.
type Blame struct {
	Settings []string `json:"settings"`
	// Anomaly is the class it caused: lost or duplicated.
	Anomaly string `json:"anomaly"`
	// TextKey explains the rule in lessons/text: blame.<key>.
	TextKey string `json:"text_key"`
	Detail  string `json:"detail"`
}

// BlameFor names the settings to blame for what run result res of recipe r
// under fault f shows against claim g: one per anomaly the claim forbids
// and the run showed, from where the fault struck (the producer's
// connection or the processor) and the recipe. Nil when the claim held.
func BlameFor(g GuaranteeID, r Recipe, f FaultID, res checker.Result) []Blame {
	gu, _ := LookupGuarantee(g)
	fault, _ := LookupFault(f)
	var out []Blame
	if gu.Claim.NoLoss && res.Lost > 0 {
		switch {
		case fault.Where == OnNetwork && r.Acks == AcksNone:
			out = append(out, Blame{[]string{SettingAcks}, "lost", "blame.acks-none",
				"acks=0: the producer never hears that a request was lost, so it never resends it"})
		case fault.Where == OnNetwork && r.Attempts == 1:
			out = append(out, Blame{[]string{SettingRetries}, "lost", "blame.no-retries",
				"retries=0: a send that failed is given up, never resent"})
		case fault.Where == OnBroker && r.Acks != AcksAll:
			out = append(out, Blame{[]string{SettingAcks}, "lost", "blame.acks-leader",
				"acks=1: the leader acknowledged deposits no follower had copied, and the follower elected after it died never had them"})
		case fault.Where == OnBroker && !r.Idempotent && r.Attempts < outlastOutage:
			out = append(out, Blame{[]string{SettingRetries}, "lost", "blame.retries-outage",
				fmt.Sprintf("retries=%d: the retries ran out before the partition took writes again", r.Attempts-1)})
		case fault.Where == InProcess && r.Commit == CommitBefore:
			out = append(out, Blame{[]string{SettingCommit}, "lost", "blame.commit-before",
				"commit before processing: the crash came after the offsets were committed and before the deposits were credited"})
		}
	}
	if gu.Claim.NoDuplicates && res.Duplicated > 0 {
		switch {
		case fault.Where == OnNetwork && !r.Idempotent && !r.Dedup:
			out = append(out, Blame{[]string{SettingRetries, SettingIdempotent, SettingDedup}, "duplicated", "blame.retries-without-idempotence",
				fmt.Sprintf("retries without idempotence (retries=%d): the resend of a batch the broker had written is written again", r.Attempts-1)})
		case f == Rebalance && r.Commit == CommitAfter && !r.CommitOnRevoke && !r.Dedup:
			out = append(out, Blame{[]string{SettingCommitOnRevoke, SettingDedup}, "duplicated", "blame.no-commit-on-revoke",
				"commit after processing without commit_on_revoke: the partitions moved while credited deposits were not committed yet, and their new owner credited them again"})
		case fault.Where == InProcess && r.Commit != CommitInTransaction && !r.Dedup:
			out = append(out, Blame{[]string{SettingCommit, SettingDedup}, "duplicated", "blame.commit-outside-transaction",
				"commit " + string(r.Commit) + " processing, outside a transaction and without dedup: what was credited after the last commit is credited again"})
		}
	}
	return out
}

// Knob is one setting as the sandbox shows it: its values and what each
// client library does when it is not set. Its meaning is the text key
// sandbox.knob.<name>.
type Knob struct {
	Name   string   `json:"name"`
	Values []string `json:"values,omitempty"` // nil: a number, or a bool
	// Defaults are kafka-go's, franz-go's, kafka-python's and Java's, in
	// that order (ClientNames); "—" where the library has no such thing.
	Defaults [4]string `json:"defaults"`
}

// ClientNames are the libraries of Knob.Defaults and of Lines, in order.
var ClientNames = [4]string{"kafka-go", "franz-go", "kafka-python", "Java"}

// Knobs lists the sandbox's knobs, with the defaults of kafka-go v0.4,
// franz-go v1.22, kafka-python 3.0 and the Java client 4.x, read from
// their sources (kafka-go's zero Writer, franz-go's defaultCfg,
// kafka-python's DEFAULT_CONFIG, Java's ProducerConfig and
// ConsumerConfig).
func Knobs() []Knob {
	return []Knob{
		{SettingAcks, []string{"0", "1", "all"}, [4]string{"0 (RequireNone)", "all", "all", "all"}},
		{SettingRetries, nil, [4]string{"9 (MaxAttempts 10)", "∞", "∞", "2147483647"}},
		{SettingIdempotent, nil, [4]string{"—", "true", "true", "true"}},
		{SettingMaxInFlight, nil, [4]string{"—", "1 (5 idempotent)", "5", "5"}},
		{SettingTransactional, nil, [4]string{"—", "false", "false", "false"}},
		{SettingCommit, []string{string(CommitBefore), string(CommitAfter), string(CommitAuto), string(CommitInTransaction)},
			[4]string{"before (ReadMessage)", "auto", "auto", "auto"}},
		{SettingAutoCommitMs, nil, [4]string{"— (sync)", "5000", "5000", "5000"}},
		{SettingIsolation, []string{string(ReadUncommitted), string(ReadCommitted)},
			[4]string{"read_uncommitted", "read_uncommitted", "read_uncommitted", "read_uncommitted"}},
		{SettingDedup, nil, [4]string{"—", "—", "—", "—"}},
		// Only franz-go commits on revocation by default, and only with
		// auto-commit on; with commit after (DisableAutoCommit), none do.
		{SettingCommitOnRevoke, nil, [4]string{"— (Reader: no callback)", "false", "false", "false"}},
	}
}

// DefaultSettings is the sandbox's first configuration: the at-least-once
// strict preset's producer and commit, and no commit on revoke, as every
// client leaves it (a form leaves an unticked box out of its query, so
// every box starts unticked).
var DefaultSettings = Settings{Acks: AcksAll, Retries: 5, MaxInFlight: MaxInFlight, Commit: CommitAfter, Isolation: ReadUncommitted}
