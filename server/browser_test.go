package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// screenshotDir is where the browser tests leave screenshots of every page
// in both languages, to be looked at (CI keeps them as artifacts).
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("LAB_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", ".artifacts", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// needChromium skips a browser test in the quick tier (go test -short).
// Otherwise a machine without Chromium fails the test (browserWithAllocator)
// with what to run: a skipped browser test would look green.
func needChromium(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: needs headless Chromium")
	}
}

// browser starts headless Debian Chromium. A machine without it fails the
// test with what to run: CI installs it with .ci/browser-deps.
func browser(t *testing.T) context.Context {
	ctx, _ := browserWithAllocator(t)
	return ctx
}

// visitor opens a separate browser context (its own storage, like another
// person's laptop) in the same browser.
func visitor(t *testing.T, browserCtx context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	return ctx
}

func browserWithAllocator(t *testing.T) (context.Context, context.Context) {
	t.Helper()
	needChromium(t)
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("no chromium on PATH (%v): .ci/browser-deps installs it (Debian's chromium and CJK fonts); run it, or go test -short for the quick tier", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	// The first action starts the browser: no timeout on it, or the
	// timeout would stop the browser (chromedp.Run's contract).
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	tctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelT)
	return tctx, ctx
}

func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	saveShot(t, ctx, chromedp.FullScreenshot(100), name)
}

// saveShot takes a screenshot with take and saves it as name.png.
func saveShot(t *testing.T, ctx context.Context, take chromedp.Action[[]byte], name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, take)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir(t), name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserPages opens every page in both languages, checks that it
// rendered (in the right language, with no script errors breaking the run
// panel) and saves a screenshot.
func TestBrowserPages(t *testing.T) {
	needChromium(t)
	a, _ := newTestApp(t, 4)
	srv := httptest.NewServer(a)
	defer srv.Close()
	ctx := browser(t)
	for _, lang := range []string{"en", "ko"} {
		for _, page := range []string{"/", "/lessons/at-most-once", "/lessons/at-least-once", "/lessons/exactly-once", "/compare"} {
			name := strings.Trim(strings.ReplaceAll(page, "/", "-"), "-")
			if name == "" {
				name = "home"
			}
			err := chromedp.Do(ctx,
				chromedp.Navigate(srv.URL+page+"?lang="+lang),
				chromedp.WaitReady(chromedp.CSS("body")),
			)
			if err != nil {
				t.Fatalf("%s %s: %v", lang, page, err)
			}
			htmlLang, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.documentElement.lang"))
			if err != nil || htmlLang != lang {
				t.Errorf("%s %s: <html lang=%q>", lang, page, htmlLang)
			}
			if page != "/" {
				// The module script enables the Run button: proof it loaded
				// under the CSP and ran without error.
				enabled, err := chromedp.Run(ctx, chromedp.Poll[bool](`!document.querySelector("[data-testid=run-button]").disabled`,
					chromedp.WithPollingTimeout(10*time.Second)))
				if err != nil || !enabled {
					t.Errorf("%s %s: the run panel's script did not start: %v", lang, page, err)
				}
			}
			shoot(t, ctx, name+"-"+lang)
		}
		// On a phone: the lesson's top and its run panel must fit the width.
		err := chromedp.Do(ctx,
			chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
			chromedp.Navigate(srv.URL+"/lessons/at-least-once?lang="+lang),
			chromedp.WaitReady(chromedp.CSS("body")),
		)
		if err != nil {
			t.Fatal(err)
		}
		if overflow := evalInt(t, ctx, `document.documentElement.scrollWidth - window.innerWidth`); overflow > 0 {
			t.Errorf("%s: the lesson is %d px wider than a phone", lang, overflow)
		}
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		_ = os.WriteFile(filepath.Join(screenshotDir(t), "phone-lesson-"+lang+".png"), png, 0o644)
		// ResetViewport alone leaves the page at phone width.
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
			t.Fatal(err)
		}
	}
}

