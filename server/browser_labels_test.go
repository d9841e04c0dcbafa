package main

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
)

// liveTexts is the live DOM's text under root, as shownTexts: every text
// node outside code samples, with the text of the element around it (for
// an id in <code>, its parent's).
func liveTexts(t *testing.T, ctx context.Context, root string) []shownText {
	t.Helper()
	js := `(() => {
	  const out = [];
	  const w = document.createTreeWalker(document.querySelector(` + "`" + root + "`" + `), NodeFilter.SHOW_TEXT);
	  for (let n = w.nextNode(); n; n = w.nextNode()) {
	    const p = n.parentElement;
	    if (!n.data.trim() || !p || p.closest("pre, script, style")) continue;
	    const around = p.tagName === "CODE" ? p.parentElement : p;
	    out.push({own: n.data, around: around.textContent});
	  }
	  return out;
	})()`
	var raw []struct{ Own, Around string }
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]struct{ Own, Around string }](js))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]shownText, len(raw))
	for i, r := range raw {
		out[i] = shownText{r.Own, r.Around}
	}
	return out
}

// TestBrowserKoreanLabelsLive: on a Korean page, the live run (its title,
// its picture and event lanes, a followed deposit's history, during the
// run and after it) and the presenter's view (title, fault menu) write no
// guarantee, preset, fault id or event kind without its Korean label. The
// English page shows the ids alone.
func TestBrowserKoreanLabelsLive(t *testing.T) {
	needChromium(t)
	ids := append(catalogIDs(), shownKinds...)
	check := func(where string, texts []shownText) {
		t.Helper()
		for _, u := range unlabelled(t, texts, ids) {
			t.Errorf("%s: %s", where, u)
		}
	}

	// A lesson page: an exactly-once crash, slow enough to look at
	// while it runs.
	ctx, _, _ := openRunPage(t, "/lessons/exactly-once?lang=ko")
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[name=fault][value="processor-crash"]`)),
		chromedp.SetValue(chromedp.CSS(`input[name=messages]`), "20"),
		chromedp.SetValue(chromedp.CSS(`input[name=pace_ms]`), "60"),
		chromedp.Click(chromedp.CSS("[data-testid=run-button]")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=picture] .box[data-id="d-000005"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	check("ko lesson, during the run", liveTexts(t, ctx, "[data-testid=run]"))
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS("[data-testid=verdict-word]")),
		chromedp.Click(chromedp.CSS(`[data-testid=picture] .box[data-id="d-000010"]`)),
	); err != nil {
		t.Fatal(err)
	}
	after := liveTexts(t, ctx, "[data-testid=run]")
	check("ko lesson, after the run", after)
	// What the check must have seen: the run's title and a followed
	// deposit's commit, both with their labels.
	if !slices.ContainsFunc(after, func(s shownText) bool { return idToken("processor-crash").MatchString(s.own) }) ||
		!slices.ContainsFunc(after, func(s shownText) bool { return idToken("txn-commit").MatchString(s.own) }) {
		t.Errorf("ko lesson: the run shows neither its fault nor a txn-commit to check: %d texts", len(after))
	}
	shootElement(t, ctx, "[data-testid=run]", "labels-lesson-run-ko")

	// The presenter's view of a run started from the API.
	a, _ := newTestApp(t, 2)
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	_, out := post(t, a, "/api/runs", "", `{"guarantee":"at-least-once","preset":"common","fault":"processor-crash","messages":20,"pace_ms":20,"presenter":true}`)
	id, token := out["id"].(string), out["control_token"].(string)
	pctx := visitor(t, ctx)
	openAsPresenter(t, pctx, srv.URL, id, token)
	if err := chromedp.Do(pctx,
		chromedp.Navigate(srv.URL+"/runs/"+id+"?presenter=1&lang=ko"),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=verdict-word]")),
	); err != nil {
		t.Fatal(err)
	}
	pres := liveTexts(t, pctx, "body")
	check("ko presenter", pres)
	shoot(t, pctx, "labels-presenter-ko")

	// English pages keep the ids alone.
	if err := chromedp.Do(pctx, chromedp.Navigate(srv.URL+"/runs/"+id+"?presenter=1&lang=en"), chromedp.WaitVisible(chromedp.CSS("[data-testid=verdict-word]"))); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(pctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=run] h3").textContent`))
	if err != nil || title != "at-least-once · common · processor-crash · 20" {
		t.Errorf("en run title %q (%v), want the ids alone", title, err)
	}
}
