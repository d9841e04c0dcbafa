package content

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/text"
)

// TestUnboundOutcomeFails: a sentence that states what a run shows, in
// either language, does not load unless an {{outcome}} binds it to the
// claim table. Definitions without a fault, mechanisms without an
// outcome, and a send that fails after all its retries are not run
// outcomes.
func TestUnboundOutcomeFails(t *testing.T) {
	head := "# T\n\nSummary.\n\n## S {#s}\n\n"
	run := "::run guarantee=at-most-once preset=strict fault=processor-crash messages=20 pace=150 label=\"x\"\n\n"
	for _, c := range []struct {
		lang text.Lang
		body string
	}{
		{text.English, "A crash between the commit and the credit loses the deposit.\n"},
		{text.English, "After the retry the deposit is duplicated.\n"},
		{text.English, "The processor crashes; nothing is lost.\n"},
		{text.English, run + "The balance is short by the rest of the batch, and the verdict is held.\n"},
		{text.English, "- Retries write every deposit twice.\n"},
		{text.English, "After a crash the replacement credits them again.\n"},
		{text.English, "Start with a lost acknowledgement. At-least-once duplicates the deposit.\n"},
		{text.Korean, "확인 응답 유실부터 해 보세요. 최소 한 번에서는 중복됩니다.\n"},
		{text.Korean, "비정상 종료되면 새 인스턴스가 같은 입금을 다시 반영합니다.\n"},
		{text.Korean, "처리기가 비정상 종료되면 그 입금은 유실됩니다.\n"},
		{text.Korean, "재시도하면 중복이 생깁니다.\n"},
		{text.Korean, run + "그래도 판정은 보장 유지입니다.\n"},
		{text.Korean, "::notes 설정\n\n- 재시도가 입금을 두 번 기록합니다.\n\n::end\n"},
	} {
		_, err := parseLesson("t", c.lang, []byte(head+c.body))
		if err == nil || !strings.Contains(err.Error(), "without binding it to the claim table") {
			t.Errorf("%s %q: error %v, want one asking for an {{outcome}}", c.lang, c.body, err)
		}
	}
	for _, c := range []struct {
		lang text.Lang
		body string
	}{
		{text.English, "At-most-once never credits a deposit twice, and may lose one.\n"},
		{text.English, "The producer retries after a lost answer.\n"},
		{text.English, "A send that fails even after all retries is lost unless it is sent again.\n"},
		{text.English, "## Client libraries {#clients}\n\nfranz-go's retries do not duplicate.\n"},
		{text.Korean, "최대 한 번은 유실을 허용합니다.\n"},
		{text.English, "A lost deposit is missing money. Code passes every test until the first lost answer.\n"},
		{text.English, "With acks=1 a deposit is lost when the leader dies before a follower copies it.\n"},
		{text.Korean, "확인 응답이 유실되면 프로듀서가 재시도합니다.\n"},
	} {
		if _, err := parseLesson("t", c.lang, []byte(head+c.body)); err != nil {
			t.Errorf("%s %q: %v", c.lang, c.body, err)
		}
	}
}

