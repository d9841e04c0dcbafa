package lessons

import (
	"strings"
	"testing"

	"github.com/kafka-delivery-lab/lab/lessons/checker"
)

// TestClaimTableIsComplete: every guarantee × preset × fault has its claim,
// with a verdict the guarantee's promise decides, and nothing else does.
func TestClaimTableIsComplete(t *testing.T) {
	if err := CheckClaims(); err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, g := range Guarantees() {
		want += len(g.Presets) * len(Faults())
	}
	if got := len(Claims()); got != want {
		t.Fatalf("%d claims, want one per guarantee × preset × fault (%d)", got, want)
	}
}

// TestEveryPresetHasARecipe: a preset a guarantee offers is configured by
// exactly one recipe, and a recipe configures an offered preset.
func TestEveryPresetHasARecipe(t *testing.T) {
	seen := map[[2]string]int{}
	for _, r := range Recipes() {
		g, ok := LookupGuarantee(r.Guarantee)
		if !ok || !g.HasPreset(r.Preset) {
			t.Errorf("recipe for %s/%s, which the catalog does not offer", r.Guarantee, r.Preset)
		}
		seen[[2]string{string(r.Guarantee), string(r.Preset)}]++
		if r.Commit == CommitAuto && r.AutoCommitMs <= 0 {
			t.Errorf("%s/%s commits automatically without a period", r.Guarantee, r.Preset)
		}
		if r.Transactional && (!r.Idempotent || r.Acks != AcksAll) {
			t.Errorf("%s/%s: a transactional producer is idempotent with acks=all", r.Guarantee, r.Preset)
		}
		if r.Commit == CommitInTransaction && !r.Transactional {
			t.Errorf("%s/%s commits offsets in a transaction without a transactional producer", r.Guarantee, r.Preset)
		}
	}
	for _, g := range Guarantees() {
		for _, p := range g.Presets {
			if n := seen[[2]string{string(g.ID), string(p)}]; n != 1 {
				t.Errorf("%s/%s has %d recipes, want 1", g.ID, p, n)
			}
		}
	}
}

func TestVerdictFollowsThePromise(t *testing.T) {
	for _, tc := range []struct {
		g    GuaranteeID
		o    Outcome
		want checker.Verdict
	}{
		{AtMostOnce, Outcome{Lost: Some, Duplicated: None}, checker.Held},
		{AtMostOnce, Outcome{Lost: None, Duplicated: Some}, checker.Violated},
		{AtLeastOnce, Outcome{Lost: None, Duplicated: Some}, checker.Held},
		{AtLeastOnce, Outcome{Lost: Some, Duplicated: None}, checker.Violated},
		{ExactlyOnce, Outcome{Lost: None, Duplicated: None}, checker.Held},
		{ExactlyOnce, Outcome{Lost: None, Duplicated: Any}, ""},
	} {
		g, _ := LookupGuarantee(tc.g)
		if got := tc.o.verdict(g.Claim); got != tc.want {
			t.Errorf("%s %+v: verdict %q, want %q", tc.g, tc.o, got, tc.want)
		}
	}
}

// TestValidateNamesTheCatalog: a refused run says what the catalog offers.
func TestValidateNamesTheCatalog(t *testing.T) {
	if got := orList([]FaultID{"a", "b", "c"}); got != "a, b or c" {
		t.Fatalf("orList: %q", got)
	}
	for _, tc := range []struct {
		p     RunParams
		field string
		says  string
	}{
		{RunParams{}, "guarantee", orList(guaranteeIDs())},
		{RunParams{Guarantee: "at-least-twice"}, "guarantee", `unknown guarantee "at-least-twice"`},
		{RunParams{Guarantee: AtMostOnce, Preset: "lenient"}, "preset", orList(guarantees[0].Presets)},
		{RunParams{Guarantee: AtMostOnce}, "fault", orList(faultIDs())},
		{RunParams{Guarantee: AtMostOnce, Fault: "meteor"}, "fault", `unknown fault "meteor"`},
		{RunParams{Guarantee: AtMostOnce, Fault: NoFault, Messages: new(int)}, "messages", "from 1 to 1000000"},
		{RunParams{Guarantee: ExactlyOnce, Fault: ProcessorCrash, Notify: "exactly-once"}, "notify", `unknown notify "exactly-once": use plain or idempotent`},
	} {
		err := tc.p.Validate()
		if err == nil || err.Field != tc.field || !strings.Contains(err.Msg, tc.says) {
			t.Errorf("%+v: got %v, want a %s error saying %q", tc.p, err, tc.field, tc.says)
		}
	}
	p := RunParams{Guarantee: ExactlyOnce, Fault: ProcessorCrash}
	if err := p.Validate(); err != nil || p.Preset != Strict || *p.Messages != DefaultMessages || *p.PaceMs != 0 || p.Notify != NotifyPlain {
		t.Fatalf("defaults: %v %+v", err, p)
	}
	if err := CheckInjectable(NoFault); err == nil {
		t.Fatal("none can be injected")
	}
}
