package content

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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

func guaranteeIDs() []string {
	var ids []string
	for _, g := range lessons.Guarantees() {
		ids = append(ids, string(g.ID))
	}
	return ids
}

func TestFilesParse(t *testing.T) {
	if err := Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestEveryLessonInEveryLanguage(t *testing.T) {
	for _, id := range append(guaranteeIDs(), "home", "compare") {
		for _, l := range text.Langs {
			les, err := Load(id, l)
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
				if s.Title == "" || strings.TrimSpace(s.HTML) == "" {
					t.Errorf("%s.%s: section %s is empty", id, l, s.ID)
				}
			}
		}
	}
}

func TestGuaranteeLessonsHaveRequiredSectionsInOrder(t *testing.T) {
	for _, id := range guaranteeIDs() {
		for _, l := range text.Langs {
			les := MustLoad(id, l)
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
	for _, id := range IDs() {
		for _, l := range text.Langs {
			les, err := Load(id, l)
			if err != nil {
				continue // reported by TestEveryLessonInEveryLanguage
			}
			for _, sc := range les.Scenarios {
				g, ok := lessons.LookupGuarantee(sc.Guarantee)
				switch {
				case !ok:
					t.Errorf("%s.%s: run names unknown guarantee %q", id, l, sc.Guarantee)
				case !g.HasPreset(sc.Preset):
					t.Errorf("%s.%s: guarantee %s has no preset %q", id, l, sc.Guarantee, sc.Preset)
				}
				if _, ok := lessons.LookupFault(sc.Fault); !ok {
					t.Errorf("%s.%s: run names unknown fault %q", id, l, sc.Fault)
				}
				if sc.Messages < 1 || sc.Messages > 1_000_000 {
					t.Errorf("%s.%s: messages %d outside 1..1000000", id, l, sc.Messages)
				}
				if sc.PaceMs < 0 || sc.PaceMs > 5000 {
					t.Errorf("%s.%s: pace %d outside 0..5000", id, l, sc.PaceMs)
				}
				if sc.Label == "" {
					t.Errorf("%s.%s: a run without a label", id, l)
				}
			}
		}
	}
	for _, id := range guaranteeIDs() {
		for _, l := range text.Langs {
			les := MustLoad(id, l)
			if len(les.Scenarios) < 3 {
				t.Errorf("%s.%s: %d runs, want at least 3", id, l, len(les.Scenarios))
			}
			for _, f := range lessons.Faults() {
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
	seen := map[string]bool{}
	for _, id := range IDs() {
		for _, l := range text.Langs {
			les, err := Load(id, l)
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
			les := MustLoad(id, l)
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

// TestTranslationsMatch keeps ko and en from drifting apart: the same
// sections, the same runs in the same order, the same samples.
func TestTranslationsMatch(t *testing.T) {
	for _, id := range IDs() {
		en, err1 := Load(id, text.English)
		ko, err2 := Load(id, text.Korean)
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

func TestRenderedLessons(t *testing.T) {
	SetSamples(diskSamples)
	t.Cleanup(func() { SetSamples(nil) })
	if err := CheckSamples(); err != nil {
		t.Error(err)
	}
	for _, id := range IDs() {
		for _, l := range text.Langs {
			les, err := Load(id, l)
			if err != nil {
				continue
			}
			where := id + "." + string(l)
			var page strings.Builder
			for _, s := range les.Sections {
				checkSafe(t, where+"#"+s.ID, s.HTML)
				if !strings.Contains(s.HTML, `<h2 id="`+s.ID+`">`) {
					t.Errorf("%s: section %s does not start with its heading", where, s.ID)
				}
				page.WriteString(s.HTML)
			}
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(page.String()))
			if err != nil {
				t.Fatal(err)
			}
			if n := doc.Find(`[data-testid="scenario"]`).Length(); n != len(les.Scenarios) {
				t.Errorf("%s: %d run buttons for %d runs", where, n, len(les.Scenarios))
			}
			figures := doc.Find(`figure[data-testid="sample"]`)
			if figures.Length() != len(les.Samples) {
				t.Errorf("%s: %d sample figures for %d samples", where, figures.Length(), len(les.Samples))
			}
			ids := map[string]bool{}
			figures.Each(func(_ int, f *goquery.Selection) {
				p, _ := f.Attr("data-sample")
				if f.Find(".sample-error").Length() > 0 {
					t.Errorf("%s: sample %s: %s", where, p, f.Find(".sample-error").Text())
					return
				}
				btn := f.Find("figcaption button.copy")
				target, _ := btn.Attr("data-copy-target")
				pre := f.Find("pre")
				preID, _ := pre.Attr("id")
				if target == "" || target != preID {
					t.Errorf("%s: sample %s: copy target %q, pre id %q", where, p, target, preID)
				}
				if ids[preID] {
					t.Errorf("%s: two samples with the id %q", where, preID)
				}
				ids[preID] = true
				if want := l.T("sample.copy"); btn.Text() != want {
					t.Errorf("%s: copy button says %q, want %q", where, btn.Text(), want)
				}
				if pre.Find("code span[class]").Length() == 0 {
					t.Errorf("%s: sample %s is not highlighted", where, p)
				}
				if src, err := diskSamples(p); err == nil && pre.Text() != src {
					t.Errorf("%s: sample %s: the page does not show the file as it is", where, p)
				}
			})
		}
	}
}

func TestSamplesBeforeSetSamples(t *testing.T) {
	SetSamples(nil)
	les := MustLoad("exactly-once", text.English)
	s, _ := les.Section("producer")
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(s.HTML))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Find(`figure[data-testid="sample"] .sample-error`).Length() == 0 {
		t.Error("without a sample source, a sample should say it is not available")
	}
}

func TestHighlightCSS(t *testing.T) {
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
	if _, err := Load("no-such-lesson", text.English); err == nil {
		t.Error("Load of an unknown lesson: no error")
	}
	defer func() {
		if recover() == nil {
			t.Error("MustLoad of an unknown lesson did not panic")
		}
	}()
	MustLoad("no-such-lesson", text.Korean)
}

// TestEscaping renders constructed Markdown through the same functions as
// the lesson files.
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
	les := render(p, func(string) (string, error) {
		return "print(\"<script>\", '<b onclick=x>')\n", nil
	})
	h := les.Sections[0].HTML
	checkSafe(t, "constructed", h)
	if strings.Contains(strings.ToLower(h), "<script") {
		t.Errorf("unescaped <script in:\n%s", h)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(h))
	if err != nil {
		t.Fatal(err)
	}
	btn := doc.Find(`[data-testid="scenario"]`)
	if btn.Text() != label {
		t.Errorf("button label %q, want %q", btn.Text(), label)
	}
	for attr, want := range map[string]string{"data-guarantee": "at-most-once", "data-preset": "strict", "data-fault": "none", "data-messages": "5", "data-pace": "0"} {
		if got, _ := btn.Attr(attr); got != want {
			t.Errorf("%s = %q, want %q", attr, got, want)
		}
	}
	if !strings.Contains(h, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;q&#39;") {
		t.Errorf("label not escaped:\n%s", h)
	}
	if got := doc.Find(`figure[data-testid="sample"] pre`).Text(); got != "print(\"<script>\", '<b onclick=x>')\n" {
		t.Errorf("sample text %q", got)
	}
	if strings.ContainsAny(les.Title+les.Summary, "<>") {
		t.Errorf("raw HTML kept in the plain-text title %q or summary %q", les.Title, les.Summary)
	}
}

func TestDirectiveErrors(t *testing.T) {
	head := "# T\n\nSummary.\n\n## S {#s}\n\n"
	for name, body := range map[string]string{
		"unknown guarantee":    `::run guarantee=sometimes fault=none label="x"`,
		"unknown preset":       `::run guarantee=at-most-once preset=lenient fault=none label="x"`,
		"unknown fault":        `::run guarantee=at-most-once fault=meteor label="x"`,
		"no messages":          `::run guarantee=at-most-once fault=none messages=0 label="x"`,
		"too many messages":    `::run guarantee=at-most-once fault=none messages=1000001 label="x"`,
		"not a number":         `::run guarantee=at-most-once fault=none messages=ten label="x"`,
		"negative pace":        `::run guarantee=at-most-once fault=none pace=-1 label="x"`,
		"pace too slow":        `::run guarantee=at-most-once fault=none pace=5001 label="x"`,
		"no label":             `::run guarantee=at-most-once fault=none`,
		"unknown argument":     `::run guarantee=at-most-once fault=none label="x" speed=3`,
		"argument twice":       `::run guarantee=at-most-once fault=none fault=none label="x"`,
		"unclosed quote":       `::run guarantee=at-most-once fault=none label="x`,
		"unknown directive":    `::quiz what`,
		"sample outside":       `::sample ../server/app.go`,
		"sample absolute":      `::sample /etc/passwd`,
		"sample unclean":       `::sample a//b.py`,
		"sample of text":       `::sample notes.txt`,
		"sample two paths":     `::sample a.py b.py`,
		"nested directive":     "- item\n\n  ::run guarantee=at-most-once fault=none label=\"x\"",
		"heading style":        "## B {#b style=\"color:red\"}",
		"heading class":        "## B {#b .red}",
		"section without id":   "## B",
		"section id twice":     "## B {#s}",
		"second title":         "# Another",
		"uppercase id":         "## B {#Bee}",
		"h3 with an attribute": "### C {#c onclick=\"x\"}",
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
	ok := head + "::run guarantee=exactly-once fault=processor-crash label=x\n::sample a/b/c.go\n"
	p, err := parseLesson("t", text.English, []byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	want := Scenario{Guarantee: lessons.ExactlyOnce, Preset: lessons.Strict, Fault: lessons.ProcessorCrash, Messages: 100, PaceMs: 0, Label: "x", Section: "s"}
	if len(p.scenarios) != 1 || p.scenarios[0] != want {
		t.Errorf("defaults: got %+v, want %+v", p.scenarios, want)
	}
	if len(p.samples) != 1 || p.samples[0] != (SampleRef{"a/b/c.go", "go", "s"}) {
		t.Errorf("sample: got %+v", p.samples)
	}
}

// MustLoad is Load for lessons that are known to exist; it panics otherwise.
func MustLoad(id string, l text.Lang) *Lesson {
	les, err := Load(id, l)
	if err != nil {
		panic(err)
	}
	return les
}

// Validate returns every problem found in the content files at init, or
// nil.
func Validate() error {
	errs := slices.Clone(parsedAll.global)
	for _, k := range sortedKeys(parsedAll.errs) {
		errs = append(errs, parsedAll.errs[k])
	}
	return errors.Join(errs...)
}

// CheckSamples reads every sample the lessons name through the source set
// by SetSamples and returns what could not be read, or nil.
func CheckSamples() error {
	c := current.Load()
	if c.src == nil {
		return errors.New("content: no sample source set (SetSamples)")
	}
	seen := map[string]bool{}
	var errs []error
	for _, k := range sortedKeys(parsedAll.lessons) {
		for _, s := range parsedAll.lessons[k].samples {
			if seen[s.Path] {
				continue
			}
			seen[s.Path] = true
			if _, err := c.src(s.Path); err != nil {
				errs = append(errs, fmt.Errorf("%s: sample %s: %w", k, s.Path, err))
			}
		}
	}
	return errors.Join(errs...)
}
