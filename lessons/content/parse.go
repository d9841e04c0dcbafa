package content

// Parsing: a lesson file's Markdown, with its ::run, ::sample, ::notes …
// ::end and ::compare directives, into a parsedLesson. Nothing here reads
// samples or renders anything but the prose (and the notes' Markdown).

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	gmtext "github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/text"
)

type key struct {
	id   string
	lang text.Lang
}

func (k key) String() string { return k.id + "." + string(k.lang) + ".md" }

// parsedLesson is a lesson as parsed: its sections' blocks with the
// samples not yet read (Sample.Code empty), filled in by build.
type parsedLesson struct {
	id        string
	lang      text.Lang
	title     string
	summary   string
	sections  []parsedSection
	scenarios []Scenario
	samples   []SampleRef
	compares  []CompareRef
}

type parsedSection struct {
	id, title string
	blocks    []Block
	outcomes  []lessons.Claim // the claim rows its {{outcome}}s bind
}

var markdown = goldmark.New(
	goldmark.WithParserOptions(
		parser.WithAttribute(), // "## Title {#id}"
		parser.WithBlockParsers(util.Prioritized(directiveParser{}, 50)),
		parser.WithInlineParsers(util.Prioritized(outcomeParser{}, 50)),
	),
	goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(outcomeRenderer{}, 50))),
	// No html.WithUnsafe: raw HTML in the Markdown is dropped, and
	// javascript: links are not rendered as links.
)

