package main

import (
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kafka-delivery-lab/lab/lessons/content"
	"github.com/kafka-delivery-lab/lab/web"
)

var update = flag.Bool("update", false, "rewrite generated files (web/static/css/highlight.css)")

// TestHighlightCSSIsFresh: the samples' highlighting classes come from
// chroma; their stylesheet is a static file so the CSP needs no inline
// style. Regenerate with: go test ./server -run HighlightCSS -update
func TestHighlightCSSIsFresh(t *testing.T) {
	path := filepath.Join("..", "web", "static", "css", "highlight.css")
	want := content.HighlightCSS()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != want {
		t.Fatalf("%s is stale or missing (%v): run go test ./server -run HighlightCSS -update", path, err)
	}
}

// TestFavicon: /favicon.ico, which browsers ask for unprompted, leads to
// the embedded SVG icon the pages link to, an image the CSP allows.
func TestFavicon(t *testing.T) {
	a, _ := newTestApp(t, 1)
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, labRequest("GET", "/favicon.ico", nil))
	loc := rec.Header().Get("Location")
	if rec.Code != http.StatusFound || loc != web.URL("favicon.svg") {
		t.Fatalf("GET /favicon.ico: %d → %q", rec.Code, loc)
	}
	rec = httptest.NewRecorder()
	a.ServeHTTP(rec, labRequest("GET", loc, nil))
	if ct := rec.Header().Get("Content-Type"); rec.Code != http.StatusOK || ct != "image/svg+xml" || !strings.Contains(rec.Body.String(), "<svg") {
		t.Fatalf("GET %s: %d %q", loc, rec.Code, ct)
	}
}
