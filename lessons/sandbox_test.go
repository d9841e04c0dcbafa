package lessons

import (
	"strings"
	"testing"

	"github.com/kafka-delivery-lab/lab/lessons/checker"
)

// TestPredictAgreesWithClaimTable: the sandbox's rules, applied to every
// preset's recipe, give the claim table's own row for every fault. The
// sandbox predicts from the same table, not from a second opinion.
func TestPredictAgreesWithClaimTable(t *testing.T) {
	for _, c := range Claims() {
		r, _ := LookupRecipe(c.Guarantee, c.Preset)
		if got := Predict(r, c.Fault); got != c.Outcome {
			t.Errorf("%s/%s/%s: Predict = %+v, claim table %+v", c.Guarantee, c.Preset, c.Fault, got, c.Outcome)
		}
	}
}

func custom(claim GuaranteeID, s Settings) RunParams {
	return RunParams{Preset: Custom, Claim: claim, Fault: NoFault, Settings: &s}
}

// TestCustomValidation: each knob out of range, and each combination a
// real client refuses, is refused naming the setting, the other setting
// of the rule, and quoting the client's rule.
func TestCustomValidation(t *testing.T) {
	ok := Settings{Acks: AcksAll, Retries: 3, Commit: CommitAfter}
	for _, tc := range []struct {
		name  string
		p     RunParams
		field string
		says  []string
	}{
		{"acks", custom(AtLeastOnce, with(ok, func(s *Settings) { s.Acks = "2" })), "settings.acks", []string{"0, 1 or all"}},
		{"retries", custom(AtLeastOnce, with(ok, func(s *Settings) { s.Retries = 11 })), "settings.retries", []string{"0 to 10"}},
		{"in flight", custom(AtLeastOnce, with(ok, func(s *Settings) { s.MaxInFlight = 6 })), "settings.max_in_flight", []string{"1 to 5", "at most 5"}},
		{"commit", custom(AtLeastOnce, with(ok, func(s *Settings) { s.Commit = "each" })), "settings.commit", []string{"before, after, auto or transaction"}},
		{"auto interval", custom(AtLeastOnce, with(ok, func(s *Settings) { s.Commit = CommitAuto })), "settings.auto_commit_interval_ms", []string{"100 to 5000"}},
		{"stray interval", custom(AtLeastOnce, with(ok, func(s *Settings) { s.AutoCommitMs = 500 })), "settings.auto_commit_interval_ms", []string{"only to settings.commit auto"}},
		{"isolation", custom(AtLeastOnce, with(ok, func(s *Settings) { s.Isolation = "serializable" })), "settings.isolation", []string{"read_uncommitted or read_committed"}},
		{"idempotence needs acks=all", custom(ExactlyOnce, with(ok, func(s *Settings) { s.Idempotent, s.Acks = true, AcksLeader })), "settings.acks",
			[]string{"settings.idempotent=true", "settings.acks=all", "Must set acks to all in order to use the idempotent producer"}},
		{"idempotence needs retries", custom(ExactlyOnce, with(ok, func(s *Settings) { s.Idempotent, s.Retries = true, 0 })), "settings.retries",
			[]string{"settings.idempotent=true", "settings.retries", "Must set retries to non-zero when using the idempotent producer"}},
		{"transactions need idempotence", custom(ExactlyOnce, with(ok, func(s *Settings) { s.Transactional = true })), "settings.transactional",
			[]string{"settings.transactional=true", "settings.idempotent=true", "Cannot set a transactional.id without also enabling idempotence"}},
		{"dedup in a transaction", custom(ExactlyOnce, with(ok, func(s *Settings) { s.Dedup, s.Commit = true, CommitInTransaction })), "settings.dedup",
			[]string{"settings.dedup=true", "settings.commit"}},
		{"revoke commit with commit before", custom(AtLeastOnce, with(ok, func(s *Settings) { s.CommitOnRevoke, s.Commit = true, CommitBefore })), "settings.commit_on_revoke",
			[]string{"settings.commit_on_revoke=true", "settings.commit=after", "nothing credited and uncommitted"}},
		{"revoke commit with auto-commit", custom(AtLeastOnce, with(ok, func(s *Settings) { s.CommitOnRevoke, s.Commit, s.AutoCommitMs = true, CommitAuto, 1000 })), "settings.commit_on_revoke",
			[]string{"settings.commit_on_revoke=true", "settings.commit=after", "commits on revocation by itself"}},
		{"revoke commit in a transaction", custom(ExactlyOnce, Settings{Acks: AcksAll, Retries: 1, Idempotent: true, Transactional: true, Commit: CommitInTransaction, CommitOnRevoke: true}), "settings.commit_on_revoke",
			[]string{"settings.commit_on_revoke=true", "settings.commit=after", "aborts a transaction whose partitions are revoked"}},
		{"no claim", RunParams{Preset: Custom, Fault: NoFault, Settings: &ok}, "claim", []string{"at-most-once, at-least-once or exactly-once"}},
		{"no settings", RunParams{Preset: Custom, Claim: AtMostOnce, Fault: NoFault}, "settings", []string{"acks, retries"}},
		{"claim and guarantee differ", RunParams{Guarantee: AtMostOnce, Preset: Custom, Claim: ExactlyOnce, Fault: NoFault, Settings: &ok}, "guarantee", []string{"claim"}},
		{"settings without custom", RunParams{Guarantee: AtMostOnce, Fault: NoFault, Settings: &ok}, "settings", []string{"preset custom"}},
		{"level", RunParams{Preset: Custom, Claim: AtMostOnce, Level: "nope", Settings: &ok}, "level", []string{"GET /api/levels"}},
		{"level's frozen knob", RunParams{Preset: Custom, Claim: AtMostOnce, Level: "amo-ack-lost", Settings: ptr(with(retryingAMO, func(s *Settings) { s.Commit = CommitAfter }))},
			"settings.commit", []string{"does not let settings.commit change", "acks or retries"}},
		{"level's goal", RunParams{Preset: Custom, Claim: ExactlyOnce, Level: "amo-ack-lost", Settings: ptr(retryingAMO)}, "level", []string{"claim at-most-once"}},
	} {
		err := tc.p.Validate()
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		if err.Field != tc.field {
			t.Errorf("%s: field %q, want %q (%s)", tc.name, err.Field, tc.field, err.Msg)
		}
		for _, s := range tc.says {
			if !strings.Contains(err.Msg, s) {
				t.Errorf("%s: %q does not say %q", tc.name, err.Msg, s)
			}
		}
	}
	p := custom(ExactlyOnce, Settings{Acks: AcksAll, Retries: 1, Idempotent: true, Transactional: true, Commit: CommitInTransaction})
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.Guarantee != ExactlyOnce || p.Settings.MaxInFlight != 5 || p.Settings.Isolation != ReadUncommitted {
		t.Errorf("defaults not filled in: %+v %+v", p, *p.Settings)
	}
	if r := p.Recipe(); r.Client != FranzGo || r.Attempts != 2 || r.Preset != Custom {
		t.Errorf("recipe %+v", r)
	}
}

