package main

import (
	"encoding/json"
	"io/fs"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/kafka-delivery-lab/lab/lessons"
)

// TestPagesFollowTheCatalog: every list a page, a script or the API shows
// is the catalog's. A fault, guarantee or preset added to lessons/catalog.go
// appears everywhere; one written into a page by hand fails here.
func TestPagesFollowTheCatalog(t *testing.T) {
	a, _ := newTestApp(t, 1)
	want := lessons.Catalog()
	ids := func(sel *goquery.Selection, attr string) []string {
		var out []string
		sel.Each(func(_ int, s *goquery.Selection) { out = append(out, s.AttrOr(attr, "")) })
		return out
	}
	var guarantees, faults, injectable []string
	for _, g := range want.Guarantees {
		guarantees = append(guarantees, string(g.ID))
	}
	for _, f := range want.Faults {
		faults = append(faults, string(f.ID))
	}
	for _, f := range want.Injectable {
		injectable = append(injectable, string(f))
	}
	same := func(what string, got, want []string) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %q, want the catalog's %q", what, got, want)
		}
	}

	// The API.
	var doc lessons.Document
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, labRequest("GET", "/api/catalog", nil))
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || !reflect.DeepEqual(doc, want) {
		t.Fatalf("GET /api/catalog: %v, %s", err, rec.Body)
	}
	var listed []struct {
		ID    string          `json:"id"`
		Claim map[string]bool `json:"claim"`
	}
	rec = httptest.NewRecorder()
	a.ServeHTTP(rec, labRequest("GET", "/api/guarantees", nil))
	if err := json.Unmarshal(rec.Body.Bytes(), &listed); err != nil || len(listed) != len(guarantees) {
		t.Fatalf("GET /api/guarantees: %v %s", err, rec.Body)
	}
	for i, g := range listed {
		if g.ID != guarantees[i] || len(g.Claim) != 2 || g.Claim["no_loss"] != want.Guarantees[i].Claim.NoLoss {
			t.Errorf("GET /api/guarantees[%d] = %+v, want %s with claim {no_loss, no_duplicates}", i, g, guarantees[i])
		}
	}

	for _, lang := range []string{"en", "ko"} {
		_, home := getPage(t, a, "/?lang="+lang)
		var embedded lessons.Document
		page := want
		page.Claims = nil // no script reads the claim table
		if err := json.Unmarshal([]byte(home.Find("script#lab-catalog").Text()), &embedded); err != nil || !reflect.DeepEqual(embedded, page) {
			t.Fatalf("home %s: the page's lab-catalog is not the catalog: %v", lang, err)
		}
		same("site nav", ids(home.Find(`nav a[href^="/lessons/"]`), "href"), func() []string {
			var out []string
			for _, g := range guarantees {
				out = append(out, "/lessons/"+g+"?lang="+lang)
			}
			return out
		}())
		// The home table: a row per guarantee, a column per injectable
		// fault, each cell the strict preset's claim.
		rows := home.Find(`[data-testid=comparison] tbody tr`)
		if rows.Length() != len(guarantees) {
			t.Fatalf("home %s: %d rows, want %d", lang, rows.Length(), len(guarantees))
		}
		rows.Each(func(i int, row *goquery.Selection) {
			same("home row "+guarantees[i]+" faults", ids(row.Find("td[data-fault]"), "data-fault"), injectable)
			row.Find("td[data-fault]").Each(func(_ int, td *goquery.Selection) {
				c, _ := lessons.LookupClaim(lessons.GuaranteeID(guarantees[i]), lessons.Strict, lessons.FaultID(td.AttrOr("data-fault", "")))
				if td.AttrOr("data-lost", "") != string(c.Lost) || td.AttrOr("data-duplicated", "") != string(c.Duplicated) || td.AttrOr("data-verdict", "") != string(c.Verdict) {
					t.Errorf("home %s: %s/%s cell says lost %s dup %s verdict %s, the claim table %+v", lang, guarantees[i], td.AttrOr("data-fault", ""),
						td.AttrOr("data-lost", ""), td.AttrOr("data-duplicated", ""), td.AttrOr("data-verdict", ""), c)
				}
			})
		})

		for _, g := range want.Guarantees {
			_, page := getPage(t, a, "/lessons/"+string(g.ID)+"?lang="+lang)
			same("lesson "+string(g.ID)+" fault choices", ids(page.Find(`[data-testid=run-form] input[name=fault]`), "value"), faults)
			var presets []string
			for _, p := range g.Presets {
				presets = append(presets, string(p))
			}
			same("lesson "+string(g.ID)+" preset choices", ids(page.Find(`[data-testid=run-form] input[name=preset]`), "value"), presets)
		}
		_, compare := getPage(t, a, "/compare?lang="+lang)
		same("compare rows", ids(compare.Find(`[data-testid=compare-table] tbody tr`), "data-guarantee"), guarantees)
		same("compare fault choices", ids(compare.Find(`[data-testid=run-form] input[name=fault]`), "value"), faults)
	}

	// The scripts take every list from the catalog: none names a guarantee,
	// preset or fault in a string of its own.
	var literal []string
	// ("none" is also a prediction's answer; the other ids are only ids.)
	for _, id := range append(append(guarantees, faults[1:]...), "common", "strict") {
		literal = append(literal, regexp.QuoteMeta(`"`+id+`"`))
	}
	named := regexp.MustCompile(strings.Join(literal, "|"))
	static := os.DirFS("../web/static")
	err := fs.WalkDir(static, "js", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, name)
		if m := named.Find(b); m != nil {
			t.Errorf("%s names %s itself: take it from the catalog (catalog.js)", name, m)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
