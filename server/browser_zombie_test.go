package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserZombieIsFencedOnThePage: an exactly-once processor-stall run
// shows, in both languages, the stall, the wake and the broker's refusal
// with the broker's error name, and the notifications the run sent twice
// although the ledger is exact.
func TestBrowserZombieIsFencedOnThePage(t *testing.T) {
	needChromium(t)
	for _, lang := range []string{"en", "ko"} {
		ctx := runInPicture(t, lang, "exactly-once", "strict", "processor-stall")
		for _, sel := range []string{".ev.stall", ".ev.wake", "[data-testid=fenced]"} {
			if count(t, ctx, sel) == 0 {
				t.Errorf("%s: nothing drawn for %s", lang, sel)
			}
		}
		fenced, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=fenced]")?.textContent || ""`))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(fenced, "PRODUCER_FENCED") && !strings.Contains(fenced, "INVALID_PRODUCER_EPOCH") {
			t.Errorf("%s: the fenced line names no broker error: %q", lang, fenced)
		}
		shown, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll("[data-testid=numbers] dd")].map(d => [d.dataset.field, d.textContent]))`))
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := strconv.Atoi(shown["side_effects_duplicated"]); n == 0 || shown["duplicated"] != "0" {
			t.Errorf("%s: want the ledger exact and notifications duplicated: %v", lang, shown)
		}
		if shown["takeover"] == "" {
			t.Errorf("%s: no takeover time shown: %v", lang, shown)
		}
		shootElement(t, ctx, "[data-testid=picture]", "lesson-run-exactly-once-stall-picture-"+lang)
		shootElement(t, ctx, "[data-testid=verdict]", "lesson-run-exactly-once-stall-verdict-"+lang)
		// The trace's lanes are folded under "Events as text": open them.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelectorAll("details").forEach(d => d.open = true), true`)); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.CSS("[data-testid=fenced]"))); err != nil {
			t.Fatal(err)
		}
		saveShot(t, ctx, chromedp.CaptureScreenshot(), "lesson-run-exactly-once-stall-trace-"+lang)
	}
}
