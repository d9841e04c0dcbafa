package views

import (
	"context"
	"strings"
	"testing"

	"github.com/a-h/templ"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/content"
	"github.com/kafka-delivery-lab/lab/lessons/text"
)

func renderString(t *testing.T, c templ.Component) string {
	t.Helper()
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestSectionBody pins the HTML of a section's blocks: lesson.js, the CSS
// and the browser tests find runs and samples by these classes, data-
// attributes and ids, and every text is escaped.
func TestSectionBody(t *testing.T) {
	const label = `<script>alert("x")</script> & 'q'`
	sec := content.Section{ID: "sec", Blocks: []content.Block{
		{HTML: "<h2 id=\"sec\">Section</h2>\n<p>Prose.</p>\n"},
		{Scenario: &content.Scenario{Guarantee: lessons.AtMostOnce, Preset: lessons.Strict, Fault: lessons.NoFault, Messages: 5, Partitions: 1, Processors: 1, Label: label}},
		{Sample: &content.Sample{SampleRef: content.SampleRef{Path: "a/b.py", Language: "python"}, Anchor: "sample-a-b-py", Code: `<span class="nb">print</span>`}},
		{Sample: &content.Sample{SampleRef: content.SampleRef{Path: "a/c.go", Language: "go"}, Anchor: "sample-a-c-go", Err: `no <file> & "such"`}},
	}}
	got := renderString(t, sectionBody(text.English, sec))
	want := "<h2 id=\"sec\">Section</h2>\n<p>Prose.</p>\n" +
		`<button type="button" class="run-scenario" data-testid="scenario" data-guarantee="at-most-once" data-preset="strict" data-fault="none" data-messages="5" data-pace="0" data-partitions="1" data-processors="1">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;q&#39;</button>` + "\n" +
		`<figure class="sample" data-testid="sample" data-sample="a/b.py" data-language="python"><figcaption><code>lessons/samples/a/b.py</code> <button type="button" class="copy" data-copy-target="sample-a-b-py" aria-label="Copy lessons/samples/a/b.py">Copy</button></figcaption>` +
		`<pre id="sample-a-b-py" class="chroma" tabindex="0"><code><span class="nb">print</span></code></pre></figure>` + "\n" +
		`<figure class="sample" data-testid="sample" data-sample="a/c.go" data-language="go"><figcaption><code>lessons/samples/a/c.go</code></figcaption><p class="sample-error">This sample is not available: no &lt;file&gt; &amp; &#34;such&#34;</p></figure>` + "\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestCompareSummaryStandsIn: a compare lesson without sections shows its
// summary, escaped.
func TestCompareSummaryStandsIn(t *testing.T) {
	got := renderString(t, ComparePage(Page{Lang: text.English, BrokerAddrs: []string{"127.0.0.1:9092"}}, nil, "<b>x</b> & y", RunPanel{}))
	if !strings.Contains(got, "<p>&lt;b&gt;x&lt;/b&gt; &amp; y</p>") {
		t.Errorf("the summary does not stand in for the sections:\n%s", got)
	}
}

// TestNotesAndCompareBlocks pins the HTML of notes (a <details> around the
// rendered Markdown) and of a comparison: two figures, each line with its
// mark in a gutter and its class, and a legend naming the marks.
func TestNotesAndCompareBlocks(t *testing.T) {
	sec := content.Section{ID: "sec", Blocks: []content.Block{
		{Notes: &content.Notes{Summary: `What <each> setting does`, HTML: "<ul>\n<li><code>acks=1</code></li>\n</ul>\n"}},
		{Compare: &content.Compare{
			CompareRef: content.CompareRef{Old: "seed/a.py", New: "a/b.py", Language: "python"},
			OldLines:   []content.DiffLine{{Code: `<span class="kn">import</span> x`, Op: content.Same}, {Code: "acks=&#39;1&#39;", Op: content.Removed}},
			NewLines:   []content.DiffLine{{Code: `<span class="kn">import</span> x`, Op: content.Same}, {Code: "acks=1", Op: content.Added}},
		}},
		{Compare: &content.Compare{CompareRef: content.CompareRef{Old: "seed/a.py", New: "a/c.py", Language: "python"}, Err: "no <file>"}},
	}}
	got := renderString(t, sectionBody(text.English, sec))
	want := `<details class="notes" data-testid="notes"><summary>What &lt;each&gt; setting does</summary><ul>` + "\n<li><code>acks=1</code></li>\n</ul>\n</details>\n" +
		`<div class="compare-code" data-testid="compare-code" data-old="seed/a.py" data-new="a/b.py" data-language="python">` +
		`<figure class="diff diff-old" data-testid="diff-old"><figcaption><span class="diff-title">The common snippet</span> <code>lessons/samples/seed/a.py</code></figcaption>` +
		`<pre class="chroma" tabindex="0"><code><span class="diff-line same"><span class="kn">import</span> x` + "\n</span>" +
		`<span class="diff-line removed"><span class="diff-mark">−</span>acks=&#39;1&#39;` + "\n</span></code></pre></figure>" +
		`<figure class="diff diff-new" data-testid="diff-new"><figcaption><span class="diff-title">Corrected</span> <code>lessons/samples/a/b.py</code></figcaption>` +
		`<pre class="chroma" tabindex="0"><code><span class="diff-line same"><span class="kn">import</span> x` + "\n</span>" +
		`<span class="diff-line added"><span class="diff-mark">+</span>acks=1` + "\n</span></code></pre></figure>" +
		`<p class="diff-legend"><span class="diff-mark">−</span> only in the common snippet · <span class="diff-mark">+</span> only in the corrected sample</p></div>` + "\n" +
		`<div class="compare-code" data-testid="compare-code" data-old="seed/a.py" data-new="a/c.py" data-language="python"><p class="sample-error">This sample is not available: no &lt;file&gt;</p></div>` + "\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
