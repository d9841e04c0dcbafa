package main

import (
	"strings"
	"testing"

	"github.com/kafka-delivery-lab/lab/lessons/clients"
	"github.com/kafka-delivery-lab/lab/lessons/text"
)

// TestClientsPage: /clients renders every cell of the committed
// matrix.json — its mark, value, evidence and link — and every column's
// version, date and broker, in both languages.
func TestClientsPage(t *testing.T) {
	a, _ := newTestApp(t, 1)
	m, err := clients.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range text.Langs {
		lang := string(l)
		rec, doc := getPage(t, a, "/clients?lang="+lang)
		if rec.Code != 200 || doc.Find("html").AttrOr("lang", "") != lang {
			t.Fatalf("/clients %s: %d, lang %q", lang, rec.Code, doc.Find("html").AttrOr("lang", ""))
		}
		if got, want := doc.Find("h1").First().Text(), l.T("clients.title"); got != want {
			t.Errorf("/clients %s: h1 %q, want %q", lang, got, want)
		}
		for _, r := range clients.Rows {
			row := doc.Find(`[data-testid="clients-row-` + r.ID + `"]`)
			if row.Length() != 1 {
				t.Errorf("/clients %s: %d rows %s, want 1", lang, row.Length(), r.ID)
				continue
			}
			if got := strings.TrimSpace(row.Find("th").Text()); got != l.T("clients.row."+r.ID) {
				t.Errorf("/clients %s: row %s labelled %q, want %q", lang, r.ID, got, l.T("clients.row."+r.ID))
			}
		}
		for _, c := range m.Cells {
			td := doc.Find(`[data-testid="cell-` + c.Row + `-` + c.Client + `"]`)
			if td.Length() != 1 {
				t.Errorf("/clients %s: %d cells %s × %s, want 1", lang, td.Length(), c.Row, c.Client)
				continue
			}
			if got := td.Find(".mark").Text(); got != c.Mark() {
				t.Errorf("/clients %s: %s × %s mark %q, want %q", lang, c.Row, c.Client, got, c.Mark())
			}
			if got := td.Find(`[data-field=value]`).Text(); got != c.Value {
				t.Errorf("/clients %s: %s × %s value %q, want %q", lang, c.Row, c.Client, got, c.Value)
			}
			if got := td.Find(`[data-field=evidence]`).Text(); got != c.Evidence {
				t.Errorf("/clients %s: %s × %s evidence %q, want %q", lang, c.Row, c.Client, got, c.Evidence)
			}
			if c.Link != "" && td.Find(`a[href="`+c.Link+`"]`).Length() != 1 {
				t.Errorf("/clients %s: %s × %s lacks its evidence link %s", lang, c.Row, c.Client, c.Link)
			}
		}
		for _, c := range m.Clients {
			if got := doc.Find(`[data-testid="client-` + c.ID + `"]`).Text(); !strings.Contains(got, c.Name) || !strings.Contains(got, c.Version) {
				t.Errorf("/clients %s: column %s header %q, want its name and version", lang, c.ID, got)
			}
			tr := doc.Find(`[data-testid="measured-` + c.ID + `"]`)
			for field, want := range map[string]string{"version": c.Version, "measured": c.Measured, "broker": c.Broker} {
				if got := tr.Find(`[data-field=` + field + `]`).Text(); got != want {
					t.Errorf("/clients %s: %s %s %q, want %q", lang, c.ID, field, got, want)
				}
			}
		}
		if doc.Find(`nav a[href="/clients?lang=`+lang+`"]`).Length() != 1 {
			t.Errorf("/clients %s: the nav has no link to /clients", lang)
		}
	}
}