// TestBoundOutcomeDisagrees: a bound sentence whose words contradict its
// row of the claim table does not load.
func TestBoundOutcomeDisagrees(t *testing.T) {
	head := "# T\n\nSummary.\n\n## S {#s}\n\n"
	for _, c := range []struct {
		lang text.Lang
		body string
		want string
	}{
		{text.English, "The lost request's deposit is lost {{outcome at-least-once strict produce-request-lost}}.\n", "says lost some"},
		{text.English, "A crash loses nothing {{outcome at-most-once strict processor-crash}}; nothing is lost.\n", "says lost none"},
		{text.English, "The retry is written twice {{outcome exactly-once strict produce-ack-lost}}.\n", "says duplicated some"},
		{text.English, "After a crash there is no duplicate {{outcome at-least-once strict processor-crash}}.\n", "says duplicated none"},
		{text.English, "The crash leaves the verdict violated {{outcome exactly-once strict processor-crash}}.\n", "says the verdict is violated"},
		{text.English, "::run guarantee=at-most-once preset=common fault=processor-crash messages=20 pace=150 label=\"x\"\n\nA few deposits are credited twice. The verdict is held {{outcome}}.\n", "says the verdict is held"},
		{text.Korean, "요청이 유실되면 입금도 유실됩니다 {{outcome at-least-once strict produce-request-lost}}.\n", "says lost some"},
		{text.Korean, "비정상 종료되어도 중복은 없습니다 {{outcome at-least-once common processor-crash}}.\n", "says duplicated none"},
		{text.Korean, "재시도해도 판정은 보장 위반입니다 {{outcome exactly-once strict produce-ack-lost}}.\n", "says the verdict is violated"},
	} {
		_, err := parseLesson("t", c.lang, []byte(head+c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q: error %v, want one that %s", c.lang, c.body, err, c.want)
		}
	}
	for body, want := range map[string]string{
		"A crash {{outcome}} loses it.\n":                                            "binds the ::run above it",
		"A crash loses it {{outcome at-most-once strict}}.\n":                        "write {{outcome guarantee preset fault}}",
		"A crash loses it {{outcome at-most-once lenient processor-crash}}.\n":       "no row for it",
		"A crash loses it {{outcome at-most-once strict processor-crash meteor}}.\n": "write {{outcome guarantee preset fault}}",
	} {
		_, err := parseLesson("t", text.English, []byte(head+body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one saying %q", body, err, want)
		}
	}
}

// TestBoundOutcomeRenders: a shortcode renders its row in the page's
// language, a run's caption binds the run, and a sentence that agrees
// loads.
func TestBoundOutcomeRenders(t *testing.T) {
	src := "# T\n\nSummary.\n\n## S {#s}\n\n::run guarantee=at-least-once preset=strict fault=produce-ack-lost messages=20 pace=150 label=\"x\"\n\n" +
		"The retry writes it twice: **duplicated**, nothing lost, held {{outcome}}.\n"
	for lang, want := range map[text.Lang]string{
		text.English: `<small>(lost: none, duplicated: some, held)</small>`,
		text.Korean:  `<small>(유실: 없음, 중복: 있음, 보장 유지)</small>`,
	} {
		p, err := parseLesson("at-least-once", lang, []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		if h := p.sections[0].blocks[2].HTML; !strings.Contains(h, want) {
			t.Errorf("%s: rendered %s, want %s", lang, h, want)
		}
	}
	// A row of another lesson's guarantee, or preset, says whose it is.
	other := "# T\n\nSummary.\n\n## S {#s}\n\nA crash credits some twice {{outcome at-least-once common processor-crash}}, a lost ack too {{outcome at-least-once common produce-ack-lost}}.\n"
	for lang, want := range map[text.Lang]string{
		text.English: "<small>(at-least-once · common · processor-crash · lost: none, duplicated: some, held)</small>",
		text.Korean:  "<small>(최소 한 번 · 흔한 설정 · 처리기 비정상 종료 · 유실: 없음, 중복: 있음, 보장 유지)</small>",
	} {
		p, err := parseLesson("exactly-once", lang, []byte(other))
		if err != nil || !strings.Contains(p.sections[0].blocks[0].HTML, want) {
			t.Errorf("%s: %v, rendered %+v, want %s", lang, err, p, want)
		}
	}
	// In a code span the shortcode is text, as a writer documenting it
	// would expect.
	p, err := parseLesson("t", text.English, []byte("# T\n\nSummary.\n\n## S {#s}\n\nWrite `{{outcome}}`.\n"))
	if err != nil || !strings.Contains(p.sections[0].blocks[0].HTML, "<code>{{outcome}}</code>") {
		t.Errorf("code span: %v", err)
	}
}

// TestOutcomesInStep: each section binds the same set of claim rows in
// Korean and English, so neither language states an outcome the other
// does not tie to the table.
func TestOutcomesInStep(t *testing.T) {
	set := parseAll(files)
	total := 0
	for k, en := range set.lessons {
		if k.lang != text.English {
			continue
		}
		ko := set.lessons[key{k.id, text.Korean}]
		if ko == nil {
			t.Errorf("%s: no Korean lesson (%v)", k.id, set.errs[key{k.id, text.Korean}])
			continue
		}
		bound := func(les *parsedLesson) map[string][]string {
			out := map[string][]string{}
			for _, s := range les.sections {
				var rows []string
				for _, c := range s.outcomes {
					rows = append(rows, fmt.Sprintf("%s/%s/%s", c.Guarantee, c.Preset, c.Fault))
				}
				// A row once or twice is the same binding: the two
				// languages split their sentences differently.
				slices.Sort(rows)
				out[s.id] = slices.Compact(rows)
			}
			return out
		}
		a, b := bound(en), bound(ko)
		for _, sec := range slices.Sorted(maps.Keys(a)) {
			total += len(a[sec])
			if !slices.Equal(a[sec], b[sec]) {
				t.Errorf("%s#%s: bound claims differ:\n en %v\n ko %v", k.id, sec, a[sec], b[sec])
			}
		}
	}
	t.Logf("%d claim rows bound, by section, in each language", total)
	if total == 0 {
		t.Error("no lesson binds an outcome")
	}
}

// TestHomeTableAgrees: the home page's table says in a sentence what each
// guarantee does under each fault (lessons/text g.<guarantee>.<fault>),
// beside the claim table's classes; each sentence, in both languages,
// must agree with its strict row as a bound lesson sentence would.
func TestHomeTableAgrees(t *testing.T) {
	for _, g := range lessons.Guarantees() {
		for _, f := range lessons.Injectable() {
			c, ok := lessons.LookupClaim(g.ID, lessons.Strict, f)
			if !ok {
				t.Fatalf("no claim for %s/strict/%s", g.ID, f)
			}
			for _, l := range text.Langs {
				s := l.T(g.TextKey + "." + string(f))
				if err := checkSentence("home", sentence{text: s, claims: []lessons.Claim{c}}, false, false); err != nil {
					t.Errorf("%s %s.%s: %v", l, g.TextKey, f, err)
				}
			}
		}
	}
	// The check itself: at-least-once's lost-ack sentence is wrong for
	// exactly-once.
	eos, _ := lessons.LookupClaim(lessons.ExactlyOnce, lessons.Strict, lessons.ProduceAckLost)
	for _, l := range text.Langs {
		if checkSentence("home", sentence{text: l.T("g.alo.produce-ack-lost"), claims: []lessons.Claim{eos}}, false, false) == nil {
			t.Errorf("%s: g.alo.produce-ack-lost passes as exactly-once's row", l)
		}
	}
}
