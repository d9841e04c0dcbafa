// Package content holds the lessons' prose, in Korean and English, as
// Markdown files next to this one (<id>.<lang>.md), and renders them to
// HTML for the pages.
//
// A lesson file is a "# Title", a one-paragraph summary, then "## Title {#id}"
// sections. Two directives, each on a line of its own at the top level of a
// section, connect the prose to the lab:
//
//	::run guarantee=at-least-once preset=strict fault=produce-ack-lost messages=20 pace=150 label="Lose an ack"
//	::sample at-least-once/producer.py
//
// ::run becomes a button that starts that scenario; ::sample embeds a file
// of lessons/samples, highlighted. The files are parsed and checked once, at
// init: a malformed file (an unknown fault, a section without an id, raw
// attributes) makes Load fail for that lesson, and the content test reports
// it along with what a lesson must contain (its sections, its runs, its
// samples, the same in both languages).
//
// Samples are rendered when the app hands over their source (SetSamples),
// so that this package needs no file system and does not import the
// samples package: until then a sample renders as a figure that says it is
// not available. Lessons are shared between callers, so treat them as
// read-only; SetSamples publishes new ones rather than changing them.
package content

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/alecthomas/chroma/v2"
	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/alecthomas/chroma/v2/styles"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	gmtext "github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/text"
)

//go:embed *.md
var files embed.FS

// RequiredSections are the section ids every guarantee lesson has, in this
// order.
var RequiredSections = []string{"idea", "producer", "consumer", "try", "pros", "cons", "fits", "mistakes", "clients"}

// Lesson is one page's prose in one language.
type Lesson struct {
	ID        string // "at-most-once", "at-least-once", "exactly-once", "home", "compare"
	Lang      text.Lang
	Title     string // plain text
	Summary   string // plain text: the paragraph under the title
	Sections  []Section
	Scenarios []Scenario  // every ::run, in order
	Samples   []SampleRef // every ::sample, in order
}

// Section is one "## Title {#id}" of a lesson. HTML is the whole section,
// its <h2 id="…"> heading included, ready to be placed in a page as is.
type Section struct {
	ID    string
	Title string // plain text
	HTML  string
}

// Scenario is a run a lesson offers: the parameters of POST /api/runs.
type Scenario struct {
	Guarantee lessons.GuaranteeID
	Preset    lessons.PresetID
	Fault     lessons.FaultID
	Messages  int
	PaceMs    int
	Label     string // in the lesson's language
	Section   string // the id of the section it is in
}

// SampleRef is a code sample a lesson shows.
type SampleRef struct {
	Path     string // relative to lessons/samples
	Language string // "go" or "python"
	Section  string // the id of the section it is in
}

// Section returns the section with the given id.
func (l *Lesson) Section(id string) (Section, bool) {
	i := slices.IndexFunc(l.Sections, func(s Section) bool { return s.ID == id })
	if i < 0 {
		return Section{}, false
	}
	return l.Sections[i], true
}

// SampleSource returns the text of a sample, by its path relative to
// lessons/samples.
type SampleSource func(path string) (string, error)

// Load returns lesson id in language l. It is cheap: lessons are rendered
// once, and again only when SetSamples is called.
func Load(id string, l text.Lang) (*Lesson, error) {
	c := current.Load()
	k := key{id, l}
	if err, ok := c.errs[k]; ok {
		return nil, err
	}
	if les, ok := c.lessons[k]; ok {
		return les, nil
	}
	return nil, fmt.Errorf("content: there is no lesson %q in language %q", id, l)
}

