package content

// Highlighting: chroma turns a sample's code into HTML spans that carry
// CSS classes only, styled by HighlightCSS's static stylesheet.

import (
	"strings"
	"sync"

	"github.com/alecthomas/chroma/v2"
	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/alecthomas/chroma/v2/styles"
)

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
	// class. The .chroma rule carries the same colours. Operators (= , .)
	// stay the text's colour: a span around each was a sixth of a lesson
	// page's code, for a shade of blue on one character.
	var out strings.Builder
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		if !strings.HasPrefix(line, "/* Background */") && !strings.HasPrefix(line, "/* Operator */") {
			out.WriteString(line)
		}
	}
	return out.String()
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

// highlight returns code as HTML spans with chroma's classes.
func highlight(code, language string) (string, error) {
	lx := lexers.Get(language)
	if lx == nil {
		return "", errNoHighlighter(language)
	}
	it, err := chroma.Coalesce(lx).Tokenise(nil, code)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	writeTokens(&b, it.Tokens())
	return b.String(), nil
}

// escapeText escapes code for an element's text: quotes need no escaping
// there, and html.EscapeString's &#34; for each would be five bytes where
// one does (1.3 KB of a lesson page).
var escapeText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// writeTokens writes tokens as HTML: each token's text escaped, in a span
// of its chroma class when HighlightCSS styles that class. Chroma's own
// formatter wraps every token, whitespace and plain names included, and
// those spans would be most of a sample's bytes on the page.
func writeTokens(b *strings.Builder, toks []chroma.Token) {
	styled := styledClasses()
	for _, tok := range toks {
		text := escapeText.Replace(tok.Value)
		if cls := tokenClass(tok.Type); styled[cls] {
			b.WriteString(`<span class="` + cls + `">` + text + `</span>`)
		} else {
			b.WriteString(text)
		}
	}
}

// styledClasses are the token classes HighlightCSS has a rule for.
var styledClasses = sync.OnceValue(func() map[string]bool {
	classes := map[string]bool{}
	for _, line := range strings.Split(HighlightCSS(), "\n") {
		_, rule, ok := strings.Cut(line, ".chroma .")
		if !ok {
			continue
		}
		if cls, _, ok := strings.Cut(rule, " "); ok && cls != "" {
			classes[cls] = true
		}
	}
	return classes
})

// highlighter highlights each piece of code once, however many lessons
// show it: chroma is the most of what building the lessons costs (under
// the race detector, seconds).
type highlighter struct {
	samples map[[2]string]highlighted
	lined   map[[2]string]lined
}

type highlighted struct {
	html string
	err  error
}

type lined struct {
	lines []codeLine
	err   error
}

func newHighlighter() *highlighter {
	return &highlighter{samples: map[[2]string]highlighted{}, lined: map[[2]string]lined{}}
}

// sample is highlight, once per code and language.
func (h *highlighter) sample(code, language string) (string, error) {
	k := [2]string{code, language}
	r, ok := h.samples[k]
	if !ok {
		r.html, r.err = highlight(code, language)
		h.samples[k] = r
	}
	return r.html, r.err
}

// lines is highlightLines, once per code and language. Callers must not
// change the lines.
func (h *highlighter) lines(code, language string) ([]codeLine, error) {
	k := [2]string{code, language}
	r, ok := h.lined[k]
	if !ok {
		r.lines, r.err = highlightLines(code, language)
		h.lined[k] = r
	}
	return r.lines, r.err
}