// openRunPage starts an app on the test broker, opens path in a fresh
// browser and waits until its run button is enabled (the page's script
// has loaded). It returns the browser, the app and its address.
func openRunPage(t *testing.T, path string) (context.Context, *app, string) {
	t.Helper()
	a, _ := newTestApp(t, 4)
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+path), chromedp.WaitEnabled(chromedp.CSS("[data-testid=run-button]"))); err != nil {
		t.Fatal(err)
	}
	return ctx, a, srv.URL
}

// TestBrowserRunShowsTheAPIsNumbers starts a run from a lesson page with a
// fault, waits for the verdict on the page and checks the numbers shown are
// those of GET /api/runs/{id}.
func TestBrowserRunShowsTheAPIsNumbers(t *testing.T) {
	needChromium(t)
	ctx, _, base := openRunPage(t, "/lessons/at-least-once?lang=en")
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[name=fault][value="produce-ack-lost"]`)),
		chromedp.SetValue(chromedp.CSS(`input[name=messages]`), "24"),
		chromedp.SetValue(chromedp.CSS(`input[name=pace_ms]`), "20"),
		chromedp.Click(chromedp.CSS("[data-testid=run-button]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=verdict-word]")),
	)
	if err != nil {
		t.Fatal(err)
	}
	runID, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=run]").dataset.run`))
	if err != nil {
		t.Fatal(err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll("[data-testid=numbers] dd")].map(d => [d.dataset.field, d.textContent]))`))
	if err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, "lesson-run-at-least-once-en")
	resp, err := http.Get(base + "/api/runs/" + runID)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Result map[string]any `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"sent", "acked", "credited", "lost", "duplicated", "recovered", "unexpected", "balance"} {
		want := strconv.FormatFloat(st.Result[k].(float64), 'f', -1, 64)
		if shown[k] != want {
			t.Errorf("page shows %s = %q, the API says %s", k, shown[k], want)
		}
	}
	if shown["duplicated"] == "0" {
		t.Errorf("a lost ack under at-least-once should show a duplicate: %v", shown)
	}
	// The page says the run came out as the claim table says, and says so
	// from the API's answer.
	asClaimed, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=expected]").dataset.asClaimed`))
	if err != nil || asClaimed != "true" || st.Result["expected"] == nil || st.Result["mismatch"] != nil {
		t.Errorf("page says as-claimed %q (%v); the API's expected %v, mismatch %v", asClaimed, err, st.Result["expected"], st.Result["mismatch"])
	}
}

// TestBrowserCompareFillsTheTable runs the compare page under one fault and
// waits for all three rows to be filled.
func TestBrowserCompareFillsTheTable(t *testing.T) {
	needChromium(t)
	ctx, _, _ := openRunPage(t, "/compare?lang=ko")
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[name=fault][value="processor-crash"]`)),
		chromedp.SetValue(chromedp.CSS(`input[name=messages]`), "60"),
		chromedp.Click(chromedp.CSS("[data-testid=run-button]")),
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`[...document.querySelectorAll("[data-testid^=compare-row-]")].every(r => r.dataset.verdict)`,
		chromedp.WithPollingTimeout(90*time.Second))); err != nil {
		t.Fatal(err)
	}
	verdicts, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("[data-testid^=compare-row-]")].map(r => r.dataset.guarantee + "=" + r.dataset.verdict)`))
	if err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, "compare-run-ko")
	want := fmt.Sprint([]string{"at-most-once=held", "at-least-once=held", "exactly-once=held"})
	if fmt.Sprint(verdicts) != want {
		t.Fatalf("compare verdicts %v, want %s", verdicts, want)
	}
	// Under the table, throughput and p99 latency per guarantee, as bars.
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=chart-throughput] rect.bar, [data-testid=chart-p99] rect.bar").length`))
	if err != nil || bars != 6 {
		t.Fatalf("compare chart: %d bars (%v), want throughput and p99 for each of 3 guarantees", bars, err)
	}
}
