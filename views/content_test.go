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
	got := renderString(t, sectionBody(text.English, sec, false))
	want := "<h2 id=\"sec\">Section</h2>\n<p>Prose.</p>\n" +
		`<button type="button" class="run-scenario" data-testid="scenario" data-guarantee="at-most-once" data-preset="strict" data-fault="none" data-messages="5" data-pace="0" data-partitions="1" data-processors="1">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;q&#39;</button>` + "\n" +
		`<figure class="sample" data-testid="sample" data-sample="a/b.py" data-language="python"><figcaption><code>lessons/samples/a/b.py</code> <button type="button" class="copy" data-copy-target="sample-a-b-py" aria-label="Copy lessons/samples/a/b.py">Copy</button></figcaption>` +
		`<pre id="sample-a-b-py" class="chroma" tabindex="0"><code><span class="nb">print</span></code></pre></figure>` + "\n" +
		`<figure class="sample" data-testid="sample" data-sample="a/c.go" data-language="go"><figcaption><code>lessons/samples/a/c.go</code></figcaption><p class="sample-error">This sample is not available: no &lt;file&gt; &amp; &#34;such&#34;</p></figure>` + "\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestSectionBodyClusterScenario: a lesson's run of a cluster fault is a
// disabled button with the command that starts cluster mode unless the
// lab owns a cluster, and an ordinary run button when it does.
func TestSectionBodyClusterScenario(t *testing.T) {
	for _, f := range []lessons.FaultID{lessons.LeaderCrash, lessons.FollowerDown} {
		sec := content.Section{ID: "sec", Blocks: []content.Block{
			{Scenario: &content.Scenario{Guarantee: lessons.AtLeastOnce, Preset: lessons.Strict, Fault: f, Messages: 200, Partitions: 1, Processors: 1, Label: "Run"}},
		}}
		for _, lang := range []text.Lang{text.English, text.Korean} {
			off := renderString(t, sectionBody(lang, sec, false))
			if !strings.Contains(off, " disabled>Run</button>") || !strings.Contains(off, `data-testid="scenario-needs"`) || !strings.Contains(off, "go run ./server -cluster 3") || strings.Contains(off, "data-guarantee") {
				t.Errorf("%s %s without a cluster: %s", f, lang, off)
			}
			on := renderString(t, sectionBody(lang, sec, true))
			if strings.Contains(on, "disabled") || strings.Contains(on, "scenario-needs") || !strings.Contains(on, `data-fault="`+string(f)+`"`) {
				t.Errorf("%s %s in cluster mode: %s", f, lang, on)
			}
		}
	}
}
