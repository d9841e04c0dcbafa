package content

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/text"
)

// samplesDir is lessons/samples, seen from this package's directory.
var samplesDir = filepath.Join("..", "samples")

func diskSamples(p string) (string, error) {
	b, err := os.ReadFile(filepath.Join(samplesDir, filepath.FromSlash(p)))
	return string(b), err
}

// appSet is the lesson set with samples read from disk, as the app has it.
func appSet(t *testing.T) *Set {
	t.Helper()
	set, err := New(diskSamples)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func guaranteeIDs() []string {
	var ids []string
	for _, g := range lessons.Guarantees() {
		ids = append(ids, string(g.ID))
	}
	return ids
}

func TestFilesParse(t *testing.T) {
	if err := appSet(t).Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestEveryLessonInEveryLanguage(t *testing.T) {
	set := appSet(t)
	for _, id := range append(guaranteeIDs(), "home", "compare") {
		for _, l := range text.Langs {
			les, err := set.Load(id, l)
			if err != nil {
				t.Errorf("%s.%s: %v", id, l, err)
				continue
			}
			if les.ID != id || les.Lang != l {
				t.Errorf("%s.%s: loaded as %s.%s", id, l, les.ID, les.Lang)
			}
			if les.Title == "" || les.Summary == "" {
				t.Errorf("%s.%s: empty title or summary", id, l)
			}
			if len(les.Sections) == 0 {
				t.Errorf("%s.%s: no sections", id, l)
			}
			for _, s := range les.Sections {
				if s.Title == "" || len(s.Blocks) == 0 {
					t.Errorf("%s.%s: section %s is empty", id, l, s.ID)
				}
			}
		}
	}
}

func TestGuaranteeLessonsHaveRequiredSectionsInOrder(t *testing.T) {
	set := appSet(t)
	for _, id := range guaranteeIDs() {
		for _, l := range text.Langs {
			les := mustLoad(t, set, id, l)
			var ids []string
			for _, s := range les.Sections {
				ids = append(ids, s.ID)
			}
			next := 0
			for _, sid := range ids {
				if next < len(RequiredSections) && sid == RequiredSections[next] {
					next++
				}
			}
			if next < len(RequiredSections) {
				t.Errorf("%s.%s: sections %v: want %v in this order (missing or out of order: %q)", id, l, ids, RequiredSections, RequiredSections[next])
			}
		}
	}
}

// TestRuns checks every ::run against the catalog the API validates with,
// and that each guarantee lesson lets the reader try every fault on its own
// guarantee and demonstrates each common mistake.
func TestRuns(t *testing.T) {
	set := appSet(t)
	for _, id := range set.IDs() {
		for _, l := range text.Langs {
			les, err := set.Load(id, l)
			if err != nil {
				continue // reported by TestEveryLessonInEveryLanguage
			}
			for _, sc := range les.Scenarios {
				p := lessons.RunParams{Guarantee: sc.Guarantee, Preset: sc.Preset, Fault: sc.Fault, Messages: &sc.Messages, PaceMs: &sc.PaceMs,
					Partitions: &sc.Partitions, Processors: &sc.Processors}
				if err := p.Validate(); err != nil {
					t.Errorf("%s.%s: a run the API would refuse: %v", id, l, err)
				}
				if sc.Label == "" {
					t.Errorf("%s.%s: a run without a label", id, l)
				}
			}
		}
	}
	for _, id := range guaranteeIDs() {
		for _, l := range text.Langs {
			les := mustLoad(t, set, id, l)
			if len(les.Scenarios) < 3 {
				t.Errorf("%s.%s: %d runs, want at least 3", id, l, len(les.Scenarios))
			}
			for _, f := range lessons.Faults() {
				if f.Needs != "" {
					continue // runs only in cluster mode: not a try-it-now run
				}
				if !slices.ContainsFunc(les.Scenarios, func(sc Scenario) bool {
					return string(sc.Guarantee) == id && sc.Preset == lessons.Strict && sc.Fault == f.ID && sc.Section == "try"
				}) {
					t.Errorf("%s.%s: the try section has no strict run of %s under fault %s", id, l, id, f.ID)
				}
			}
			if !slices.ContainsFunc(les.Scenarios, func(sc Scenario) bool { return sc.Section == "mistakes" }) {
				t.Errorf("%s.%s: the mistakes section demonstrates nothing: add a ::run", id, l)
			}
			if !slices.ContainsFunc(les.Scenarios, func(sc Scenario) bool {
				return string(sc.Guarantee) == id && sc.Preset == lessons.Common && sc.Section == "mistakes"
			}) {
				t.Errorf("%s.%s: the mistakes section never runs the common preset of %s", id, l, id)
			}
		}
	}
}

// TestSamplesExist fails until every sample a lesson names is a file in
// lessons/samples, and checks that each guarantee lesson shows its Go and
// Python producer and consumer where it explains them.
func TestSamplesExist(t *testing.T) {
	set := appSet(t)
	seen := map[string]bool{}
	for _, id := range set.IDs() {
		for _, l := range text.Langs {
			les, err := set.Load(id, l)
			if err != nil {
				continue
			}
			for _, s := range les.Samples {
				if seen[s.Path] {
					continue
				}
				seen[s.Path] = true
				if _, err := os.Stat(filepath.Join(samplesDir, filepath.FromSlash(s.Path))); err != nil {
					t.Errorf("%s.%s: sample %s: %v", id, l, s.Path, err)
				}
			}
		}
	}
	for _, id := range guaranteeIDs() {
		for _, l := range text.Langs {
			les := mustLoad(t, set, id, l)
			for _, want := range []SampleRef{
				{id + "/producer/main.go", "go", "producer"},
				{id + "/producer.py", "python", "producer"},
				{id + "/consumer/main.go", "go", "consumer"},
				{id + "/consumer.py", "python", "consumer"},
			} {
				if !slices.Contains(les.Samples, want) {
					t.Errorf("%s.%s: section %s does not show %s", id, l, want.Section, want.Path)
				}
			}
		}
	}
}

// TestMistakesShowTheSeed: each guarantee lesson's mistakes section shows
// the seed's producer and consumer snippets beside the corrected samples.
func TestMistakesShowTheSeed(t *testing.T) {
	set := appSet(t)
	for _, id := range guaranteeIDs() {
		seedProducer := "seed/" + id + "_producer.py"
		if id == "exactly-once" {
			seedProducer = "exactly-once/producer_seed.py" // runnable: its test expects its failure
		}
		for _, l := range text.Langs {
			les := mustLoad(t, set, id, l)
			for _, want := range []CompareRef{
				{seedProducer, id + "/producer.py", "python", "mistakes"},
				{"seed/" + id + "_consumer.py", id + "/consumer.py", "python", "mistakes"},
			} {
				if !slices.Contains(les.Compares, want) {
					t.Errorf("%s.%s: the mistakes section does not compare %s with %s", id, l, want.Old, want.New)
				}
			}
		}
	}
}

// TestTranslationsMatch keeps ko and en from drifting apart: the same
// sections, the same runs in the same order, the same samples.
func TestTranslationsMatch(t *testing.T) {
	set := appSet(t)
	for _, id := range set.IDs() {
		en, err1 := set.Load(id, text.English)
		ko, err2 := set.Load(id, text.Korean)
		if err1 != nil || err2 != nil {
			t.Errorf("%s: needs both languages: %v, %v", id, err1, err2)
			continue
		}
		sectionIDs := func(les *Lesson) (ids []string) {
			for _, s := range les.Sections {
				ids = append(ids, s.ID)
			}
			return ids
		}
		if a, b := sectionIDs(en), sectionIDs(ko); !slices.Equal(a, b) {
			t.Errorf("%s: sections differ: en %v, ko %v", id, a, b)
		}
		runs := func(les *Lesson) (out []Scenario) {
			for _, sc := range les.Scenarios {
				sc.Label = ""
				out = append(out, sc)
			}
			return out
		}
		if a, b := runs(en), runs(ko); !slices.Equal(a, b) {
			t.Errorf("%s: runs differ:\n en %+v\n ko %+v", id, a, b)
		}
		if !slices.Equal(en.Samples, ko.Samples) {
			t.Errorf("%s: samples differ:\n en %+v\n ko %+v", id, en.Samples, ko.Samples)
		}
		if !slices.Equal(en.Compares, ko.Compares) {
			t.Errorf("%s: comparisons differ:\n en %+v\n ko %+v", id, en.Compares, ko.Compares)
		}
	}
}

// checkSafe fails if the HTML has a style or on… attribute, a script or
// style element, or a javascript: link.
func checkSafe(t *testing.T, where, h string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(h))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		if tok.Data == "script" || tok.Data == "style" {
			t.Errorf("%s: a <%s> element", where, tok.Data)
		}
		for _, a := range tok.Attr {
			if a.Key == "style" || strings.HasPrefix(a.Key, "on") {
				t.Errorf("%s: <%s %s=%q>", where, tok.Data, a.Key, a.Val)
			}
			if (a.Key == "href" || a.Key == "src") && strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") {
				t.Errorf("%s: <%s %s=%q>", where, tok.Data, a.Key, a.Val)
			}
		}
	}
}

