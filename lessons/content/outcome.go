package content

// Outcome sentences: no outcome claim lives only in prose. A sentence of
// a lesson that says what a run shows (a deposit lost, credited twice, the
// verdict) carries an {{outcome}} shortcode that binds it to a row of the
// claim table (lessons/claims.go) and renders that row's outcome in the
// page's language beside it:
//
//	The retry writes it again: **duplicated** {{outcome at-least-once strict produce-ack-lost}}.
//	Its replacement credits it again {{outcome}}.
//
// Without arguments it binds the nearest ::run above it in its section.
// Two checks keep the prose and the table in step, both when the lessons
// are built (a lesson that fails either does not load):
//
//   - a bound sentence's own words must agree with its row (agree): it may
//     not say "lost" where the row says none are, nor "nothing lost" where
//     the row says some are; the same for duplicates and the verdict;
//   - a sentence that states a run outcome must be bound (unbound). The
//     detector's rule: after the fault's own words are taken out ("a lost
//     request", "확인 응답이 유실"), the sentence still has an outcome word
//     (lost, loses, duplicate…, twice, held, violated, the balance; 유실,
//     중복, 두 번, 보장 유지, 보장 위반, 잔액) and it names one
//     of the lab's faults or what they set off (crash, retry, a lost
//     request or answer, the restart, the replacement; 비정상 종료, 크래시,
//     재시도, 새 인스턴스, 장애), a send that fails after all its retries
//     excepted, which no fault of the lab causes, and a sentence about
//     replicas, which no run of the lab has. A sentence about outcomes with no fault
//     in it defines a guarantee; a sentence about a fault with no outcome
//     word describes the mechanism. The "clients" section is exempt: what
//     it says of each client's defaults is measured by the /clients probes
//     (lessons/clients), not by the claim table.

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	gmtext "github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/text"
)

var kindOutcome = ast.NewNodeKind("Outcome")

// outcomeNode is an {{outcome …}} shortcode: args as written, then the
// claim it binds and the text it renders, set by bindOutcomes.
type outcomeNode struct {
	ast.BaseInline
	args  string
	claim lessons.Claim
	label string
}

func (n *outcomeNode) Kind() ast.NodeKind { return kindOutcome }

func (n *outcomeNode) Dump(src []byte, level int) {
	ast.DumpHelper(n, src, level, map[string]string{"args": n.args}, nil)
}

// outcomeParser reads "{{outcome …}}" inside a paragraph or list item.
type outcomeParser struct{}

func (outcomeParser) Trigger() []byte { return []byte{'{'} }

func (outcomeParser) Parse(_ ast.Node, block gmtext.Reader, _ parser.Context) ast.Node {
	line, _ := block.PeekLine()
	rest, ok := bytesCutPrefix(line, "{{outcome")
	if !ok || (len(rest) > 0 && rest[0] != ' ' && rest[0] != '}') {
		return nil
	}
	end := strings.Index(string(rest), "}}")
	if end < 0 {
		return nil
	}
	block.Advance(len(line) - len(rest) + end + 2)
	return &outcomeNode{args: strings.TrimSpace(string(rest[:end]))}
}

func bytesCutPrefix(b []byte, prefix string) ([]byte, bool) {
	if !strings.HasPrefix(string(b), prefix) {
		return nil, false
	}
	return b[len(prefix):], true
}

// outcomeRenderer writes a bound shortcode as a side comment, <small>.
type outcomeRenderer struct{}

func (outcomeRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(kindOutcome, func(w util.BufWriter, _ []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		_, _ = w.WriteString("<small>")
		_, _ = w.Write(util.EscapeHTML([]byte(n.(*outcomeNode).label)))
		_, _ = w.WriteString("</small>")
		return ast.WalkContinue, nil
	})
}

// outcomeLabel is a claim row in l's words: "(lost: none, duplicated:
// some, held)", with recovered deposits and aborted credits named only
// when the row says the run has them ("recovered: either" says nothing).
// A row of another guarantee than the lesson's, or of another preset than
// strict, says whose it is first, and a row named in the shortcode, not
// by the ::run above, says its fault unless ofRun: "(at-least-once ·
// common · processor-crash · lost: …)".
func outcomeLabel(l text.Lang, lesson string, c lessons.Claim, ofRun bool) string {
	var whose []string
	if string(c.Guarantee) != lesson {
		whose = append(whose, label(l, string(c.Guarantee)))
	}
	if c.Preset != lessons.Strict {
		whose = append(whose, label(l, string(c.Preset)))
	}
	if !ofRun {
		whose = append(whose, label(l, string(c.Fault)))
	}
	parts := []string{
		l.T("result.lost") + ": " + l.T("claim."+string(c.Lost)),
		l.T("result.duplicated") + ": " + l.T("claim."+string(c.Duplicated)),
	}
	if c.Recovered == lessons.Some {
		parts = append(parts, l.T("result.recovered")+": "+l.T("claim."+string(c.Recovered)))
	}
	if c.Aborted == lessons.Some {
		parts = append(parts, l.T("pic.aborted.count")+": "+l.T("claim."+string(c.Aborted)))
	}
	parts = append(parts, l.T("verdict."+string(c.Verdict)))
	return "(" + strings.Join(append(whose, strings.Join(parts, ", ")), " · ") + ")"
}

