package text

import (
	"slices"
	"testing"
)

func TestEveryKeyInBothLanguages(t *testing.T) {
	for _, a := range Langs {
		for _, b := range Langs {
			for _, k := range Keys(a) {
				if !slices.Contains(Keys(b), k) {
					t.Errorf("key %q is in %s but not in %s", k, a, b)
				}
			}
		}
	}
	for _, l := range Langs {
		for _, k := range Keys(l) {
			if l.T(k) == "" {
				t.Errorf("%s: key %q is empty", l, k)
			}
		}
	}
}

func TestFromAcceptLanguage(t *testing.T) {
	for h, want := range map[string]Lang{
		"":                       English,
		"ko-KR,ko;q=0.9,en;q=.8": Korean,
		"fr-FR, en;q=0.5":        English,
		"de":                     English,
		"EN-us":                  English,
		"ko":                     Korean,
	} {
		if got := FromAcceptLanguage(h); got != want {
			t.Errorf("%q: got %s, want %s", h, got, want)
		}
	}
}