// parseLesson parses one lesson file.
func parseLesson(id string, lang text.Lang, src []byte) (*parsedLesson, error) {
	doc := markdown.Parser().Parse(gmtext.NewReader(src))
	les := &parsedLesson{id: id, lang: lang}
	var sec *parsedSection
	var buf bytes.Buffer
	anchors := map[string]int{}
	flush := func() {
		if sec != nil && buf.Len() > 0 {
			sec.blocks = append(sec.blocks, Block{HTML: buf.String()})
			buf.Reset()
		}
	}
	// notes is the ::notes block being read, if one is open; its body
	// renders into notesBuf until ::end.
	var notes *directiveNode
	var notesBuf bytes.Buffer
	// lastRun is the section's last ::run so far: what {{outcome}} without
	// arguments binds.
	var lastRun *Scenario
	// outcomeErrs are every sentence's binding errors: reported together,
	// so an author sees them all at once.
	var outcomeErrs []error
	unclosed := func(where string) error {
		return fmt.Errorf("section %s: %q is not closed %s: end it with a line \"::end\"", sec.id, notes.line, where)
	}
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		prev, isDirective := n.PreviousSibling().(*directiveNode)
		caption := isDirective && prev.name == "run"
		if err := checkBlock(n); err != nil {
			return nil, err
		}
		switch {
		case les.title == "":
			h, ok := n.(*ast.Heading)
			if !ok || h.Level != 1 {
				return nil, errors.New("a lesson starts with its title: a line \"# Title\"")
			}
			if _, ok := h.AttributeString("id"); ok {
				return nil, errors.New("the title takes no {#id}; sections do")
			}
			les.title = plainText(h, src)
			if les.title == "" {
				return nil, errors.New("the title is empty")
			}
		case les.summary == "" && sec == nil:
			if _, ok := n.(*ast.Paragraph); !ok {
				return nil, errors.New("the title is followed by a one-paragraph summary")
			}
			if _, err := bindOutcomes(n, src, lang, id, "summary", nil, false); err != nil {
				return nil, err
			}
			les.summary = plainText(n, src)
		default:
			if h, ok := n.(*ast.Heading); ok && h.Level <= 2 {
				title := plainText(h, src)
				if notes != nil {
					return nil, unclosed(fmt.Sprintf("before the heading %q", title))
				}
				if h.Level == 1 {
					return nil, fmt.Errorf("a second title %q: sections are \"## Title {#id}\"", title)
				}
				flush()
				sid, ok := h.AttributeString("id")
				sidStr, isBytes := sid.([]byte)
				if !ok || !isBytes || !validID(string(sidStr)) {
					return nil, fmt.Errorf("section %q needs an id of lowercase letters, digits and dashes: \"## %s {#id}\"", title, title)
				}
				if slices.ContainsFunc(les.sections, func(s parsedSection) bool { return s.id == string(sidStr) }) {
					return nil, fmt.Errorf("two sections have the id %q", string(sidStr))
				}
				les.sections = append(les.sections, parsedSection{id: string(sidStr), title: title})
				sec = &les.sections[len(les.sections)-1]
				lastRun = nil
				if err := markdown.Renderer().Render(&buf, src, h); err != nil {
					return nil, err
				}
				continue
			}
			if sec == nil {
				return nil, errors.New("only one paragraph, the summary, may stand between the title and the first section")
			}
			d, ok := n.(*directiveNode)
			if !ok {
				bound, err := bindOutcomes(n, src, lang, id, sec.id, lastRun, caption)
				if err != nil {
					outcomeErrs = append(outcomeErrs, err)
				}
				sec.outcomes = append(sec.outcomes, bound...)
				out := &buf
				if notes != nil {
					out = &notesBuf
				}
				if err := markdown.Renderer().Render(out, src, n); err != nil {
					return nil, err
				}
				continue
			}
			inDirective := func(err error) error {
				return fmt.Errorf("section %s: %q: %w", sec.id, d.line, err)
			}
			if notes != nil && d.name != "end" {
				if d.name == "notes" {
					return nil, inDirective(fmt.Errorf("notes do not nest: close %q with \"::end\" first", notes.line))
				}
				return nil, inDirective(fmt.Errorf("a directive inside %q: notes hold Markdown only; put it after \"::end\"", notes.line))
			}
			switch d.name {
			case "notes":
				if d.args == "" {
					return nil, inDirective(errors.New("::notes needs a summary, the text the closed note shows: \"::notes What each setting does\""))
				}
				flush()
				notes = d
			case "end":
				if notes == nil {
					return nil, inDirective(errors.New("::end without a ::notes to close"))
				}
				if d.args != "" {
					return nil, inDirective(errors.New("::end takes nothing after it"))
				}
				if strings.TrimSpace(notesBuf.String()) == "" {
					return nil, inDirective(fmt.Errorf("%q is empty: put Markdown between it and \"::end\"", notes.line))
				}
				sec.blocks = append(sec.blocks, Block{Notes: &Notes{Summary: notes.args, HTML: notesBuf.String()}})
				notes = nil
				notesBuf.Reset()
			case "compare":
				ref, err := parseCompare(d.args)
				if err != nil {
					return nil, inDirective(err)
				}
				ref.Section = sec.id
				les.compares = append(les.compares, ref)
				flush()
				sec.blocks = append(sec.blocks, Block{Compare: &Compare{CompareRef: ref}})
			case "run":
				sc, err := parseRun(d.args)
				if err != nil {
					return nil, inDirective(err)
				}
				sc.Section = sec.id
				les.scenarios = append(les.scenarios, sc)
				lastRun = &sc
				flush()
				sec.blocks = append(sec.blocks, Block{Scenario: &sc})
			case "sample":
				ref, err := parseSample(d.args)
				if err != nil {
					return nil, inDirective(err)
				}
				ref.Section = sec.id
				les.samples = append(les.samples, ref)
				flush()
				anchor := "sample-" + slug(ref.Path)
				anchors[anchor]++
				if anchors[anchor] > 1 {
					anchor += "-" + strconv.Itoa(anchors[anchor])
				}
				sec.blocks = append(sec.blocks, Block{Sample: &Sample{SampleRef: ref, Anchor: anchor}})
			default:
				return nil, fmt.Errorf("section %s: unknown directive %q: use ::run, ::sample, ::notes … ::end or ::compare", sec.id, "::"+d.name)
			}
		}
	}
	if notes != nil {
		return nil, unclosed("at the end of the file")
	}
	if len(outcomeErrs) > 0 {
		return nil, errors.Join(outcomeErrs...)
	}
	flush()
	switch {
	case les.title == "":
		return nil, errors.New("the file is empty: a lesson starts with \"# Title\"")
	case les.summary == "":
		return nil, errors.New("the title is followed by a one-paragraph summary")
	}
	return les, nil
}

// checkBlock refuses a directive anywhere below the top level, where it
// would be taken for text (inside a list item, a block quote), and any
// {attribute} but a heading's id: the attribute syntax would otherwise let a
// file put style="…" or on…="…" on a page.
func checkBlock(top ast.Node) error {
	var err error
	_ = ast.Walk(top, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		if d, ok := n.(*directiveNode); ok && n != top {
			err = fmt.Errorf("%q is nested in a list or quote: directives stand on their own line at the top level", d.line)
			return ast.WalkStop, nil
		}
		_, heading := n.(*ast.Heading)
		for _, a := range n.Attributes() {
			if !heading || string(a.Name) != "id" {
				err = fmt.Errorf("only a heading may carry an attribute, and only {#id}, not %q", a.Name)
				return ast.WalkStop, nil
			}
		}
		return ast.WalkContinue, nil
	})
	return err
}