// label is an id as an outcome names it: its Korean label on a Korean
// page, the id on an English one.
func label(l text.Lang, id string) string {
	if s := text.Label(l, id); s != "" {
		return s
	}
	return id
}

// parseOutcomeArgs reads "guarantee preset fault", or nothing for run,
// the ::run above.
func parseOutcomeArgs(args string, run *Scenario) (lessons.Claim, error) {
	f := strings.Fields(args)
	if len(f) == 0 {
		if run == nil {
			return lessons.Claim{}, errors.New("{{outcome}} without arguments binds the ::run above it, and there is none in this section: write {{outcome guarantee preset fault}}")
		}
		c, _ := lessons.LookupClaim(run.Guarantee, run.Preset, run.Fault)
		return c, nil
	}
	if len(f) != 3 {
		return lessons.Claim{}, fmt.Errorf("{{outcome %s}}: write {{outcome guarantee preset fault}}, for example {{outcome at-least-once strict produce-ack-lost}}", args)
	}
	c, ok := lessons.LookupClaim(lessons.GuaranteeID(f[0]), lessons.PresetID(f[1]), lessons.FaultID(f[2]))
	if !ok {
		return lessons.Claim{}, fmt.Errorf("{{outcome %s}}: the claim table has no row for it; check the guarantee, preset and fault ids", args)
	}
	return c, nil
}

// bindOutcomes binds and labels every shortcode in the top-level node n,
// then checks n's sentences (see the file comment), and returns the rows
// it bound. run is the section's last ::run so far, if any; caption is
// true when n comes right after it: a run's caption states its outcome
// whatever words it uses.
func bindOutcomes(n ast.Node, src []byte, l text.Lang, lesson, section string, run *Scenario, caption bool) ([]lessons.Claim, error) {
	var errs []error
	var bound []lessons.Claim
	var nodes []*outcomeNode
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if o, ok := c.(*outcomeNode); ok && entering {
			nodes = append(nodes, o)
		}
		return ast.WalkContinue, nil
	})
	for _, o := range nodes {
		claim, err := parseOutcomeArgs(o.args, run)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// Beside another row, a row says its fault.
		o.claim, o.label = claim, outcomeLabel(l, lesson, claim, o.args == "" || len(nodes) == 1)
		bound = append(bound, claim)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	ss := sentences(n, src)
	if caption {
		// A caption is bound as a whole: an {{outcome}} anywhere in it
		// binds each of its sentences.
		var all []lessons.Claim
		for _, s := range ss {
			all = append(all, s.claims...)
		}
		for i := range ss {
			ss[i].claims = all
		}
	}
	// A fault named anywhere in a paragraph is the context of each of its
	// sentences that says what a guarantee does: "Start with a lost
	// acknowledgement. … at-least-once duplicates it" states that fault's
	// outcome. Not in the summary, which defines the lesson's guarantee.
	named := map[int]bool{}
	for _, s := range ss {
		if section != "summary" && faultContext.MatchString(faultWords.ReplaceAllString(strings.ToLower(s.text), "\x00")) {
			named[s.para] = true
		}
	}
	for _, s := range ss {
		if err := checkSentence(section, s, caption, named[s.para] && guaranteeWords.MatchString(strings.ToLower(s.text))); err != nil {
			errs = append(errs, err)
		}
	}
	return bound, errors.Join(errs...)
}

// sentence is one sentence of prose with the claims bound in it, and the
// paragraph (or list item) it is in, numbered from 0 within its block.
type sentence struct {
	text   string
	claims []lessons.Claim
	para   int
}

