package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// evalAs evaluates js in the page and returns its value as a T, or fails
// the test.
func evalAs[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

func evalInt(t *testing.T, ctx context.Context, js string) int {
	t.Helper()
	return evalAs[int](t, ctx, js)
}

func pollTrue(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

const producerCells = `document.querySelectorAll("[data-testid=lane-producer] .cell").length`

// TestBrowserPresenterAndStudents: a presenter pauses and steps a shared run;
// two students who joined by code see the same deposits advance, cannot
// drive it, and see the same verdict. Then the run is downloaded and
// replayed without a broker, with the same verdict, and a learner's
// progress survives a reload.
func TestBrowserPresenterAndStudents(t *testing.T) {
	needChromium(t)
	a, _ := newTestApp(t, 4)
	srv := httptest.NewServer(a)
	defer srv.Close()
	_, root := browserWithAllocator(t)
	presenter, alice, bob := visitor(t, root), visitor(t, root), visitor(t, root)

	_, out := post(t, a, "/api/runs", "", `{"guarantee":"at-least-once","fault":"produce-ack-lost","messages":6,"presenter":true,"start_paused":true}`)
	id, token, join := out["id"].(string), out["control_token"].(string), out["join"].(string)

	openAsPresenter(t, presenter, srv.URL, id, token)
	for _, s := range []context.Context{alice, bob} {
		if err := chromedp.Do(s, chromedp.Navigate(srv.URL+join+"?lang=ko"), chromedp.WaitVisible(chromedp.CSS("[data-testid=readonly]"))); err != nil {
			t.Fatal(err)
		}
		// Checked by what is drawn, not by the attribute: CSS can override hidden.
		if evalInt(t, s, `document.querySelector("[data-testid=controls]").getClientRects().length`) != 0 {
			t.Fatal("a student sees the presenter's controls")
		}
	}
	for step := 1; step <= 4; step++ {
		if err := chromedp.Do(presenter, chromedp.Click(chromedp.CSS("[data-testid=step]"))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(400 * time.Millisecond)
	}
	want := evalInt(t, presenter, producerCells)
	if want < 1 {
		t.Fatal("stepping sent no deposit")
	}
	for _, s := range []context.Context{alice, bob} {
		pollTrue(t, s, "the student to see the same deposits", producerCells+` === `+strconv.Itoa(want))
	}
	// Paused, everyone may look back with the time slider: to its start,
	// where nothing was sent yet.
	for name, s := range map[string]context.Context{"presenter": presenter, "alice": alice} {
		pollTrue(t, s, name+"'s time slider", `!document.querySelector("[data-testid=time]").hidden`)
		if _, err := chromedp.Run(s, chromedp.Evaluate[any](`(() => { const s = document.querySelector("[data-testid=time]"); s.value = 0; s.dispatchEvent(new Event("input")); })()`)); err != nil {
			t.Fatal(err)
		}
		if n := evalInt(t, s, `document.querySelectorAll("[data-testid=picture] .box.sent, [data-testid=picture] .box.acked").length`); n != 0 {
			t.Errorf("%s: at the slider's start the picture shows %d sent deposits", name, n)
		}
		if _, err := chromedp.Run(s, chromedp.Evaluate[any](`(() => { const s = document.querySelector("[data-testid=time]"); s.value = s.max; s.dispatchEvent(new Event("input")); })()`)); err != nil {
			t.Fatal(err)
		}
	}
	shoot(t, presenter, "presenter-paused-en")
	shoot(t, alice, "student-paused-ko")

	// A student's attempt to drive the run is refused with a reason.
	status, err := chromedp.Run(alice, chromedp.Evaluate[int](`fetch("/api/runs/`+id+`/control", {method: "POST", headers: {"Content-Type": "application/json"}, body: '{"action":"resume"}'}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusForbidden {
		t.Fatalf("a student's control: %d, want 403", status)
	}

	if err := chromedp.Do(presenter, chromedp.Click(chromedp.CSS("[data-testid=resume]"))); err != nil {
		t.Fatal(err)
	}
	verdicts := map[string]string{}
	for name, s := range map[string]context.Context{"presenter": presenter, "alice": alice, "bob": bob} {
		pollTrue(t, s, name+"'s verdict", `!!document.querySelector("[data-testid=verdict-word]")`)
		v, _ := chromedp.Run(s, chromedp.Evaluate[string](`document.querySelector("[data-testid=run]").closest("article") && document.querySelector(".verdict").className`))
		verdicts[name] = v
	}
	if verdicts["alice"] != verdicts["presenter"] || verdicts["bob"] != verdicts["presenter"] {
		t.Fatalf("verdicts differ: %v", verdicts)
	}
	shoot(t, presenter, "presenter-done-en")

	// Replay the downloaded run: same verdict, no broker involved.
	resp, err := http.Get(srv.URL + "/api/runs/" + id + "/trace")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	file := filepath.Join(t.TempDir(), id+".json")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(bob,
		chromedp.Navigate(srv.URL+"/replay?lang=en"),
		chromedp.SetUploadFiles(chromedp.CSS("[data-testid=replay-file]"), []string{file}),
	)
	if err != nil {
		t.Fatal(err)
	}
	pollTrue(t, bob, "the replay's verdict", `!!document.querySelector("[data-testid=verdict-word]")`)
	if v, _ := chromedp.Run(bob, chromedp.Evaluate[string](`document.querySelector(".verdict").className`)); v != verdicts["presenter"] {
		t.Fatalf("replayed verdict %q, live %q", v, verdicts["presenter"])
	}
	shoot(t, bob, "replay-en")
}

// openAsPresenter opens run id's presenter view in browser ctx holding the
// run's control token, as after starting the run from a lesson page.
func openAsPresenter(t *testing.T, ctx context.Context, base, id, token string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/runs/"+id+"?presenter=1&lang=en"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[any](`localStorage.setItem("lab.token.`+id+`", "`+token+`")`)(ctx, tg)
			return err
		}),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=controls]")),
		chromedp.WaitReady(chromedp.CSS("[data-testid=run]")),
	)
	if err != nil {
		t.Fatal(err)
	}
}

// TestBrowserProgressSurvivesReload: a run with a prediction counts in the
// learner's progress, which the home page shows after a reload.
func TestBrowserProgressSurvivesReload(t *testing.T) {
	needChromium(t)
	ctx, _, base := openRunPage(t, "/lessons/exactly-once?lang=en")
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[name=fault][value="processor-crash"]`)),
		chromedp.Click(chromedp.CSS(`input[name=predict_lost][value="none"]`)),
		chromedp.Click(chromedp.CSS(`input[name=predict_dup][value="none"]`)),
		chromedp.Click(chromedp.CSS(`input[name=predict_recovered][value="none"]`)),
		chromedp.Click(chromedp.CSS(`input[name=predict_balance][value="equal"]`)),
		chromedp.SetValue(chromedp.CSS(`input[name=messages]`), "10"),
		chromedp.SetValue(chromedp.CSS(`input[name=pace_ms]`), "0"),
		chromedp.Click(chromedp.CSS("[data-testid=run-button]")),
	)
	if err != nil {
		t.Fatal(err)
	}
	pollTrue(t, ctx, "the prediction's result", `!!document.querySelector("[data-testid=prediction-result] li.right")`)
	// Each question, the guess against the outcome: lost, duplicated,
	// recovered and the balance against the 10 deposits, all right.
	if n := evalInt(t, ctx, `document.querySelectorAll("[data-testid=prediction-result] li.right").length`); n != 4 {
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=prediction-result]").outerHTML`))
		t.Fatalf("%d of 4 questions judged right:\n%s", n, html)
	}
	shoot(t, ctx, "lesson-prediction-en")
	// The progress record keeps the prediction itself.
	if n := evalInt(t, ctx, `JSON.parse(localStorage.getItem("lab.progress")).lessons["exactly-once"].predictions[0].items.filter(i => i.right && i.guess === i.actual).length`); n != 4 {
		t.Fatalf("the progress record keeps %d right answers of the prediction, want 4", n)
	}
	err = chromedp.Do(ctx, chromedp.Navigate(base+"/?lang=en"), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("[data-testid=progress]")))
	if err != nil {
		t.Fatal(err)
	}
	summary, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=progress-summary]").textContent`))
	href, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=continue]").getAttribute("href")`))
	if summary == "" || href != "/lessons/exactly-once?lang=en" {
		t.Fatalf("progress after reload: %q, continue → %q", summary, href)
	}
	if evalInt(t, ctx, `JSON.parse(localStorage.getItem("lab.progress")).lessons["exactly-once"].right`) != 1 {
		t.Fatal("the right prediction was not counted")
	}
	shoot(t, ctx, "home-progress-en")
}
