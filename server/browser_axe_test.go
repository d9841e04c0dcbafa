package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// axeScript reads axe.min.js where .ci/axe-deps (run by .ci/browser-deps)
// installs it, and checks it is the version that script pins. Neither the
// app nor the test fetches it from anywhere else.
func axeScript(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("LAB_AXE_DIR")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(home, ".cache", "kafka-delivery-lab", "axe-core")
	}
	pkg := filepath.Join(dir, "node_modules", "axe-core")
	script, err := os.ReadFile(filepath.Join("..", ".ci", "axe-deps"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^AXE_CORE_VERSION=(\S+)$`).FindSubmatch(script)
	if m == nil {
		t.Fatal(".ci/axe-deps pins no AXE_CORE_VERSION")
	}
	want := string(m[1])
	var meta struct {
		Version string `json:"version"`
	}
	b, err := os.ReadFile(filepath.Join(pkg, "package.json"))
	if err == nil {
		err = json.Unmarshal(b, &meta)
	}
	if err != nil || meta.Version != want {
		t.Fatalf("no axe-core %s in %s (found %q, %v): .ci/browser-deps installs it (it runs .ci/axe-deps, npm install axe-core@%s); run it, or go test -short for the quick tier", want, dir, meta.Version, err, want)
	}
	js, err := os.ReadFile(filepath.Join(pkg, "axe.min.js"))
	if err != nil {
		t.Fatalf("%v: .ci/browser-deps installs axe-core (it runs .ci/axe-deps); run it", err)
	}
	return string(js)
}

// axeViolation is one rule axe found broken, with where.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// axeRun lists the violations as the test reports them: rule, impact,
// what it asks and the selector of every element that breaks it.
const axeRun = `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.map(v => ({
	id: v.id, impact: v.impact || "", help: v.help,
	targets: v.nodes.map(n => n.target.flat(Infinity).join(" >>> ")),
})))`

// pageErrors records what a tab reports going wrong: failed requests
// (a missing favicon included), console errors and uncaught exceptions.
type pageErrors struct {
	mu   sync.Mutex
	errs []string
}

func watchErrors(t *testing.T, ctx context.Context) *pageErrors {
	t.Helper()
	pe := &pageErrors{}
	err := chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *network.EventResponseReceived:
			if ev.Response.Status >= 400 {
				msg = fmt.Sprintf("%d %s", ev.Response.Status, ev.Response.URL)
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				msg = fmt.Sprintf("console: %s %s", ev.Entry.Text, ev.Entry.URL)
			}
		case *runtime.EventExceptionThrown:
			msg = "exception: " + ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
		}
		if msg != "" {
			pe.mu.Lock()
			pe.errs = append(pe.errs, msg)
			pe.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return pe
}

func (pe *pageErrors) take() []string {
	pe.mu.Lock()
	defer pe.mu.Unlock()
	errs := pe.errs
	pe.errs = nil
	return errs
}

// TestBrowserAxe runs axe-core on every page in both languages, as it first
// renders and as a run draws on it (during and after): the lessons, home,
// compare, replay, a run's page as a student sees it and as the presenter
// does. Any violation fails the test, named with its rule, impact, the
// elements and what the rule asks; so does a failed request or a script
// error on the page.
func TestBrowserAxe(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs headless Chromium and axe-core (.ci/browser-deps)")
	}
	needChromium(t)
	axe := axeScript(t)
	start := time.Now()
	a, _ := newTestApp(t, 4)
	srv := httptest.NewServer(a)
	defer srv.Close()
	_, root := browserWithAllocator(t)
	ctx := visitor(t, root)
	ctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	errs := watchErrors(t, ctx)

	pages := 0
	check := func(what string) {
		t.Helper()
		// Runtime.evaluate is the DevTools protocol's: the page's CSP
		// (script-src 'self') does not apply to it.
		version, err := chromedp.Run(ctx, chromedp.Evaluate[string](`typeof axe === "undefined" ? "" : axe.version`))
		if err == nil && version == "" {
			version, err = chromedp.Run(ctx, chromedp.Evaluate[string](axe+"\n;axe.version"))
		}
		if err != nil {
			t.Fatalf("%s: injecting axe-core: %v", what, err)
		}
		var found []axeViolation
		found, err = chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: axe.run: %v", what, err)
		}
		pages++
		for _, v := range found {
			t.Errorf("%s: axe %s [%s] %s: %s", what, v.ID, v.Impact, v.Help, strings.Join(v.Targets, ", "))
		}
		for _, e := range errs.take() {
			t.Errorf("%s: %s", what, e)
		}
		if pages == 1 {
			t.Logf("axe-core %s", version)
		}
	}
	open := func(path, ready string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+path), chromedp.WaitReady(chromedp.CSS(ready))); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	poll := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}
	const verdict = `!!document.querySelector("[data-testid=verdict-word]")`

	for _, lang := range []string{"en", "ko"} {
		q := "?lang=" + lang
		for _, page := range []string{"/", "/lessons/at-most-once", "/lessons/at-least-once", "/lessons/exactly-once", "/compare", "/replay", "/sandbox", "/levels", "/levels/eos-fenced"} {
			open(page+q, "body")
			if page != "/" && page != "/replay" && page != "/levels" {
				poll("the run panel's script", `!document.querySelector("[data-testid=run-button]").disabled`)
			}
			check(lang + " " + page)
		}

		// A lesson after a run with a prediction: the trace, this browser's
		// controls, the verdict and the prediction's result.
		open("/lessons/exactly-once"+q, "[data-testid=run-button]:enabled")
		err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`input[name=fault][value="processor-crash"]`)),
			chromedp.Click(chromedp.CSS(`input[name=predict_lost][value="none"]`)),
			chromedp.Click(chromedp.CSS(`input[name=predict_dup][value="none"]`)),
			chromedp.SetValue(chromedp.CSS(`input[name=messages]`), "40"),
			chromedp.SetValue(chromedp.CSS(`input[name=pace_ms]`), "25"),
			chromedp.Click(chromedp.CSS("[data-testid=run-button]")),
		)
		if err != nil {
			t.Fatal(err)
		}
		poll("the lesson's verdict", `!!document.querySelector("[data-testid=prediction-result]")`)
		// Enough events that the processor's lane scrolls.
		poll("the processor's lane to scroll", `[...document.querySelectorAll(".lane-processor .lane-body")].some(b => b.scrollHeight > b.clientHeight)`)
		check(lang + " /lessons/exactly-once after a run")

		// The sandbox with settings a client refuses, then after a run
		// with its verdict and blame.
		open("/sandbox"+q+"&acks=1&idempotent=true", "[data-testid=refused]:not([hidden])")
		check(lang + " /sandbox refusing its settings")
		open("/sandbox"+q+"&claim=exactly-once&fault=processor-crash", "[data-testid=run-button]:enabled")
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("[data-testid=run-button]"))); err != nil {
			t.Fatal(err)
		}
		poll("the sandbox's verdict", `!!document.querySelector("[data-testid=blame]")`)
		check(lang + " /sandbox after a run")

		// Compare after a run: three traces side by side, the table filled.
		open("/compare"+q, "[data-testid=run-button]:enabled")
		err = chromedp.Do(ctx,
			chromedp.SetValue(chromedp.CSS(`input[name=messages]`), "8"),
			chromedp.Click(chromedp.CSS("[data-testid=run-button]")),
		)
		if err != nil {
			t.Fatal(err)
		}
		poll("the compare table", `[...document.querySelectorAll("[data-testid^=compare-row-]")].every(r => r.dataset.verdict)`)
		check(lang + " /compare after a run")

		// A leader-crash run recorded on a real cluster, replayed: the
		// brokers' picture at the kill and at the end.
		events := replayFixture(t, ctx, srv.URL, lang, "leader-crash-at-most-once.json")
		check(lang + " /replay of a leader crash, at the end")
		slideTo(t, ctx, replicaStep(events, 0, -1)+1)
		check(lang + " /replay of a leader crash, at the kill")

		// A presenter's run, opened paused and stepped: the run page as a
		// student sees it and as the presenter does, during and after.
		_, out := post(t, a, "/api/runs", "", `{"guarantee":"at-least-once","fault":"produce-ack-lost","messages":6,"presenter":true,"start_paused":true}`)
		id, _ := out["id"].(string)
		token, _ := out["control_token"].(string)
		if id == "" || token == "" {
			t.Fatalf("starting a presenter's run: %v", out)
		}
		for range 3 {
			if rec, out := post(t, a, "/api/runs/"+id+"/control", token, `{"action":"step"}`); rec.Code != 200 {
				t.Fatalf("step: %d %v", rec.Code, out)
			}
		}
		runPage := "/runs/" + id + q
		open(runPage, "[data-testid=run]")
		poll("the deposits drawn", producerCells+" > 0")
		check(lang + " /runs/{id} during the run")

		err = chromedp.Do(ctx,
			chromedp.Navigate(srv.URL+"/runs/"+id+"?presenter=1&lang="+lang),
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
		poll("the deposits drawn", producerCells+" > 0")
		check(lang + " /runs/{id}?presenter=1 during the run")

		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("[data-testid=resume]"))); err != nil {
			t.Fatal(err)
		}
		poll("the presenter's verdict", verdict)
		check(lang + " /runs/{id}?presenter=1 after the run")
		// As a student sees it: without the token.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`localStorage.removeItem("lab.token.`+id+`")`)); err != nil {
			t.Fatal(err)
		}
		open(runPage, "[data-testid=run]")
		poll("the verdict", verdict)
		check(lang + " /runs/{id} after the run")

		// The run replayed from its file.
		resp, err := http.Get(srv.URL + "/api/runs/" + id + "/trace")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), id+".json")
		if err := os.WriteFile(file, body, 0o644); err != nil {
			t.Fatal(err)
		}
		open("/replay"+q, "[data-testid=replay-file]")
		if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("[data-testid=replay-file]"), []string{file})); err != nil {
			t.Fatal(err)
		}
		poll("the replay's verdict", verdict)
		check(lang + " /replay after loading a run")

		// On a phone, where wide tables and code scroll sideways.
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
			t.Fatal(err)
		}
		for _, page := range []string{"/", "/lessons/exactly-once", "/compare", "/runs/{id}"} {
			open(strings.Replace(page, "{id}", id, 1)+q, "body")
			check(lang + " " + page + " on a phone")
		}
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond) // a late favicon request of the last page
	for _, e := range errs.take() {
		t.Errorf("last page: %s", e)
	}
	t.Logf("axe-core checked %d page states in %v", pages, time.Since(start).Round(time.Millisecond))
}
