package text

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestGlossaryWellFormed: every term names what to use, and what is an
// error in prose is an error in the interface too.
func TestGlossaryWellFormed(t *testing.T) {
	for _, term := range Glossary {
		if term.Concept == "" || (len(term.Use) == 0 && len(term.Never) == 0) {
			t.Errorf("glossary term %+v: no concept, or nothing to use or avoid", term)
		}
		for _, v := range term.NeverInProse {
			if !slices.ContainsFunc(term.Never, func(n string) bool { return strings.Contains(v, n) }) {
				t.Errorf("%s: %q is forbidden in prose but not in the interface", term.Concept, v)
			}
		}
		for _, u := range term.Use {
			if len(Misused(u, false)) > 0 {
				t.Errorf("%s: the approved form %q is itself forbidden: %v", term.Concept, u, Misused(u, false))
			}
		}
	}
}

func sortedKeys(l Lang) []string {
	ks := Keys(l)
	sort.Strings(ks)
	return ks
}

// TestKoreanInterfaceUsesGlossary: no Korean interface text uses a variant
// the glossary forbids.
func TestKoreanInterfaceUsesGlossary(t *testing.T) {
	for _, k := range sortedKeys(Korean) {
		for _, m := range Misused(Korean.T(k), false) {
			t.Errorf("ko %q uses %q (%s): use %q. Text: %s", k, m.Variant, m.Term.Concept, m.Term.Use, Korean.T(k))
		}
	}
}

// TestKoreanIDsBesideLabels: a preset's Korean label shows its id first,
// then the id's label, "common (흔한 설정: …)", since the lessons and the
// run titles name the id with that label: one word per concept. Every id
// label is Korean, and Named writes it beside the id on a Korean page
// only.
func TestKoreanIDsBesideLabels(t *testing.T) {
	for _, k := range sortedKeys(Korean) {
		if id, ok := strings.CutPrefix(k, "panel.preset."); ok {
			if want := id + " (" + Label(Korean, id); !strings.HasPrefix(Korean.T(k), want) {
				t.Errorf("ko %q = %q: should start with the id and its label, %q", k, Korean.T(k), want)
			}
		}
		if id, ok := strings.CutPrefix(k, "id."); ok {
			label := Korean.T(k)
			if !strings.ContainsFunc(label, func(r rune) bool { return r >= '가' && r <= '힣' }) {
				t.Errorf("ko %q = %q: a label beside an English id says it in Korean", k, label)
			}
			if got, want := Named(Korean, id), id+" ("+label+")"; got != want {
				t.Errorf("Named(ko, %q) = %q, want %q", id, got, want)
			}
			if got := Named(English, id); got != id {
				t.Errorf("Named(en, %q) = %q: an English page shows the id alone", id, got)
			}
		}
	}
}

// TestTextsAfterAnID: trace.js shows an explanation as "<id>: <text>", so
// a text must read on its own after the colon: no leading particle or
// "was", no colon of its own before the reason (it uses " — ").
func TestTextsAfterAnID(t *testing.T) {
	for _, l := range Langs {
		for _, k := range sortedKeys(l) {
			if !strings.HasPrefix(k, "explain.") || k == "explain.none" {
				continue
			}
			s := l.T(k)
			for _, bad := range []string{" ", "이(", "가 ", "은(", "는 ", "을(", "를 ", "was ", "is "} {
				if strings.HasPrefix(s, bad) {
					t.Errorf("%s %q starts with %q, which leans on the id before it: %s", l, k, bad, s)
				}
			}
			if strings.Contains(s, ":") {
				t.Errorf("%s %q has a colon; after \"<id>: \" it would be the second: %s", l, k, s)
			}
		}
	}
}

// TestPredictionLegend: views/lesson.templ writes the legend as
// predict.title + ": " + panel.predict, so panel.predict has no colon.
func TestPredictionLegend(t *testing.T) {
	for _, l := range Langs {
		if s := l.T("panel.predict"); strings.Contains(s, ":") {
			t.Errorf("%s panel.predict %q has a colon; the legend %q would have two", l, s, l.T("predict.title")+": "+s)
		}
	}
}

// koLines calls f with every line of every Korean lesson outside fenced
// code, with its file name and line number.
func koLines(t *testing.T, f func(file string, n int, line string)) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "content", "*.ko.md"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Korean lessons in ../content (%v)", err)
	}
	for _, name := range files {
		fh, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		fenced := false
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			if strings.HasPrefix(strings.TrimSpace(line), "```") {
				fenced = !fenced
				continue
			}
			if !fenced {
				f(filepath.Base(name), n, line)
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestKoreanLessonsUseGlossary: no Korean lesson uses a variant that is an
// unambiguous error in prose (충돌 for a crash, 지켜짐/깨짐 for a verdict,
// 실행 파일, 차단됨, 추적, 순번).
func TestKoreanLessonsUseGlossary(t *testing.T) {
	koLines(t, func(file string, n int, line string) {
		for _, m := range Misused(line, true) {
			t.Errorf("content/%s:%d uses %q (%s): use %q", file, n, m.Variant, m.Term.Concept, m.Term.Use)
		}
	})
}

// TestKoreanLessonsAdvisory logs, without failing, the lesson lines that
// use a variant forbidden in the interface but possibly legitimate in prose
// (응답 of a fetch, 반복 of a loop): a reviewer reads them with -v.
func TestKoreanLessonsAdvisory(t *testing.T) {
	koLines(t, func(file string, n int, line string) {
		strict := map[string]bool{}
		for _, m := range Misused(line, true) {
			strict[m.Variant] = true
		}
		for _, m := range Misused(line, false) {
			if !strict[m.Variant] {
				t.Logf("content/%s:%d: %q (%s)? the glossary uses %q", file, n, m.Variant, m.Term.Concept, m.Term.Use)
			}
		}
	})
}
