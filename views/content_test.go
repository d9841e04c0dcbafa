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
		{Scenario: &content.Scenario{Guarantee: lessons.AtMostOnce, Preset: lessons.Strict, Fault: lessons.NoFault, Messages: 5, Label: label}},
		{Sample: &content.Sample{SampleRef: content.SampleRef{Path: "a/b.py", Language: "python"}, Anchor: "sample-a-b-py", Code: `<span class="nb">print</span>`}},
		{Sample: &content.Sample{SampleRef: content.SampleRef{Path: "a/c.go", Language: "go"}, Anchor: "sample-a-c-go", Err: `no <file> & "such"`}},
	}}
	got := renderString(t, sectionBody(text.English, sec))
	want := "<h2 id=\"sec\">Section</h2>\n<p>Prose.</p>\n" +
		`<button type="button" class="run-scenario" data-testid="scenario" data-guarantee="at-most-once" data-preset="strict" data-fault="none" data-messages="5" data-pace="0">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;q&#39;</button>` + "\n" +
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