func ptr[T any](v T) *T { return &v }

// TestValidConfigurations counts what the sandbox allows.
func TestValidConfigurations(t *testing.T) {
	all, shapes := ValidConfigurations()
	t.Logf("valid configurations: %d (%d not counting the auto-commit interval)", all, shapes)
	// 3 acks × 11 retries × 5 in flight × 2 isolations, times the
	// producer shapes and processor shapes the rules allow; computed by
	// hand: producer (idempotent, transactional) pairs allowed per acks
	// and retries: non-idempotent always (1), idempotent and
	// idempotent+transactional only with acks=all and retries>0 (2 ×
	// 10); processor: before, after, auto each with or without dedup (6),
	// after also with commit_on_revoke (2), plus transaction (1).
	producers := 3*11*1 + 1*10*2
	wantShapes := producers * 5 * 2 * 9
	if shapes != wantShapes {
		t.Errorf("shapes = %d, want %d", shapes, wantShapes)
	}
	wantAll := producers * 5 * 2 * (9 - 2 + 2*(MaxAutoCommit-MinAutoCommit+1))
	if all != wantAll {
		t.Errorf("all = %d, want %d", all, wantAll)
	}
}

// TestLevelsAreWellFormed: every level starts valid and broken, and its
// reference is valid, changes only the level's knobs and is predicted to
// keep the goal. TestLevels (package pipeline) runs both.
func TestLevelsAreWellFormed(t *testing.T) {
	if len(Levels()) < 8 {
		t.Errorf("%d levels, want at least 8", len(Levels()))
	}
	seen := map[string]bool{}
	for _, l := range Levels() {
		if seen[l.ID] {
			t.Errorf("level %s twice", l.ID)
		}
		seen[l.ID] = true
		for name, s := range map[string]Settings{"start": l.Start, "reference": l.Reference} {
			p := RunParams{Preset: Custom, Claim: l.Goal, Level: l.ID, Settings: ptr(s)}
			if err := p.Validate(); err != nil {
				t.Errorf("%s %s: %v", l.ID, name, err)
			}
		}
		if v := Prediction(l.Goal, l.Start.Recipe(l.Goal), l.Fault).Verdict; v != checker.Violated {
			t.Errorf("%s: start predicted %q, want violated", l.ID, v)
		}
		if v := Prediction(l.Goal, l.Reference.Recipe(l.Goal), l.Fault).Verdict; v != checker.Held {
			t.Errorf("%s: reference predicted %q, want held", l.ID, v)
		}
		if l.Par < 1 {
			t.Errorf("%s: par %d", l.ID, l.Par)
		}
	}
}

