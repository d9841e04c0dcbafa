package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/kafka-delivery-lab/lab/lessons/content"
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
