package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/content"
	"github.com/kafka-delivery-lab/lab/lessons/runs"
	"github.com/kafka-delivery-lab/lab/lessons/text"
)

func getPage(t *testing.T, h http.Handler, path string, header ...string) (*httptest.ResponseRecorder, *goquery.Document) {
	t.Helper()
	req := labRequest("GET", path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	return rec, doc
}

// TestPagesByLanguage: every page renders in both languages, with the
// sections, samples and run panel a learner needs, found by data-testid.
func TestPagesByLanguage(t *testing.T) {
	a, _ := newTestApp(t, 1)
	for _, lang := range []string{"en", "ko"} {
		rec, doc := getPage(t, a, "/?lang="+lang)
		if rec.Code != 200 || doc.Find("html").AttrOr("lang", "") != lang {
			t.Fatalf("home %s: %d, lang %q", lang, rec.Code, doc.Find("html").AttrOr("lang", ""))
		}
		for _, g := range []string{"at-most-once", "at-least-once", "exactly-once"} {
			if doc.Find(`[data-testid=comparison] [data-testid=guarantee-`+g+`]`).Length() != 1 {
				t.Errorf("home %s: comparison table lacks %s", lang, g)
			}

			rec, doc := getPage(t, a, "/lessons/"+g+"?lang="+lang)
			if rec.Code != 200 {
				t.Fatalf("lesson %s %s: %d %s", g, lang, rec.Code, rec.Body)
			}
			if doc.Find("html").AttrOr("lang", "") != lang {
				t.Errorf("lesson %s: html lang %q, want %s", g, doc.Find("html").AttrOr("lang", ""), lang)
			}
			for _, s := range content.RequiredSections {
				if doc.Find(`[data-testid=section-`+s+`]`).Length() != 1 {
					t.Errorf("lesson %s %s lacks section %s", g, lang, s)
				}
			}
			samples := doc.Find(`[data-testid=sample]`)
			var langs []string
			samples.Each(func(_ int, s *goquery.Selection) { langs = append(langs, s.AttrOr("data-language", "")) })
			joined := strings.Join(langs, ",")
			if !strings.Contains(joined, "go") || !strings.Contains(joined, "python") {
				t.Errorf("lesson %s %s shows samples in %v, want Go and Python", g, lang, langs)
			}
			samples.Each(func(_ int, s *goquery.Selection) {
				if strings.TrimSpace(s.Find("pre").Text()) == "" {
					t.Errorf("lesson %s %s: sample %s is empty", g, lang, s.AttrOr("data-sample", ""))
				}
			})
			if doc.Find(`[data-testid=run-panel][data-guarantee=`+g+`]`).Length() != 1 {
				t.Errorf("lesson %s %s has no run panel for its guarantee", g, lang)
			}
			if doc.Find(`[data-testid=scenario]`).Length() < 3 {
				t.Errorf("lesson %s %s offers fewer than 3 runs", g, lang)
			}
			if n := doc.Find(`input[name=fault]`).Length(); n != len(lessons.Faults()) {
				t.Errorf("lesson %s %s: %d faults in the picker", g, lang, n)
			}
			if !strings.Contains(doc.Find(`[data-testid=terminal]`).Text(), testBroker.Addrs()[0]) {
				t.Errorf("lesson %s %s: the terminal box does not show the broker address", g, lang)
			}
		}
		rec, doc = getPage(t, a, "/compare?lang="+lang)
		if rec.Code != 200 || doc.Find(`[data-testid=compare-table] tbody tr`).Length() != 3 {
			t.Errorf("compare %s: %d, rows %d", lang, rec.Code, doc.Find(`[data-testid=compare-table] tbody tr`).Length())
		}
	}
}

func TestLanguageChoice(t *testing.T) {
	a, _ := newTestApp(t, 1)
	_, doc := getPage(t, a, "/", "Accept-Language", "ko-KR,ko;q=0.9")
	if doc.Find("html").AttrOr("lang", "") != "ko" {
		t.Error("Accept-Language ko should give Korean")
	}
	rec, _ := getPage(t, a, "/?lang=en", "Accept-Language", "ko")
	cookie := rec.Header().Get("Set-Cookie")
	if !strings.Contains(cookie, "lang=en") {
		t.Fatalf("?lang= should be remembered, Set-Cookie %q", cookie)
	}
	_, doc = getPage(t, a, "/", "Accept-Language", "ko", "Cookie", "lang=en")
	if doc.Find("html").AttrOr("lang", "") != "en" {
		t.Error("the remembered language should win over Accept-Language")
	}
}

// TestSecurityHeaders: every page and API answer carries the CSP (no inline
// script or style), nosniff, a referrer policy and frame-ancestors.
func TestSecurityHeaders(t *testing.T) {
	a, _ := newTestApp(t, 1)
	for _, path := range []string{"/", "/lessons/exactly-once", "/compare", "/healthz", "/api/faults", "/api/runs/nope"} {
		rec, doc := getPage(t, a, path)
		h := rec.Header()
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: headers %v", path, h)
		}
		// A JSON data block is not executed, so the CSP does not apply.
		doc.Find(`script:not([type="application/json"])`).Each(func(_ int, s *goquery.Selection) {
			if _, ok := s.Attr("src"); !ok {
				t.Errorf("%s: inline script %q", path, s.Text())
			}
		})
		if doc.Find("[style]").Length() > 0 {
			t.Errorf("%s: inline style attribute", path)
		}
		doc.Find("[onclick],[onload],[onerror]").Each(func(_ int, s *goquery.Selection) {
			t.Errorf("%s: inline event handler", path)
		})
	}
}

