package content

// Comparing: a ::compare's two samples, highlighted line by line, and a
// line-level diff (the longest common subsequence of their lines) that
// marks what is only in the common code and what only in the corrected
// sample.

import (
	"strings"

	"github.com/alecthomas/chroma/v2"
	"github.com/alecthomas/chroma/v2/lexers"
)

// readCompare fills in c's lines from src, or the reason there are none.
func readCompare(c Compare, src SampleSource, hl *highlighter) Compare {
	fail := func(err error) Compare {
		c.OldLines, c.NewLines, c.Err = nil, nil, err.Error()
		return c
	}
	if src == nil {
		return fail(errNoSource)
	}
	var sides [2][]codeLine
	for i, p := range []string{c.Old, c.New} {
		code, err := src(p)
		if err != nil {
			return fail(err)
		}
		if sides[i], err = hl.lines(code, c.Language); err != nil {
			return fail(err)
		}
	}
	c.OldLines, c.NewLines = diffLines(sides[0], sides[1])
	c.NewLines = fold(c.NewLines, foldContext)
	return c
}

// foldContext is how many unchanged lines around a change a comparison
// keeps of the corrected sample.
const foldContext = 2

// fold replaces each run of unchanged lines further than context lines
// from a change with one Fold line: the common snippet is shown whole, the
// corrected sample around what changed (a page shows it whole in its own
// section, so a comparison need not repeat it).
func fold(lines []DiffLine, context int) []DiffLine {
	near := make([]bool, len(lines))
	for i, l := range lines {
		if l.Op != Same {
			for j := max(0, i-context); j <= min(len(lines)-1, i+context); j++ {
				near[j] = true
			}
		}
	}
	var out []DiffLine
	for i := 0; i < len(lines); {
		if near[i] {
			out = append(out, lines[i])
			i++
			continue
		}
		j := i
		for j < len(lines) && !near[j] {
			j++
		}
		out = append(out, DiffLine{Op: Fold, Folded: j - i})
		i = j
	}
	return out
}

// codeLine is one line of a file: its highlighted HTML, and the key the
// diff compares it by ("" for a line of only comments and blanks).
type codeLine struct {
	html, key string
}

// highlightLines splits code into lines, each highlighted on its own as
// HTML spans with chroma's classes (a token that spans lines, such as a
// docstring, keeps its class on each), and keyed for the diff.
func highlightLines(code, language string) ([]codeLine, error) {
	lx := lexers.Get(language)
	if lx == nil {
		return nil, errNoHighlighter(language)
	}
	it, err := chroma.Coalesce(lx).Tokenise(nil, strings.TrimSuffix(code, "\n"))
	if err != nil {
		return nil, err
	}
	var lines []codeLine
	for _, toks := range chroma.SplitTokensIntoLines(markDocstrings(it.Tokens())) {
		var h, key strings.Builder
		var keep []chroma.Token
		for _, tok := range toks {
			v := strings.TrimRight(tok.Value, "\n")
			if v == "" {
				continue
			}
			keep = append(keep, chroma.Token{Type: tok.Type, Value: v})
			if tok.Type.InCategory(chroma.Comment) || tok.Type == chroma.LiteralStringDoc || strings.TrimSpace(v) == "" {
				continue
			}
			if key.Len() > 0 {
				key.WriteByte(' ')
			}
			key.WriteString(strings.TrimSpace(v))
		}
		writeTokens(&h, keep)
		lines = append(lines, codeLine{html: h.String(), key: normalize(key.String())})
	}
	return lines, nil
}

// markDocstrings gives a triple-quoted string that stands alone on its
// lines (a Python docstring, which chroma calls a plain string) the type
// LiteralStringDoc: it is commentary, like a comment.
func markDocstrings(toks []chroma.Token) []chroma.Token {
	alone := func(toks []chroma.Token) bool { // only blanks up to a newline
		for _, t := range toks {
			if strings.TrimSpace(t.Value) != "" {
				return false
			}
			if strings.Contains(t.Value, "\n") {
				return true
			}
		}
		return true
	}
	for i, t := range toks {
		if !t.Type.InCategory(chroma.LiteralString) || !(strings.HasPrefix(t.Value, `"""`) || strings.HasPrefix(t.Value, "'''")) {
			continue
		}
		before := true // only blanks since the last newline
		for j := i - 1; j >= 0; j-- {
			if v := toks[j].Value; strings.Contains(v, "\n") {
				before = strings.TrimSpace(v[strings.LastIndexByte(v, '\n'):]) == ""
				break
			} else if strings.TrimSpace(v) != "" {
				before = false
				break
			}
		}
		if before && alone(toks[i+1:]) {
			toks[i].Type = chroma.LiteralStringDoc
		}
	}
	return toks
}

// normalize makes a line's key indifferent to what does not change what
// the code does in these samples: the quote character and a trailing comma
// (the last argument of a call may or may not have one).
func normalize(key string) string {
	key = strings.ReplaceAll(key, "'", `"`)
	return strings.TrimSpace(strings.TrimSuffix(key, ","))
}

// tokenClass is the CSS class chroma's HTML formatter gives a token type:
// its own, or its nearest ancestor's.
func tokenClass(t chroma.TokenType) string {
	for t != 0 {
		if cls, ok := chroma.StandardTypes[t]; ok {
			return cls
		}
		t = t.Parent()
	}
	return ""
}

// diffLines marks each line of a and b: Same if it is part of the longest
// common subsequence of the two files' keyed lines, or if it holds only
// comments or blanks (those are commentary, not a difference in what the
// code does); otherwise Removed (only in a) or Added (only in b).
func diffLines(a, b []codeLine) (old, corrected []DiffLine) {
	// The keyed lines of each file, by index.
	var ai, bi []int
	for i, l := range a {
		if l.key != "" {
			ai = append(ai, i)
		}
	}
	for i, l := range b {
		if l.key != "" {
			bi = append(bi, i)
		}
	}
	// lcs[i][j] is the length of the longest common subsequence of
	// ai[i:] and bi[j:]. The files are a few dozen lines each.
	lcs := make([][]int, len(ai)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(bi)+1)
	}
	for i := len(ai) - 1; i >= 0; i-- {
		for j := len(bi) - 1; j >= 0; j-- {
			if a[ai[i]].key == b[bi[j]].key {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	old = make([]DiffLine, len(a))
	for i, l := range a {
		old[i] = DiffLine{Code: l.html, Op: Same}
	}
	corrected = make([]DiffLine, len(b))
	for i, l := range b {
		corrected[i] = DiffLine{Code: l.html, Op: Same}
	}
	i, j := 0, 0
	for i < len(ai) && j < len(bi) {
		switch {
		case a[ai[i]].key == b[bi[j]].key:
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			old[ai[i]].Op = Removed
			i++
		default:
			corrected[bi[j]].Op = Added
			j++
		}
	}
	for ; i < len(ai); i++ {
		old[ai[i]].Op = Removed
	}
	for ; j < len(bi); j++ {
		corrected[bi[j]].Op = Added
	}
	return old, corrected
}
