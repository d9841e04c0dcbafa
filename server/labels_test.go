package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/text"
)

// catalogIDs are the ids a Korean page may show only with their Korean
// labels: every guarantee, preset and fault but "none", an English word in
// too many other places (acks, expect=…) to stand for the fault alone.
func catalogIDs() []string {
	var ids []string
	for _, g := range lessons.Guarantees() {
		ids = append(ids, string(g.ID))
		for _, p := range g.Presets {
			if !slices.Contains(ids, string(p)) {
				ids = append(ids, string(p))
			}
		}
	}
	for _, f := range lessons.Faults() {
		if f.ID != lessons.NoFault {
			ids = append(ids, string(f.ID))
		}
	}
	return ids
}

// shownKinds are the trace event kinds a run page writes as words: the
// processor lane's commits and a followed deposit's history.
var shownKinds = []string{"send", "ack", "retry", "error", "fetch", "credit", "commit", "txn-begin", "txn-commit", "txn-abort", "crash", "restart", "skip", "record", "audit", "fault"}

// idToken finds id as a word of its own: not part of a longer id
// ("produce-ack-lost" in "produce-ack-lost-x"), of an identifier
// ("consumer.commit()", "CommitMessages") or of a path.
func idToken(id string) *regexp.Regexp {
	return regexp.MustCompile(`(^|[^A-Za-z0-9_.\-/=])` + regexp.QuoteMeta(id) + `($|[^A-Za-z0-9_\-/(])`)
}

// shownText is a text node of a page and the text of the element around
// it: where its label must be.
type shownText struct{ own, around string }

// unlabelled lists, for a Korean page's texts, each id shown with no
// Korean label in the element around it.
func unlabelled(t *testing.T, texts []shownText, ids []string) []string {
	t.Helper()
	var out []string
	for _, id := range ids {
		label := text.Label(text.Korean, id)
		if label == "" {
			t.Errorf("id %q has no Korean label: add \"id.%s\" to lessons/text", id, id)
			continue
		}
		re := idToken(id)
		for _, s := range texts {
			if re.MatchString(s.own) && !strings.Contains(s.around, label) {
				out = append(out, id+" without \""+label+"\" in: "+strings.Join(strings.Fields(s.around), " "))
			}
		}
	}
	return out
}

// pageTexts are doc's text nodes outside code samples (<pre>), scripts and
// styles, each with its parent element's text.
func pageTexts(doc *goquery.Document) []shownText {
	var out []shownText
	doc.Find("body *").Not("script, style, pre, pre *").Each(func(_ int, s *goquery.Selection) {
		for _, n := range s.Nodes {
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.TextNode && strings.TrimSpace(c.Data) != "" {
					around := s
					if goquery.NodeName(s) == "code" {
						around = s.Parent()
					}
					out = append(out, shownText{own: c.Data, around: around.Text()})
				}
			}
		}
	})
	return out
}

// TestKoreanPagesLabelIDs: every Korean page, as the server renders it,
// writes each guarantee, preset and fault id with its Korean label in the
// same element (or, for an id in <code>, the element around it): the run
// form, the presenter's fault menu and run title, the lessons' prose.
func TestKoreanPagesLabelIDs(t *testing.T) {
	a, _ := newTestApp(t, 2)
	_, out := post(t, a, "/api/runs", "", `{"guarantee":"at-least-once","preset":"common","fault":"processor-crash","messages":5,"pace_ms":0,"presenter":true}`)
	id, _ := out["id"].(string)
	if id == "" {
		t.Fatalf("no run started: %v", out)
	}
	pages := []string{"/", "/lessons/at-most-once", "/lessons/at-least-once", "/lessons/exactly-once", "/compare", "/clients", "/runs/" + id + "?presenter=1"}
	for _, p := range pages {
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		rec, doc := getPage(t, a, p+sep+"lang=ko")
		if rec.Code != 200 {
			t.Errorf("%s: %d", p, rec.Code)
			continue
		}
		for _, u := range unlabelled(t, pageTexts(doc), catalogIDs()) {
			t.Errorf("ko %s: %s", p, u)
		}
	}
	// The check itself: an id alone on a Korean page is found.
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(`<body><p>The <code>common</code> preset.</p><select><option>processor-crash</option></select><p>processor-crash (처리기 비정상 종료)</p></body>`))
	if got := unlabelled(t, pageTexts(doc), catalogIDs()); len(got) != 2 {
		t.Errorf("the check found %q, want common and the bare option", got)
	}
}