func validID(s string) bool {
	if s == "" || s[0] == '-' {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// plainText is the text of n's inline content, markup removed.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := c.(type) {
		case *ast.Text:
			b.Write(t.Segment.Value(src))
			if t.SoftLineBreak() || t.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(t.Value)
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(b.String())
}

func slug(p string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(p) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(b.String(), "-")
}

// ---- directives -----------------------------------------------------------

var kindDirective = ast.NewNodeKind("Directive")

// directiveNode is a "::name args" line.
type directiveNode struct {
	ast.BaseBlock
	line string
	name string
	args string
}

func (n *directiveNode) Kind() ast.NodeKind { return kindDirective }

func (n *directiveNode) Dump(src []byte, level int) {
	ast.DumpHelper(n, src, level, map[string]string{"line": n.line}, nil)
}

// directiveParser recognizes a line that starts with "::" and a name.
type directiveParser struct{}

func (directiveParser) Trigger() []byte { return []byte{':'} }

func (directiveParser) Open(_ ast.Node, reader gmtext.Reader, _ parser.Context) (ast.Node, parser.State) {
	line, seg := reader.PeekLine()
	s := strings.TrimRight(string(line), "\r\n")
	rest, ok := strings.CutPrefix(s, "::")
	if !ok || rest == "" || rest[0] < 'a' || rest[0] > 'z' {
		return nil, parser.NoChildren
	}
	name, args, _ := strings.Cut(rest, " ")
	reader.Advance(seg.Len() - 1)
	return &directiveNode{line: strings.TrimSpace(s), name: name, args: strings.TrimSpace(args)}, parser.NoChildren
}

func (directiveParser) Continue(ast.Node, gmtext.Reader, parser.Context) parser.State {
	return parser.Close
}

func (directiveParser) Close(ast.Node, gmtext.Reader, parser.Context) {}

// CanInterruptParagraph lets "::run" right under a paragraph line still be a
// directive, not that paragraph's last line.
func (directiveParser) CanInterruptParagraph() bool { return true }

func (directiveParser) CanAcceptIndentedLine() bool { return false }

// parseArgs splits `key=value key="quoted value"` pairs. In quotes, \" and
// \\ stand for " and \.
func parseArgs(s string) (map[string]string, error) {
	args := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return args, nil
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("expected key=value at %q", s)
		}
		k := s[:eq]
		if strings.ContainsAny(k, " \t\"") {
			return nil, fmt.Errorf("expected key=value at %q", s)
		}
		s = s[eq+1:]
		var v string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i, closed := 1, false
			for ; i < len(s); i++ {
				c := s[i]
				if c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					b.WriteByte(s[i+1])
					i++
					continue
				}
				if c == '"' {
					closed = true
					break
				}
				b.WriteByte(c)
			}
			if !closed {
				return nil, fmt.Errorf("%s: the quote is not closed", k)
			}
			v, s = b.String(), s[i+1:]
			if s != "" && s[0] != ' ' && s[0] != '\t' {
				return nil, fmt.Errorf("%s: expected a space after the closing quote", k)
			}
		} else {
			end := strings.IndexAny(s, " \t")
			if end < 0 {
				end = len(s)
			}
			v, s = s[:end], s[end:]
			if strings.Contains(v, `"`) {
				return nil, fmt.Errorf("%s: a quote inside an unquoted value", k)
			}
		}
		if _, dup := args[k]; dup {
			return nil, fmt.Errorf("%s is given twice", k)
		}
		args[k] = v
	}
}