// sentences splits every paragraph and list item under n into sentences.
// Code spans count as text: a fault id in backquotes still names a fault.
func sentences(n ast.Node, src []byte) []sentence {
	var out []sentence
	para := -1
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c.(type) {
		case *ast.Paragraph, *ast.TextBlock:
		default:
			return ast.WalkContinue, nil
		}
		para++
		cur := sentence{para: para}
		var b strings.Builder
		flush := func() {
			cur.text = strings.TrimSpace(b.String())
			if cur.text != "" {
				out = append(out, cur)
			}
			cur, b = sentence{para: para}, strings.Builder{}
		}
		_ = ast.Walk(c, func(in ast.Node, entering bool) (ast.WalkStatus, error) {
			if !entering {
				return ast.WalkContinue, nil
			}
			switch t := in.(type) {
			case *outcomeNode:
				cur.claims = append(cur.claims, t.claim)
			case *ast.Text:
				for _, r := range string(t.Segment.Value(src)) {
					b.WriteRune(r)
					// A sentence ends at . ! ? followed by a space: the
					// check below looks one rune back.
					if r == ' ' && endsSentence(b.String()) {
						flush()
					}
				}
				if t.SoftLineBreak() || t.HardLineBreak() {
					b.WriteByte(' ')
					if endsSentence(b.String()) {
						flush()
					}
				}
			case *ast.String:
				b.Write(t.Value)
			}
			return ast.WalkContinue, nil
		})
		flush()
		return ast.WalkSkipChildren, nil
	})
	return out
}

func endsSentence(s string) bool {
	s = strings.TrimSuffix(s, " ")
	return strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?")
}

// The detector's vocabulary, lower case. faultWords are a fault's own
// words, taken out before an outcome word is looked for: "a lost request"
// is the fault, not a lost deposit.
var (
	faultWords = regexp.MustCompile(`produce-request-lost|produce-ack-lost|processor-crash|lost[- ](produce )?(request|answer|ack\w*)|(request|answer|acknowledgement|ack|commit)s? (\w+ )?(is|was|are|were|gets?|got) lost|los[et] (a|an|one|the|that) (produce )?(request|answer|ack\w*|commit)|(request|answer|ack\w*) lost|유실(된|되는) (프로듀스 |produce )?(요청|확인 응답)|lost in the reset|loses? (one|a|the) (produce )?(request|answer)|counts as lost|(요청|확인 응답|응답|커밋)(이|가|은|도|만)? ?((하나가|처음|네트워크에서|도중에) )?유실\S*`)
	// replication is a sentence about replicas: the lab runs one (kfake,
	// and CI's single-node Apache Kafka), so no run can show a leader
	// failing; such a sentence is Kafka's documented behaviour, sourced in
	// the lesson, not a claim-table outcome.
	replication = regexp.MustCompile(`leader|follower|replica|isr\b|min\.insync|리더|팔로워|레플리카`)
	// exhausted is a send that fails after all its retries: no fault the
	// lab injects (every fault strikes once, and retries outlast it), so
	// what a sentence says of it is the application's duty, not a run's
	// outcome.
	exhausted = regexp.MustCompile(`(even )?after all (its |the )?retries|재시도를 다 쓰고도`)
	// sideEffects are words about the notifications a processor sends
	// outside Kafka (side_effects_duplicated), not about the ledger: a
	// notification sent twice is no duplicated credit.
	sideEffects    = regexp.MustCompile(`side_effects_\w+|(told|notified|notification\w*) (\S+ ){0,3}twice|중복 알림|알림(을|이) (\S+ )?두 번`)
	faultContext   = regexp.MustCompile(`crash|\bdie[sd]?\b|retr(y|ies|ied)|restart|replacement|new instance|\bfault|\x00|비정상 종료|크래시|죽|재시도|새 인스턴스|장애|이어받`)
	guaranteeWords = regexp.MustCompile(`at[- ]most[- ]once|at[- ]least[- ]once|exactly[- ]once|최대 한 번|최소 한 번|정확히 한 번`)
	// negated outcomes: the class is none.
	noLoss = regexp.MustCompile(`neither lost|nothing (is )?lost|none is lost|no (acknowledged )?deposit is (ever )?lost|(is|are) not lost|never lost|no loss|not loss(es)?|without loss|lost 0|유실(은|이|되는 입금은)? ?없|유실되지 않|유실 0|유실도 (중복도 )?없`)
	noDup  = regexp.MustCompile(`nor duplicated|nothing twice|no longer means a duplicate|no duplicates?|(nothing|none) (is )?duplicated|not? (be )?credited twice|never (credited )?twice|credited once|duplicated 0|without duplicates|중복(은|이)? ?없|중복(은|이)? ?(생기지|나오지) 않|중복되지 않|중복 0|중복도 없|한 번만 반영|한 번 반영`)
	// outcomes said: the class is some. "Credited again" is not one: an
	// exactly-once processor credits a deposit again after its first
	// credit was aborted, and that is no duplicate.
	lossWords = regexp.MustCompile(`\blost\b|\bloses?\b|\blosing\b|\blosses\b|유실`)
	dupWords  = regexp.MustCompile(`duplicat\w*|\btwice\b|중복|두 번([^째]|$)`) // "두 번째" is "the second"
	// againWords say a deposit is credited again: a duplicate, or an
	// aborted credit redone. A sentence saying so must be bound, but its
	// words do not say which of the two it is.
	againWords = regexp.MustCompile(`credit(s|ed)? (\S+ ){0,2}again|다시 반영`)
	// The balance: short of the deposits sent means some lost, above
	// them some duplicated; the balance alone, a number, is an outcome
	// too (it must be bound, whatever it says).
	balanceShort  = regexp.MustCompile(`balance (is )?(below|short)|잔액(은|이)? ?\S+보다 작`)
	balanceAbove  = regexp.MustCompile(`balance (is )?above|잔액(은|이)? ?\S+보다 (크|큽)`)
	balanceWords  = regexp.MustCompile(`balance (is )?(below|short|above|\d)|잔액(은|이)? ?(\d|\S+보다)`)
	heldWords     = regexp.MustCompile(`\bheld\b|보장 유지`)
	violatedWords = regexp.MustCompile(`violated|보장 위반`)
)