// TestRenderedLessons checks what the pages get: safe prose that starts
// with the section's heading, a block per run and per sample, and every
// sample read and highlighted under an anchor of its own. (The views test
// checks how runs and samples are drawn.)
func TestRenderedLessons(t *testing.T) {
	set := appSet(t)
	if err := set.CheckSamples(); err != nil {
		t.Error(err)
	}
	for _, id := range set.IDs() {
		for _, l := range text.Langs {
			les, err := set.Load(id, l)
			if err != nil {
				continue
			}
			where := id + "." + string(l)
			var runs []Scenario
			var samples []SampleRef
			var compares []CompareRef
			anchors := map[string]bool{}
			for _, s := range les.Sections {
				if len(s.Blocks) == 0 || !strings.HasPrefix(s.Blocks[0].HTML, `<h2 id="`+s.ID+`">`) {
					t.Errorf("%s: section %s does not start with its heading", where, s.ID)
				}
				for _, b := range s.Blocks {
					switch {
					case b.Scenario != nil:
						runs = append(runs, *b.Scenario)
					case b.Sample != nil:
						samples = append(samples, b.Sample.SampleRef)
						checkSample(t, where, *b.Sample)
						if anchors[b.Sample.Anchor] {
							t.Errorf("%s: two samples with the id %q", where, b.Sample.Anchor)
						}
						anchors[b.Sample.Anchor] = true
					case b.Notes != nil:
						if b.Notes.Summary == "" || strings.TrimSpace(b.Notes.HTML) == "" {
							t.Errorf("%s: section %s: notes without a summary or a body: %+v", where, s.ID, *b.Notes)
						}
						checkSafe(t, where+"#"+s.ID+" notes", b.Notes.HTML)
					case b.Compare != nil:
						compares = append(compares, b.Compare.CompareRef)
						checkCompare(t, where, *b.Compare)
					default:
						checkSafe(t, where+"#"+s.ID, b.HTML)
					}
				}
			}
			if !slices.Equal(runs, les.Scenarios) {
				t.Errorf("%s: run blocks %+v for runs %+v", where, runs, les.Scenarios)
			}
			if !slices.Equal(samples, les.Samples) {
				t.Errorf("%s: sample blocks %+v for samples %+v", where, samples, les.Samples)
			}
			if !slices.Equal(compares, les.Compares) {
				t.Errorf("%s: compare blocks %+v for comparisons %+v", where, compares, les.Compares)
			}
		}
	}
}

