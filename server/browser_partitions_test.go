package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserPictureOfARebalance: a run of four partitions and three
// processors, with a fourth joining mid-run, is drawn with one row of
// offsets per partition, each headed by the instance that processes it,
// the ledger by partition too, and the hand-over named. (Three partitions
// and three processors are refused for a rebalance: the joiner would get
// nothing, see docs/API.md.)
func TestBrowserPictureOfARebalance(t *testing.T) {
	needChromium(t)
	for _, lang := range []string{"en", "ko"} {
		ctx, _, _ := openRunPage(t, "/lessons/at-least-once?lang="+lang)
		err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`input[name=fault][value="rebalance"]`)),
			chromedp.Click(chromedp.CSS(`input[name=preset][value="strict"]`)),
			chromedp.SetValue(chromedp.CSS(`input[name=messages]`), "60"),
			chromedp.SetValue(chromedp.CSS(`input[name=pace_ms]`), "20"),
			chromedp.SetValue(chromedp.CSS(`input[name=partitions]`), "4"),
			chromedp.SetValue(chromedp.CSS(`input[name=processors]`), "3"),
			chromedp.Click(chromedp.CSS("[data-testid=run-button]")),
			chromedp.WaitVisible(chromedp.CSS("[data-testid=verdict-word]")),
		)
		if err != nil {
			t.Fatal(err)
		}
		// Four input rows and four ledger rows.
		if n := count(t, ctx, "[data-testid=picture] .partition-head"); n != 8 {
			t.Errorf("%s: %d partition headings, want 4 input and 4 ledger rows", lang, n)
		}
		if n := count(t, ctx, "[data-testid=picture] .instance"); n < 4 {
			t.Errorf("%s: %d instances drawn, want the three and the one that joined", lang, n)
		}
		heads, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("[data-testid=picture] .partition-head")].map((e) => e.textContent).join("|")`))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(heads, "p-") {
			t.Errorf("%s: no partition row names the instance that processes it: %s", lang, heads)
		}
		shootPicture(t, ctx, "picture-rebalance-4x3-"+lang)
	}
}
