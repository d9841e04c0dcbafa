package text_test

import (
	"slices"
	"testing"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/text"
)

// TestCatalogTexts: everything in the catalog has its words in every
// language: a guarantee its name, meaning, fit and a sentence per fault
// for the home table; a preset its label; a fault its description, its
// home-table heading and its explanations; each id the label a Korean
// page writes beside it (id.<id>). Adding a fault, preset or
// guarantee to lessons/catalog.go without them fails here.
func TestCatalogTexts(t *testing.T) {
	var keys []string
	for _, g := range lessons.Guarantees() {
		keys = append(keys, g.TextKey, g.TextKey+".meaning", g.TextKey+".fits", "id."+string(g.ID))
		for _, f := range lessons.Injectable() {
			keys = append(keys, g.TextKey+"."+string(f))
		}
		for _, p := range g.Presets {
			keys = append(keys, "panel.preset."+string(p), "id."+string(p))
		}
	}
	for _, f := range lessons.Faults() {
		keys = append(keys, f.TextKey, "id."+string(f.ID))
		if f.ID != lessons.NoFault {
			keys = append(keys, "home.col."+string(f.ID))
		}
		for _, k := range f.Explains {
			keys = append(keys, k)
		}
	}
	for _, c := range []lessons.Count{lessons.None, lessons.Some, lessons.Any} {
		keys = append(keys, "claim."+string(c))
	}
	for _, l := range text.Langs {
		have := text.Keys(l)
		for _, k := range keys {
			if !slices.Contains(have, k) {
				t.Errorf("%s: no text %q", l, k)
			}
		}
	}
}

// TestSandboxTexts: every knob, blame and level of the sandbox has its
// words in every language.
func TestSandboxTexts(t *testing.T) {
	var keys []string
	for _, k := range lessons.Knobs() {
		keys = append(keys, "sandbox.knob."+k.Name)
	}
	for _, l := range lessons.Levels() {
		keys = append(keys, "level."+l.ID+".title", "level."+l.ID+".story")
	}
	for _, k := range []string{"acks-none", "no-retries", "commit-before", "retries-without-idempotence", "commit-outside-transaction"} {
		keys = append(keys, "blame."+k)
	}
	for _, l := range text.Langs {
		have := text.Keys(l)
		for _, k := range keys {
			if !slices.Contains(have, k) {
				t.Errorf("%s: no text %q", l, k)
			}
		}
	}
}