// checkSample fails unless s was read, highlighted, and shows the file as
// it is.
func checkSample(t *testing.T, where string, s Sample) {
	t.Helper()
	if s.Err != "" {
		t.Errorf("%s: sample %s: %s", where, s.Path, s.Err)
		return
	}
	if s.Anchor == "" {
		t.Errorf("%s: sample %s has no anchor", where, s.Path)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader("<pre><code>" + s.Code + "</code></pre>"))
	if err != nil {
		t.Fatal(err)
	}
	checkSafe(t, where+" sample "+s.Path, s.Code)
	if doc.Find("code span[class]").Length() == 0 {
		t.Errorf("%s: sample %s is not highlighted", where, s.Path)
	}
	if src, err := diskSamples(s.Path); err == nil && doc.Find("pre").Text() != src {
		t.Errorf("%s: sample %s: the page does not show the file as it is", where, s.Path)
	}
}

// checkCompare fails unless both files of c were read and highlighted, line
// by line, as they are, and differ somewhere.
func checkCompare(t *testing.T, where string, c Compare) {
	t.Helper()
	if c.Err != "" {
		t.Errorf("%s: compare %s %s: %s", where, c.Old, c.New, c.Err)
		return
	}
	changed := 0
	for _, side := range []struct {
		path  string
		lines []DiffLine
	}{{c.Old, c.OldLines}, {c.New, c.NewLines}} {
		// Every line is shown as it is, but for runs of unchanged lines
		// folded into one (Fold), which must count them right.
		src, err := diskSamples(side.path)
		if err != nil {
			continue
		}
		want := strings.Split(strings.TrimSuffix(src, "\n"), "\n")
		at := 0
		for _, l := range side.lines {
			if l.Op == Fold {
				at += l.Folded
				continue
			}
			checkSafe(t, where+" compare "+side.path, l.Code)
			doc, err := goquery.NewDocumentFromReader(strings.NewReader("<pre><code>" + l.Code + "</code></pre>"))
			if err != nil {
				t.Fatal(err)
			}
			if at >= len(want) || doc.Find("pre").Text() != want[at] {
				t.Errorf("%s: compare: line %d of %s is not shown as it is: %q", where, at+1, side.path, doc.Find("pre").Text())
				break
			}
			at++
			if l.Op != Same {
				changed++
			}
		}
		if at != len(want) {
			t.Errorf("%s: compare: %s shows or folds %d of its %d lines", where, side.path, at, len(want))
		}
	}
	if changed == 0 {
		t.Errorf("%s: compare %s %s: no line differs", where, c.Old, c.New)
	}
}