// parseRun reads a ::run's arguments. preset, messages and pace default as
// in POST /api/runs (strict, lessons.DefaultMessages, 0); guarantee, fault
// and label are required.
func parseRun(s string) (Scenario, error) {
	args, err := parseArgs(s)
	if err != nil {
		return Scenario{}, err
	}
	var p lessons.RunParams
	var label, expect string
	number := func(k, v string) (*int, error) {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("%s=%q is not a whole number", k, v)
		}
		return &n, nil
	}
	for k, v := range args {
		switch k {
		case "guarantee":
			p.Guarantee = lessons.GuaranteeID(v)
		case "preset":
			p.Preset = lessons.PresetID(v)
		case "fault":
			p.Fault = lessons.FaultID(v)
		case "messages":
			p.Messages, err = number(k, v)
		case "pace":
			p.PaceMs, err = number(k, v)
		case "notify":
			p.Notify = lessons.NotifyID(v)
		case "partitions":
			p.Partitions, err = number(k, v)
		case "processors":
			p.Processors, err = number(k, v)
		case "label":
			label = strings.TrimSpace(v)
		case "expect":
			expect = v
		default:
			return Scenario{}, fmt.Errorf("unknown argument %q: use guarantee, preset, fault, messages, pace, notify, partitions, processors, label, expect", k)
		}
		if err != nil {
			return Scenario{}, err
		}
	}
	// The same check as POST /api/runs: a lesson offers only runs the API
	// accepts.
	if err := p.Validate(); err != nil {
		return Scenario{}, err
	}
	if label == "" {
		return Scenario{}, errors.New(`a run needs a label="…" for its button`)
	}
	// A lesson's run shows its claim-table row, which holds for the shape
	// the table is measured with.
	if parts, procs := lessons.ClaimShape(p.Fault); *p.Partitions != parts || *p.Processors != procs {
		return Scenario{}, fmt.Errorf("partitions=%d processors=%d: the claim table is measured with partitions=%d processors=%d under fault %s, and a lesson's run shows its row",
			*p.Partitions, *p.Processors, parts, procs, p.Fault)
	}
	claim, _ := lessons.LookupClaim(p.Guarantee, p.Preset, p.Fault) // Validate checked all three
	claim = claim.WithNotify(p.Notify)
	if err := checkExpect(expect, claim); err != nil {
		return Scenario{}, err
	}
	return Scenario{Guarantee: p.Guarantee, Preset: p.Preset, Fault: p.Fault, Messages: *p.Messages, PaceMs: *p.PaceMs,
		Notify: p.Notify, Partitions: *p.Partitions, Processors: *p.Processors, Label: label, Expect: claim}, nil
}

// checkExpect checks a ::run's expect="lost=some duplicated=none" against
// the claim table: a lesson may state its run's outcome next to the run,
// and then it must be the table's.
func checkExpect(expect string, c lessons.Claim) error {
	for _, kv := range strings.Fields(expect) {
		k, v, _ := strings.Cut(kv, "=")
		var want lessons.Count
		switch k {
		case "lost":
			want = c.Lost
		case "duplicated":
			want = c.Duplicated
		case "recovered":
			want = c.Recovered
		case "side_effects_duplicated":
			want = c.SideEffectsDuplicated
		case "verdict":
			if v != string(c.Verdict) {
				return fmt.Errorf("expect says verdict=%s; the claim table says %s for %s/%s/%s", v, c.Verdict, c.Guarantee, c.Preset, c.Fault)
			}
			continue
		default:
			return fmt.Errorf("expect: unknown %q: use lost=, duplicated=, recovered=, side_effects_duplicated= (none, some, any) and verdict= (held, violated)", kv)
		}
		if v != string(want) {
			return fmt.Errorf("expect says %s=%s; the claim table says %s for %s/%s/%s", k, v, want, c.Guarantee, c.Preset, c.Fault)
		}
	}
	return nil
}

// parseCompare reads a ::compare's arguments: two sample paths, the
// commonly copied code first, then the corrected sample, in one language.
func parseCompare(s string) (CompareRef, error) {
	paths := strings.Fields(s)
	if len(paths) != 2 {
		return CompareRef{}, errors.New("::compare takes two sample paths: the common code, then the corrected sample")
	}
	old, err := parseSample(paths[0])
	if err != nil {
		return CompareRef{}, err
	}
	corrected, err := parseSample(paths[1])
	if err != nil {
		return CompareRef{}, err
	}
	if old.Path == corrected.Path {
		return CompareRef{}, fmt.Errorf("::compare of %s with itself", old.Path)
	}
	if old.Language != corrected.Language {
		return CompareRef{}, fmt.Errorf("::compare of %s (%s) with %s (%s): compare samples in one language", old.Path, old.Language, corrected.Path, corrected.Language)
	}
	return CompareRef{Old: old.Path, New: corrected.Path, Language: old.Language}, nil
}

// parseSample reads a ::sample's argument: a clean path under
// lessons/samples ending in .go or .py.
func parseSample(s string) (SampleRef, error) {
	p := strings.TrimSpace(s)
	if p == "" || strings.ContainsAny(p, " \t") {
		return SampleRef{}, errors.New("::sample takes one path, relative to lessons/samples")
	}
	for _, r := range p {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && !strings.ContainsRune("._/-", r) {
			return SampleRef{}, fmt.Errorf("sample path %q: use letters, digits and . _ / - only", p)
		}
	}
	if path.IsAbs(p) || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") {
		return SampleRef{}, fmt.Errorf("sample path %q must be a clean path inside lessons/samples", p)
	}
	switch path.Ext(p) {
	case ".go":
		return SampleRef{Path: p, Language: "go"}, nil
	case ".py":
		return SampleRef{Path: p, Language: "python"}, nil
	}
	return SampleRef{}, fmt.Errorf("sample path %q: only .go and .py samples can be shown", p)
}
