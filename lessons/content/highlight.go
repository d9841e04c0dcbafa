package content

// Highlighting: chroma turns a sample's code into HTML spans that carry
// CSS classes only, styled by HighlightCSS's static stylesheet.

import (
	"fmt"
	"strings"

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
	// class. The .chroma rule carries the same colours.
	var out strings.Builder
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		if !strings.HasPrefix(line, "/* Background */") {
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