func TestSamplesWithoutSource(t *testing.T) {
	set, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if set.CheckSamples() == nil {
		t.Error("CheckSamples without a sample source: no error")
	}
	s, _ := mustLoad(t, set, "exactly-once", text.English).Section("producer")
	i := slices.IndexFunc(s.Blocks, func(b Block) bool { return b.Sample != nil })
	if i < 0 || s.Blocks[i].Sample.Err == "" || s.Blocks[i].Sample.Code != "" {
		t.Errorf("without a sample source, a sample should say it is not available: %+v", s.Blocks)
	}
}

func TestHighlightCSS(t *testing.T) {
	// Only the classes the stylesheet styles get a span: no bytes spent on
	// spans for whitespace and plain names.
	code, err := highlight("package main\n\nfunc main() { x := 1 }\n", "go")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader("<pre>" + code + "</pre>"))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Find("pre").Text() != "package main\n\nfunc main() { x := 1 }\n" || !strings.Contains(code, `<span class="kn">package</span>`) {
		t.Errorf("highlighted %q", code)
	}
	doc.Find("span").Each(func(_ int, s *goquery.Selection) {
		if cls := s.AttrOr("class", ""); !strings.Contains(HighlightCSS(), ".chroma ."+cls+" ") {
			t.Errorf("a span of class %q, which the stylesheet does not style", cls)
		}
	})
	css := HighlightCSS()
	if !strings.Contains(css, ".chroma .k ") {
		t.Errorf("HighlightCSS has no .chroma rules:\n%s", css)
	}
	for _, line := range strings.Split(strings.TrimSpace(css), "\n") {
		if !strings.Contains(line, ".chroma") {
			t.Errorf("a rule not scoped to .chroma: %s", line)
		}
	}
}

func TestLoadUnknown(t *testing.T) {
	set := appSet(t)
	if _, err := set.Load("no-such-lesson", text.English); err == nil {
		t.Error("Load of an unknown lesson: no error")
	}
}

// mustLoad loads a lesson the test knows exists.
func mustLoad(t *testing.T, set *Set, id string, l text.Lang) *Lesson {
	t.Helper()
	les, err := set.Load(id, l)
	if err != nil {
		t.Fatal(err)
	}
	return les
}