// IDs lists the ids of the lessons present in any language, sorted.
func IDs() []string {
	seen := map[string]bool{}
	for k := range parsedAll.lessons {
		seen[k.id] = true
	}
	for k := range parsedAll.errs {
		seen[k.id] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

// SetSamples sets where sample code comes from and renders every lesson's
// samples with it. Lessons loaded before keep their old rendering.
func SetSamples(src SampleSource) {
	setMu.Lock()
	defer setMu.Unlock()
	current.Store(publish(parsedAll, src))
}

// HighlightStyle is the chroma style of the samples: light, and made for
// high contrast (its colours meet WCAG AAA against its background).
const HighlightStyle = "modus-operandi"

// HighlightCSS returns the stylesheet for the highlighted samples: rules
// scoped to the .chroma class that every sample's <pre> carries. Samples
// carry CSS classes only, never style attributes, so that the site's
// Content-Security-Policy can forbid inline styles.
func HighlightCSS() string {
	var b strings.Builder
	if err := formatter.WriteCSS(&b, highlightStyle()); err != nil {
		// WriteCSS fails only when the writer does, and a Builder never does.
		panic(err)
	}
	// chroma's Background rule targets a bare .bg class, meant for a
	// standalone page; on the site it would style any element of that
	// class. The .chroma rule carries the same colours.
	var out strings.Builder
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		if !strings.HasPrefix(line, "/* Background */") {
			out.WriteString(line)
		}
	}
	return out.String()
}

// ---- parsing --------------------------------------------------------------

type key struct {
	id   string
	lang text.Lang
}

func (k key) String() string { return k.id + "." + string(k.lang) + ".md" }

// parsedLesson is a lesson as parsed: its sections as static HTML with the
// samples left as holes, filled in by publish.
type parsedLesson struct {
	id        string
	lang      text.Lang
	title     string
	summary   string
	sections  []parsedSection
	scenarios []Scenario
	samples   []SampleRef
}

type parsedSection struct {
	id, title string
	parts     []part
}

// part is a stretch of static HTML or, when anchor is set, one sample.
type part struct {
	html   string
	sample SampleRef
	anchor string // the id of the sample's <pre>, unique in its lesson
}

type parsedSet struct {
	lessons map[key]*parsedLesson
	errs    map[key]error
	global  []error
}

type catalog struct {
	lessons map[key]*Lesson
	errs    map[key]error
	src     SampleSource
}

var (
	parsedAll parsedSet
	current   atomic.Pointer[catalog]
	setMu     sync.Mutex
)

func init() {
	parsedAll = parseAll(files)
	current.Store(publish(parsedAll, nil))
}

func parseAll(fsys fs.FS) parsedSet {
	set := parsedSet{lessons: map[key]*parsedLesson{}, errs: map[key]error{}}
	names, err := fs.Glob(fsys, "*.md")
	if err != nil {
		set.global = append(set.global, err)
		return set
	}
	for _, name := range names {
		base := strings.TrimSuffix(name, ".md")
		dot := strings.LastIndexByte(base, '.')
		if dot < 0 {
			set.global = append(set.global, fmt.Errorf("content: %s: name it <lesson>.<lang>.md", name))
			continue
		}
		lang, ok := text.Parse(base[dot+1:])
		if !ok || string(lang) != base[dot+1:] {
			set.global = append(set.global, fmt.Errorf("content: %s: %q is not a supported language", name, base[dot+1:]))
			continue
		}
		k := key{base[:dot], lang}
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			set.errs[k] = fmt.Errorf("content: %s: %w", name, err)
			continue
		}
		les, err := parseLesson(k.id, lang, src)
		if err != nil {
			set.errs[k] = fmt.Errorf("content: %s: %w", name, err)
			continue
		}
		set.lessons[k] = les
	}
	return set
}

var markdown = goldmark.New(
	goldmark.WithParserOptions(
		parser.WithAttribute(), // "## Title {#id}"
		parser.WithBlockParsers(util.Prioritized(directiveParser{}, 50)),
	),
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
			sec.parts = append(sec.parts, part{html: buf.String()})
			buf.Reset()
		}
	}
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
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
			les.summary = plainText(n, src)
		default:
			if h, ok := n.(*ast.Heading); ok && h.Level <= 2 {
				title := plainText(h, src)
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
				if err := markdown.Renderer().Render(&buf, src, n); err != nil {
					return nil, err
				}
				continue
			}
			inDirective := func(err error) error {
				return fmt.Errorf("section %s: %q: %w", sec.id, d.line, err)
			}
			switch d.name {
			case "run":
				sc, err := parseRun(d.args)
				if err != nil {
					return nil, inDirective(err)
				}
				sc.Section = sec.id
				les.scenarios = append(les.scenarios, sc)
				buf.WriteString(runButton(sc))
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
				sec.parts = append(sec.parts, part{sample: ref, anchor: anchor})
			default:
				return nil, fmt.Errorf("section %s: unknown directive %q: use ::run or ::sample", sec.id, "::"+d.name)
			}
		}
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
	sc := Scenario{Preset: lessons.Strict, Messages: lessons.DefaultMessages}
	for k, v := range args {
		switch k {
		case "guarantee":
			sc.Guarantee = lessons.GuaranteeID(v)
		case "preset":
			sc.Preset = lessons.PresetID(v)
		case "fault":
			sc.Fault = lessons.FaultID(v)
		case "messages":
			if sc.Messages, err = strconv.Atoi(v); err != nil {
				return Scenario{}, fmt.Errorf("messages=%q is not a number", v)
			}
		case "pace":
			if sc.PaceMs, err = strconv.Atoi(v); err != nil {
				return Scenario{}, fmt.Errorf("pace=%q is not a number of milliseconds", v)
			}
		case "label":
			sc.Label = strings.TrimSpace(v)
		default:
			return Scenario{}, fmt.Errorf("unknown argument %q: use guarantee, preset, fault, messages, pace, label", k)
		}
	}
	g, ok := lessons.LookupGuarantee(sc.Guarantee)
	switch {
	case !ok:
		return Scenario{}, fmt.Errorf("unknown guarantee %q", sc.Guarantee)
	case !g.HasPreset(sc.Preset):
		return Scenario{}, fmt.Errorf("guarantee %s has no preset %q", sc.Guarantee, sc.Preset)
	}
	if _, ok := lessons.LookupFault(sc.Fault); !ok {
		return Scenario{}, fmt.Errorf("unknown fault %q", sc.Fault)
	}
	if sc.Messages < lessons.MinMessages || sc.Messages > lessons.MaxMessages {
		return Scenario{}, fmt.Errorf("messages=%d is outside %d..%d", sc.Messages, lessons.MinMessages, lessons.MaxMessages)
	}
	if sc.PaceMs < 0 || sc.PaceMs > lessons.MaxPaceMs {
		return Scenario{}, fmt.Errorf("pace=%d is outside 0..%d", sc.PaceMs, lessons.MaxPaceMs)
	}
	if sc.Label == "" {
		return Scenario{}, errors.New(`a run needs a label="…" for its button`)
	}
	return sc, nil
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

