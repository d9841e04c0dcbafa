package main

import (
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserLessonFlow: a guarantee lesson reads idea, try it, then the
// settings; each sample's settings are a note that opens on demand; the
// mistakes section shows the common snippet beside the corrected sample,
// the differing lines marked in a gutter (text, not colour alone), side by
// side on a laptop and stacked on a phone. Screenshots of the opened notes
// and of the mistakes section, in both languages.
func TestBrowserLessonFlow(t *testing.T) {
	needChromium(t)
	a, _ := newTestApp(t, 1)
	srv := httptest.NewServer(a)
	defer srv.Close()
	ctx := browser(t)
	for _, lang := range []string{"en", "ko"} {
		err := chromedp.Do(ctx,
			chromedp.EmulateViewport(1280, 900),
			chromedp.Navigate(srv.URL+"/lessons/at-most-once?lang="+lang),
			chromedp.WaitEnabled(chromedp.CSS("[data-testid=run-button]")),
		)
		if err != nil {
			t.Fatal(err)
		}
		order, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("section.prose")].slice(0, 3).map(s => s.dataset.testid).join(" ")`))
		if order != "section-idea section-try section-producer" {
			t.Errorf("%s: the lesson opens with %q, want the idea, then try it, then the settings", lang, order)
		}

		// Notes: one per sample of the settings sections, closed until asked.
		if n, samples := count(t, ctx, "[data-testid=section-producer] details.notes, [data-testid=section-consumer] details.notes"),
			count(t, ctx, "[data-testid=section-producer] [data-testid=sample], [data-testid=section-consumer] [data-testid=sample]"); n != samples || n == 0 {
			t.Errorf("%s: %d notes for %d samples", lang, n, samples)
		}
		if count(t, ctx, "details.notes[open]") != 0 {
			t.Errorf("%s: a note is open before the reader asked", lang)
		}
		err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS("[data-testid=section-producer] details.notes summary")))
		if err != nil {
			t.Fatal(err)
		}
		if evalInt(t, ctx, `document.querySelector("[data-testid=section-producer] details.notes").open ? document.querySelectorAll("[data-testid=section-producer] details.notes[open] li").length : -1`) < 3 {
			t.Errorf("%s: the opened note does not show the settings", lang)
		}
		shootElement(t, ctx, "[data-testid=section-producer]", "lesson-notes-"+lang)

		// The common snippet beside the corrected sample, each changed line
		// marked.
		if n := count(t, ctx, "[data-testid=section-mistakes] [data-testid=compare-code]"); n != 2 {
			t.Errorf("%s: the mistakes section compares %d pairs of files, want the producer and the consumer", lang, n)
		}
		marks, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
			const q = (s) => document.querySelector("[data-testid=section-mistakes] " + s);
			// The gutter's mark is the stylesheet's, in the line's ::before.
			return [q(".diff-old .diff-line.removed"), q(".diff-new .diff-line.added")].map(e => e ? getComputedStyle(e, "::before").content.replaceAll('"', "") : "?").join("")
		})()`))
		if marks != "−+" {
			t.Errorf("%s: the changed lines are marked %q, want − and +", lang, marks)
		}
		if evalInt(t, ctx, `(() => { const c = document.querySelector("[data-testid=compare-code]"); return c.querySelector(".diff-new").offsetTop - c.querySelector(".diff-old").offsetTop })()`) != 0 {
			t.Errorf("%s: on a laptop the common and the corrected code are not side by side", lang)
		}
		shootElement(t, ctx, "[data-testid=section-mistakes]", "lesson-mistakes-"+lang)

		err = chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload(), chromedp.WaitReady(chromedp.CSS("body")))
		if err != nil {
			t.Fatal(err)
		}
		if evalInt(t, ctx, `(() => { const c = document.querySelector("[data-testid=compare-code]"); return c.querySelector(".diff-new").offsetTop - c.querySelector(".diff-old").offsetTop })()`) <= 0 {
			t.Errorf("%s: on a phone the corrected code is not below the common one", lang)
		}
		if overflow := evalInt(t, ctx, `document.documentElement.scrollWidth - window.innerWidth`); overflow > 0 {
			t.Errorf("%s: the lesson is %d px wider than a phone", lang, overflow)
		}
	}
}