// TestEscaping parses constructed Markdown through the same functions as
// the lesson files: raw HTML is dropped from the prose, a run's label is
// kept as text for the views to escape, and a sample's code is escaped by
// the highlighter.
func TestEscaping(t *testing.T) {
	const label = `<script>alert("x")</script> & 'q'`
	src := "# Title <b>x</b>\n\nSummary with <span style=\"color:red\">raw</span> HTML.\n\n" +
		"## Section {#sec}\n\n" +
		"<div style=\"color:red\" onclick=\"x()\">raw block</div>\n\n" +
		"<script>alert(1)</script>\n\n" +
		"A [link](javascript:alert(1)) and <img src=x onerror=alert(1)>.\n\n" +
		`::run guarantee=at-most-once preset=strict fault=none messages=5 pace=0 label="<script>alert(\"x\")</script> & 'q'"` + "\n" +
		"::sample a/b.py\n"
	p, err := parseLesson("t", text.English, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	const code = "print(\"<script>\", '<b onclick=x>')\n"
	les := build(p, func(string) (string, error) { return code, nil }, newHighlighter())
	var prose strings.Builder
	var runs []Scenario
	var samples []Sample
	for _, b := range les.Sections[0].Blocks {
		switch {
		case b.Scenario != nil:
			runs = append(runs, *b.Scenario)
		case b.Sample != nil:
			samples = append(samples, *b.Sample)
		default:
			prose.WriteString(b.HTML)
		}
	}
	h := prose.String()
	checkSafe(t, "constructed", h)
	if strings.Contains(strings.ToLower(h), "<script") {
		t.Errorf("unescaped <script in:\n%s", h)
	}
	claim, _ := lessons.LookupClaim(lessons.AtMostOnce, lessons.Strict, lessons.NoFault)
	want := Scenario{Guarantee: lessons.AtMostOnce, Preset: lessons.Strict, Fault: lessons.NoFault, Messages: 5, PaceMs: 0, Notify: lessons.NotifyPlain, Partitions: 1, Processors: 1, Label: label, Section: "sec", Expect: claim}
	if len(runs) != 1 || runs[0] != want {
		t.Errorf("runs %+v, want %+v", runs, want)
	}
	if len(samples) != 1 {
		t.Fatalf("%d samples, want 1", len(samples))
	}
	if strings.Contains(strings.ToLower(samples[0].Code), "<script") || strings.Contains(samples[0].Code, "<b ") {
		t.Errorf("sample code not escaped:\n%s", samples[0].Code)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader("<pre>" + samples[0].Code + "</pre>"))
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Find("pre").Text(); got != code {
		t.Errorf("sample text %q", got)
	}
	if strings.ContainsAny(les.Title+les.Summary, "<>") {
		t.Errorf("raw HTML kept in the plain-text title %q or summary %q", les.Title, les.Summary)
	}
}

func TestDirectiveErrors(t *testing.T) {
	head := "# T\n\nSummary.\n\n## S {#s}\n\n"
	for name, body := range map[string]string{
		"unknown guarantee":           `::run guarantee=sometimes fault=none label="x"`,
		"unknown preset":              `::run guarantee=at-most-once preset=lenient fault=none label="x"`,
		"unknown fault":               `::run guarantee=at-most-once fault=meteor label="x"`,
		"no messages":                 `::run guarantee=at-most-once fault=none messages=0 label="x"`,
		"too many messages":           `::run guarantee=at-most-once fault=none messages=1000001 label="x"`,
		"not a number":                `::run guarantee=at-most-once fault=none messages=ten label="x"`,
		"negative pace":               `::run guarantee=at-most-once fault=none pace=-1 label="x"`,
		"pace too slow":               `::run guarantee=at-most-once fault=none pace=5001 label="x"`,
		"no label":                    `::run guarantee=at-most-once fault=none`,
		"unknown argument":            `::run guarantee=at-most-once fault=none label="x" speed=3`,
		"expect contradicts":          `::run guarantee=at-most-once preset=strict fault=processor-crash expect="lost=none" label="x"`,
		"expect unknown class":        `::run guarantee=at-most-once fault=none expect="speed=fast" label="x"`,
		"argument twice":              `::run guarantee=at-most-once fault=none fault=none label="x"`,
		"unclosed quote":              `::run guarantee=at-most-once fault=none label="x`,
		"unknown directive":           `::quiz what`,
		"sample outside":              `::sample ../server/app.go`,
		"sample absolute":             `::sample /etc/passwd`,
		"sample unclean":              `::sample a//b.py`,
		"sample of text":              `::sample notes.txt`,
		"sample two paths":            `::sample a.py b.py`,
		"nested directive":            "- item\n\n  ::run guarantee=at-most-once fault=none label=\"x\"",
		"heading style":               "## B {#b style=\"color:red\"}",
		"heading class":               "## B {#b .red}",
		"section without id":          "## B",
		"section id twice":            "## B {#s}",
		"second title":                "# Another",
		"uppercase id":                "## B {#Bee}",
		"h3 with an attribute":        "### C {#c onclick=\"x\"}",
		"notes nested":                "::notes Outer\n\n- a\n\n::notes Inner\n\n- b\n\n::end\n\n::end",
		"notes unclosed":              "::notes Settings\n\n- a",
		"notes unclosed by a section": "::notes Settings\n\n- a\n\n## Next {#next}\n\nText.",
		"notes holding a run":         "::notes Settings\n\n::run guarantee=at-most-once fault=none label=\"x\"\n\n::end",
		"notes holding a sample":      "::notes Settings\n\n::sample a/b.py\n\n::end",
		"notes without summary":       "::notes\n\n- a\n\n::end",
		"notes empty":                 "::notes Settings\n\n::end",
		"end without notes":           "::end",
		"end with arguments":          "::notes Settings\n\n- a\n\n::end notes",
		"notes in a list":             "- item\n\n  ::notes Settings\n\n- a\n\n::end",
		"compare one path":            "::compare a/b.py",
		"compare three paths":         "::compare a/b.py a/c.py a/d.py",
		"compare two languages":       "::compare a/b.py a/c.go",
		"compare itself":              "::compare a/b.py a/b.py",
		"compare outside":             "::compare ../x.py a/b.py",
	} {
		if _, err := parseLesson("t", text.English, []byte(head+body+"\n")); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
	for name, src := range map[string]string{
		"empty":                     "",
		"no title":                  "Summary.\n\n## S {#s}\n",
		"no summary":                "# T\n\n## S {#s}\n",
		"text before a section":     "# T\n\nSummary.\n\nMore.\n\n## S {#s}\n",
		"directive before sections": "# T\n\nSummary.\n\n::run guarantee=at-most-once fault=none label=\"x\"\n",
	} {
		if _, err := parseLesson("t", text.English, []byte(src)); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
	ok := head + "::run guarantee=exactly-once fault=processor-crash expect=\"lost=none duplicated=none verdict=held\" label=x\n::sample a/b/c.go\n"
	p, err := parseLesson("t", text.English, []byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	claim, _ := lessons.LookupClaim(lessons.ExactlyOnce, lessons.Strict, lessons.ProcessorCrash)
	want := Scenario{Guarantee: lessons.ExactlyOnce, Preset: lessons.Strict, Fault: lessons.ProcessorCrash, Messages: 100, PaceMs: 0, Notify: lessons.NotifyPlain, Partitions: 1, Processors: 1, Label: "x", Section: "s", Expect: claim}
	if len(p.scenarios) != 1 || p.scenarios[0] != want {
		t.Errorf("defaults: got %+v, want %+v", p.scenarios, want)
	}
	// A run about partitions takes the claim table's shape, and no other.
	for src, good := range map[string]bool{
		"::run guarantee=at-least-once fault=rebalance partitions=3 label=x\n":              true,
		"::run guarantee=at-least-once fault=rebalance label=x\n":                           false,
		"::run guarantee=at-least-once fault=rebalance partitions=4 processors=2 label=x\n": false,
		"::run guarantee=at-least-once fault=none partitions=3 label=x\n":                   false,
	} {
		if _, err := parseLesson("t", text.English, []byte(head+src)); (err == nil) != good {
			t.Errorf("%s: error %v", strings.TrimSpace(src), err)
		}
	}
	if len(p.samples) != 1 || p.samples[0] != (SampleRef{"a/b/c.go", "go", "s"}) {
		t.Errorf("sample: got %+v", p.samples)
	}
}

// TestDirectiveErrorsSayWhy: the errors for misplaced notes name the
// problem, so a writer can fix the file from the message alone.
func TestDirectiveErrorsSayWhy(t *testing.T) {
	head := "# T\n\nSummary.\n\n## S {#s}\n\n"
	for body, want := range map[string]string{
		"::notes Outer\n\n::notes Inner\n\n::end\n\n::end": "notes do not nest",
		"::notes Settings\n\n- a\n":                        `"::notes Settings" is not closed at the end of the file`,
		"::notes Settings\n\n- a\n\n## N {#n}\n":           `is not closed before the heading "N"`,
		"::end\n":                                          "::end without a ::notes",
	} {
		_, err := parseLesson("t", text.English, []byte(head+body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one saying %q", body, err, want)
		}
	}
}

// TestNotesAndCompare parses notes and a comparison: the notes keep their
// summary and render their Markdown; the comparison marks the lines that
// differ, leaving comments, blanks, quote style and a trailing comma alone.
func TestNotesAndCompare(t *testing.T) {
	src := "# T\n\nSummary.\n\n## S {#s}\n\nBefore.\n\n::notes What each setting does\n\n- `acks=1`: *the leader* only.\n- `retries=0`\n::end\n\nAfter.\n\n" +
		"::compare old.py new.py\n"
	p, err := parseLesson("t", text.English, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"old.py": "from kafka import KafkaConsumer\n\nc = KafkaConsumer('t', auto_commit=True)  # 자동 커밋\nfor m in c:\n    print(m)\n",
		"new.py": "\"\"\"Doc.\"\"\"\nfrom kafka import KafkaConsumer\n# a comment\nc = KafkaConsumer(\"t\", auto_commit=False)\nfor m in c:\n    c.commit()\n    print(m)\n",
	}
	les := build(p, func(path string) (string, error) { return files[path], nil }, newHighlighter())
	blocks := les.Sections[0].Blocks
	if len(blocks) != 4 || blocks[1].Notes == nil || blocks[3].Compare == nil {
		t.Fatalf("blocks %+v: want prose, notes, prose, compare", blocks)
	}
	n := blocks[1].Notes
	if n.Summary != "What each setting does" || !strings.Contains(n.HTML, "<li><code>acks=1</code>: <em>the leader</em> only.</li>") || strings.Contains(n.HTML, "::end") {
		t.Errorf("notes %+v", *n)
	}
	if !strings.Contains(blocks[2].HTML, "After.") || strings.Contains(blocks[0].HTML, "acks") {
		t.Errorf("prose around the notes: %q, %q", blocks[0].HTML, blocks[2].HTML)
	}
	c := blocks[3].Compare
	if c.Err != "" || !slices.Equal(les.Compares, []CompareRef{{"old.py", "new.py", "python", "s"}}) {
		t.Fatalf("compare %+v, refs %+v", *c, les.Compares)
	}
	ops := func(ls []DiffLine) (out []DiffOp) {
		for _, l := range ls {
			out = append(out, l.Op)
		}
		return out
	}
	if got, want := ops(c.OldLines), []DiffOp{Same, Same, Removed, Same, Same}; !slices.Equal(got, want) {
		t.Errorf("old lines %v, want %v", got, want)
	}
	// The corrected side's first line is two away from its first change:
	// folded.
	if got, want := ops(c.NewLines), []DiffOp{Fold, Same, Same, Added, Same, Added, Same}; !slices.Equal(got, want) {
		t.Errorf("new lines %v, want %v", got, want)
	}
	if !strings.Contains(c.OldLines[0].Code, `<span class="kn">from</span>`) {
		t.Errorf("not highlighted: %q", c.OldLines[0].Code)
	}
}

// TestNewOnBrokenFiles: a file that is not a lesson fails New; a malformed
// lesson fails only its own Load, and Validate reports it.
func TestNewOnBrokenFiles(t *testing.T) {
	good := "# T\n\nSummary.\n\n## S {#s}\n\nText.\n"
	if _, err := newSet(fstest.MapFS{"a.en.md": {Data: []byte(good)}, "notes.md": {Data: []byte(good)}}, nil); err == nil {
		t.Error("a file named without a language: New gave no error")
	}
	set, err := newSet(fstest.MapFS{"a.en.md": {Data: []byte(good)}, "b.en.md": {Data: []byte("## S {#s}\n")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := set.Load("a", text.English); err != nil {
		t.Errorf("the good lesson: %v", err)
	}
	if _, err := set.Load("b", text.English); err == nil {
		t.Error("the malformed lesson loaded")
	}
	if err := set.Validate(); err == nil || !strings.Contains(err.Error(), "b.en.md") {
		t.Errorf("Validate: %v", err)
	}
	if ids := set.IDs(); !slices.Equal(ids, []string{"a", "b"}) {
		t.Errorf("IDs %v", ids)
	}
}