// ---- rendering --------------------------------------------------------------

func runButton(sc Scenario) string {
	a := html.EscapeString
	return fmt.Sprintf(`<button type="button" class="run-scenario" data-testid="scenario" data-guarantee="%s" data-preset="%s" data-fault="%s" data-messages="%d" data-pace="%d">%s</button>`+"\n",
		a(string(sc.Guarantee)), a(string(sc.Preset)), a(string(sc.Fault)), sc.Messages, sc.PaceMs, a(sc.Label))
}

// formatter highlights with CSS classes only: chroma's inline styles would
// need style attributes, which the site's CSP forbids.
var formatter = chromahtml.New(chromahtml.WithClasses(true), chromahtml.PreventSurroundingPre(true), chromahtml.TabWidth(4))

func highlightStyle() *chroma.Style {
	if s, ok := styles.Registry[HighlightStyle]; ok {
		return s
	}
	return styles.Fallback
}

// sampleFigure renders one sample; a sample that cannot be read or
// highlighted renders as a figure saying so, never as a broken page.
func sampleFigure(ref SampleRef, anchor string, lang text.Lang, src SampleSource) string {
	a := html.EscapeString
	shown := "lessons/samples/" + ref.Path
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="sample" data-testid="sample" data-sample="%s" data-language="%s">`, a(ref.Path), a(ref.Language))
	code, err := "", errors.New("no sample source has been set")
	if src != nil {
		code, err = src(ref.Path)
	}
	var hl string
	if err == nil {
		hl, err = highlight(code, ref.Language)
	}
	if err != nil {
		fmt.Fprintf(&b, `<figcaption><code>%s</code></figcaption><p class="sample-error">%s</p></figure>`+"\n",
			a(shown), a(fmt.Sprintf(lang.T("sample.unavailable"), err.Error())))
		return b.String()
	}
	fmt.Fprintf(&b, `<figcaption><code>%s</code> <button type="button" class="copy" data-copy-target="%s" aria-label="%s">%s</button></figcaption>`,
		a(shown), a(anchor), a(fmt.Sprintf(lang.T("sample.copy.aria"), shown)), a(lang.T("sample.copy")))
	fmt.Fprintf(&b, `<pre id="%s" class="chroma" tabindex="0"><code>%s</code></pre></figure>`+"\n", a(anchor), hl)
	return b.String()
}

// highlight returns code as HTML spans with chroma's classes.
func highlight(code, language string) (string, error) {
	lx := lexers.Get(language)
	if lx == nil {
		return "", fmt.Errorf("no highlighter for %s", language)
	}
	it, err := chroma.Coalesce(lx).Tokenise(nil, code)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := formatter.Format(&b, highlightStyle(), it); err != nil {
		return "", err
	}
	return b.String(), nil
}

// publish renders every parsed lesson with samples from src.
func publish(set parsedSet, src SampleSource) *catalog {
	c := &catalog{lessons: map[key]*Lesson{}, errs: set.errs, src: src}
	for k, p := range set.lessons {
		c.lessons[k] = render(p, src)
	}
	return c
}

func render(p *parsedLesson, src SampleSource) *Lesson {
	les := &Lesson{
		ID: p.id, Lang: p.lang, Title: p.title, Summary: p.summary,
		Scenarios: slices.Clone(p.scenarios),
		Samples:   slices.Clone(p.samples),
	}
	for _, s := range p.sections {
		var b strings.Builder
		for _, pt := range s.parts {
			if pt.anchor != "" {
				b.WriteString(sampleFigure(pt.sample, pt.anchor, p.lang, src))
			} else {
				b.WriteString(pt.html)
			}
		}
		les.Sections = append(les.Sections, Section{ID: s.id, Title: s.title, HTML: b.String()})
	}
	return les
}

func sortedKeys[V any](m map[key]V) []key {
	ks := make([]key, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].String() < ks[j].String() })
	return ks
}