// TestBlame: the blamed setting follows the anomaly, where the fault
// struck, and the recipe.
func TestBlame(t *testing.T) {
	for _, tc := range []struct {
		claim GuaranteeID
		s     Settings
		fault FaultID
		res   checker.Result
		want  string // setting, "" for none
	}{
		{AtMostOnce, retryingAMO, ProduceAckLost, checker.Result{Duplicated: 3}, SettingRetries},
		{AtLeastOnce, plainAMO, ProduceRequestLost, checker.Result{Lost: 2}, SettingRetries},
		{AtLeastOnce, with(plainALO, func(s *Settings) { s.Acks = AcksNone }), ProduceRequestLost, checker.Result{Lost: 2}, SettingAcks},
		{AtLeastOnce, plainAMO, ProcessorCrash, checker.Result{Lost: 5}, SettingCommit},
		{ExactlyOnce, autoEOS, ProcessorCrash, checker.Result{Duplicated: 5}, SettingCommit},
		{AtLeastOnce, plainALO, ProcessorCrash, checker.Result{Duplicated: 5}, ""}, // not forbidden
		{ExactlyOnce, plainALO, ProcessorCrash, checker.Result{}, ""},
		// A rebalance's duplicates, by the processor's settings.
		{ExactlyOnce, plainALO, Rebalance, checker.Result{Duplicated: 4}, SettingCommitOnRevoke},
		{ExactlyOnce, with(plainALO, func(s *Settings) { s.Commit, s.AutoCommitMs = CommitAuto, 1000 }), Rebalance, checker.Result{Duplicated: 4}, SettingCommit},
	} {
		b := BlameFor(tc.claim, tc.s.Recipe(tc.claim), tc.fault, tc.res)
		got := ""
		if len(b) > 0 {
			got = b[0].Settings[0]
		}
		if got != tc.want {
			t.Errorf("%s %+v under %s, %+v: blame %q, want %q", tc.claim, tc.s, tc.fault, tc.res, got, tc.want)
		}
	}
}

// TestKnobsAreTheSettings: the sandbox shows every setting, in order.
func TestKnobsAreTheSettings(t *testing.T) {
	var names []string
	for _, k := range Knobs() {
		names = append(names, k.Name)
	}
	if strings.Join(names, ",") != strings.Join(SettingNames, ",") {
		t.Errorf("knobs %v, settings %v", names, SettingNames)
	}
}