// said is what a sentence says of one class: that none are, that some
// are, both (of different parts), or neither.
type said struct{ none, some bool }

func saysOf(s string, negated, positive *regexp.Regexp) said {
	out := said{none: negated.MatchString(s)}
	out.some = positive.MatchString(negated.ReplaceAllString(s, " "))
	return out
}

// checkSentence applies the two checks to one sentence; named is true
// when it names a guarantee in a paragraph that names a fault.
func checkSentence(section string, s sentence, caption, named bool) error {
	if section == "clients" {
		return nil
	}
	low := faultWords.ReplaceAllString(strings.ToLower(s.text), "\x00")
	low = sideEffects.ReplaceAllString(low, "\x00")
	loss, dup := saysOf(low, noLoss, lossWords), saysOf(low, noDup, dupWords)
	loss.some = loss.some || balanceShort.MatchString(low)
	dup.some = dup.some || balanceAbove.MatchString(low)
	held, violated := heldWords.MatchString(low), violatedWords.MatchString(low)
	if len(s.claims) == 0 {
		outcome := loss.some || loss.none || dup.some || dup.none || violated || strings.Contains(low, "보장 유지") || balanceWords.MatchString(low) || againWords.MatchString(low) || (caption && held)
		if outcome && (caption || named || faultContext.MatchString(low)) && !exhausted.MatchString(low) && !replication.MatchString(low) {
			return fmt.Errorf("section %s: %q states what a run shows without binding it to the claim table: add {{outcome guarantee preset fault}} (or {{outcome}} for the ::run above)", section, s.text)
		}
		return nil
	}
	// With several rows bound, each thing said must hold for one of them:
	// "at-least-once duplicates it, exactly-once does not".
	agrees := func(class string, sd said, count func(lessons.Claim) lessons.Count) error {
		for _, want := range []struct {
			on    bool
			count lessons.Count
			word  string
		}{{sd.some, lessons.Some, "some"}, {sd.none, lessons.None, "none"}} {
			if !want.on {
				continue
			}
			ok := false
			for _, c := range s.claims {
				if got := count(c); got == want.count || got == lessons.Any {
					ok = true
				}
			}
			if !ok {
				return fmt.Errorf("section %s: %q says %s %s, and the claim table says otherwise for %s", section, s.text, class, want.word, rows(s.claims))
			}
		}
		return nil
	}
	var errs []error
	errs = append(errs, agrees("lost", loss, func(c lessons.Claim) lessons.Count { return c.Lost }))
	errs = append(errs, agrees("duplicated", dup, func(c lessons.Claim) lessons.Count { return c.Duplicated }))
	verdict := func(v string) bool {
		for _, c := range s.claims {
			if string(c.Verdict) == v {
				return true
			}
		}
		return false
	}
	if held && !strings.Contains(low, "violated") && !verdict("held") {
		errs = append(errs, fmt.Errorf("section %s: %q says the verdict is held; the claim table says violated for %s", section, s.text, rows(s.claims)))
	}
	if violated && !verdict("violated") {
		errs = append(errs, fmt.Errorf("section %s: %q says the verdict is violated; the claim table says held for %s", section, s.text, rows(s.claims)))
	}
	return errors.Join(errs...)
}

func rows(cs []lessons.Claim) string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s/%s/%s", c.Guarantee, c.Preset, c.Fault))
	}
	return strings.Join(out, " and ")
}