// importRE finds a module's imports of its sibling modules, static and
// dynamic (a run's picture, its deposits in flight and a large run's charts
// load when a run is shown: a lesson's "Try it" shows one).
var importRE = regexp.MustCompile(`(?:from ?|import\()"\./([a-z]+\.js)"`)

// TestAssetsCacheForever: assets are served under content-hashed URLs with
// long caching, and a lesson page with all its assets (every module it
// imports, and those its runs load) weighs at most 180 KB.
func TestAssetsCacheForever(t *testing.T) {
	a, _ := newTestApp(t, 1)
	rec, doc := getPage(t, a, "/lessons/exactly-once?lang=ko")
	total := rec.Body.Len()
	doc.Find(`link[rel=stylesheet], script[src]`).Each(func(_ int, s *goquery.Selection) {
		url := s.AttrOr("href", s.AttrOr("src", ""))
		r, _ := getPage(t, a, url)
		if r.Code != 200 || !strings.Contains(r.Header().Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %d, Cache-Control %q", url, r.Code, r.Header().Get("Cache-Control"))
		}
		total += r.Body.Len()
	})
	// The modules lesson.js imports, and theirs, come under its own
	// hashed URL's folder.
	seen := map[string]bool{}
	var follow func(name string)
	follow = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		r, _ := getPage(t, a, "/static/x/js/"+name)
		if r.Code != 200 {
			t.Errorf("module %s: %d", name, r.Code)
			return
		}
		if name != "lesson.js" { // counted above, under its own URL
			total += r.Body.Len()
		}
		for _, m := range importRE.FindAllStringSubmatch(r.Body.String(), -1) {
			follow(m[1])
		}
	}
	follow("lesson.js")
	t.Logf("lesson page with assets: %d bytes (%d modules)", total, len(seen))
	if total > 180<<10 {
		t.Errorf("a lesson page with its assets is %d bytes, budget 180 KB", total)
	}
}

// rawKey matches a text key shown instead of its text: the sign of a key
// missing from lessons/text.
var rawKey = regexp.MustCompile(`\b(site|nav|home|g|panel|fault|trace|verdict|result|error|terminal|compare|explain|watch|control|replay|predict|progress|lesson|broker|lang|clients)\.[a-z][a-z0-9.-]*\b`)

// TestNoRawTextKeys: no page shows a text key instead of its text, in
// either language, and every key the scripts use exists.
func TestNoRawTextKeys(t *testing.T) {
	a, reg := newTestApp(t, 1)
	r, err := reg.Start(runs.Request{RunParams: lessons.RunParams{Guarantee: "at-most-once", Fault: "none"}, Presenter: true})
	if err != nil {
		t.Fatal(err)
	}
	<-r.Done
	for _, lang := range []string{"en", "ko"} {
		for _, path := range []string{"/", "/lessons/at-most-once", "/lessons/at-least-once", "/lessons/exactly-once", "/compare", "/clients", "/replay", "/runs/" + r.ID} {
			_, doc := getPage(t, a, path+"?lang="+lang)
			doc.Find("pre, code, script").Remove()
			if m := rawKey.FindAllString(doc.Find("body").Text(), 5); len(m) > 0 {
				t.Errorf("%s %s shows raw text keys %v", lang, path, m)
			}
		}
	}
	shipped := map[string]string{} // the script texts some page gives
	for _, page := range []map[text.Lang]string{sandboxI18N, homeI18N, replayI18N} {
		if err := json.Unmarshal([]byte(page[text.English]), &shipped); err != nil {
			t.Fatal(err)
		}
	}
	jsKey := regexp.MustCompile(`t\["([a-z][a-z0-9.-]*)"\]`)
	files, _ := filepath.Glob(filepath.Join("..", "web", "static", "js", "*.js"))
	for _, f := range files {
		src, _ := os.ReadFile(f)
		for _, m := range jsKey.FindAllStringSubmatch(string(src), -1) {
			for _, l := range text.Langs {
				if l.T(m[1]) == m[1] {
					t.Errorf("%s uses text key %q, missing in %s", filepath.Base(f), m[1], l)
				}
			}
			if _, ok := shipped[m[1]]; !ok {
				t.Errorf("%s uses text key %q, which no page gives its scripts (server/panel.go scriptTexts, serverOnly)", filepath.Base(f), m[1])
			}
		}
	}
}
