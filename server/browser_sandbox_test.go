package main

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// setKnob sets a sandbox knob as a learner would, firing its change event.
func setKnob(name, value string) chromedp.Action[chromedp.Void] {
	js := `(() => { const e = document.forms[0].elements[` + jsString(name) + `];
		if (e.type === "checkbox") e.checked = ` + jsString(value) + ` === "true"; else e.value = ` + jsString(value) + `;
		e.dispatchEvent(new Event("change", { bubbles: true })); })()`
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](js)(ctx, tg)
		return err
	})
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// TestBrowserSandbox drives /sandbox in both languages: a combination the
// clients refuse shows their rule and disables the run; a valid one
// updates the client lines and the share link; a run judges the claim and
// blames the setting. Then a level: its fixed knobs cannot change, its
// reference answer passes it and the pass is kept with the progress.
func TestBrowserSandbox(t *testing.T) {
	needChromium(t)
	a, _ := newTestApp(t, 4)
	srv := httptest.NewServer(a)
	defer srv.Close()
	ctx := browser(t)
	poll := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}
	str := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return s
	}
	for _, lang := range []string{"en", "ko"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/sandbox?lang="+lang), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
			t.Fatal(err)
		}
		poll("the sandbox's script", `!document.querySelector("[data-testid=run-button]").disabled`)

		// Idempotence with acks=1: refused, quoting the rule.
		if err := chromedp.Do(ctx, setKnob("acks", "1"), setKnob("idempotent", "true")); err != nil {
			t.Fatal(err)
		}
		poll("the refusal", `!document.querySelector("[data-testid=refused]").hidden`)
		if got := str(`document.querySelector("[data-testid=refused-text]").textContent`); !strings.Contains(got, "Must set acks to all") {
			t.Errorf("%s: refusal %q does not quote the rule", lang, got)
		}
		if !evalBool(t, ctx, `document.querySelector("[data-testid=run-button]").disabled`) {
			t.Errorf("%s: refused settings can be run", lang)
		}
		// acks=all: accepted, the lines and the link follow.
		if err := chromedp.Do(ctx, setKnob("acks", "all")); err != nil {
			t.Fatal(err)
		}
		poll("the lines", `document.querySelector("[data-testid=refused]").hidden && document.querySelector("pre[data-client=java]").textContent.includes("ENABLE_IDEMPOTENCE_CONFIG, true")`)
		if got := str(`document.querySelector("[data-testid=share-link]").getAttribute("href")`); !strings.Contains(got, "idempotent=true") || !strings.Contains(got, "acks=all") {
			t.Errorf("%s: share link %q", lang, got)
		}
		if got := str(`document.querySelector("[data-testid=lang-switch]").getAttribute("href")`); !strings.Contains(got, "idempotent=true") {
			t.Errorf("%s: the language switch %q drops the configuration", lang, got)
		}
		// Claim exactly-once for commit after under a crash: broken, the
		// commit to blame.
		err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`input[name=claim][value="exactly-once"]`)),
			chromedp.Click(chromedp.CSS(`input[name=fault][value="processor-crash"]`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		poll("the run button", `!document.querySelector("[data-testid=run-button]").disabled`)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("[data-testid=run-button]"))); err != nil {
			t.Fatal(err)
		}
		poll("the claim's verdict", `!!document.querySelector("[data-testid=claim-verdict]")`)
		if v := str(`document.querySelector("[data-testid=claim-verdict]").dataset.verdict`); v != "violated" {
			t.Errorf("%s: verdict %q, want violated", lang, v)
		}
		if b := str(`document.querySelector("[data-testid=blame] li")?.dataset.setting || ""`); b != "commit" {
			t.Errorf("%s: blamed %q, want commit", lang, b)
		}
		shoot(t, ctx, "sandbox-"+lang)

		// A level: the start's fixed knobs are disabled; its reference
		// (commit after) passes it with one change.
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/levels/alo-crash?lang="+lang), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
			t.Fatal(err)
		}
		poll("the level's script", `!document.querySelector("[data-testid=run-button]").disabled`)
		if !evalBool(t, ctx, `document.forms[0].elements.acks.disabled && !document.forms[0].elements.commit.disabled`) {
			t.Errorf("%s: the level's fixed knobs are not the disabled ones", lang)
		}
		if err := chromedp.Do(ctx, setKnob("commit", "after")); err != nil {
			t.Fatal(err)
		}
		poll("the change count", `document.querySelector("[data-testid=level-changes]").textContent.endsWith(": 1")`)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("[data-testid=run-button]"))); err != nil {
			t.Fatal(err)
		}
		poll("the level's result", `!!document.querySelector("[data-testid=level-result]")`)
		if !evalBool(t, ctx, `document.querySelector("[data-testid=level-result]").classList.contains("right")`) {
			t.Errorf("%s: the level's reference did not pass it: %s", lang, str(`document.querySelector("[data-testid=sandbox-verdict]").textContent`))
		}
		if got := str(`JSON.stringify(JSON.parse(localStorage.getItem("lab.progress")).levels["alo-crash"])`); !strings.Contains(got, `"passed":true`) || !strings.Contains(got, `"fewest":1`) {
			t.Errorf("%s: progress %s", lang, got)
		}
		shoot(t, ctx, "level-"+lang)
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/levels?lang="+lang), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
			t.Fatal(err)
		}
		poll("the passed level", `document.querySelector("[data-level=alo-crash]").classList.contains("passed")`)
		shoot(t, ctx, "levels-"+lang)
	}
}

func evalBool(t *testing.T, ctx context.Context, js string) bool {
	t.Helper()
	return evalAs[bool](t, ctx, js)
}

// TestBrowserCommitOnRevoke drives the commit_on_revoke knob in both
// languages: off by default (as in every client), disabled unless commit
// is after, followed by every client's lines; a paced rebalance with it
// on, claimed exactly-once, holds.
func TestBrowserCommitOnRevoke(t *testing.T) {
	needChromium(t)
	a, _ := newTestApp(t, 4)
	srv := httptest.NewServer(a)
	defer srv.Close()
	ctx := browser(t)
	poll := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}
	const box = `document.forms[0].elements.commit_on_revoke`
	for _, lang := range []string{"en", "ko"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/sandbox?claim=exactly-once&fault=rebalance&lang="+lang), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
			t.Fatal(err)
		}
		poll("the sandbox's script", `!document.querySelector("[data-testid=run-button]").disabled`)
		if !evalBool(t, ctx, `!`+box+`.checked && !`+box+`.disabled`) {
			t.Errorf("%s: commit_on_revoke is not off and changeable by default", lang)
		}
		if err := chromedp.Do(ctx, setKnob("commit", "before")); err != nil {
			t.Fatal(err)
		}
		poll("the box disabled with commit before", box+`.disabled && document.querySelector("[data-testid=refused]").hidden && !document.querySelector("pre[data-client=java]").textContent.includes("ConsumerRebalanceListener")`)
		if err := chromedp.Do(ctx, setKnob("commit", "after"), setKnob("commit_on_revoke", "true")); err != nil {
			t.Fatal(err)
		}
		poll("the revocation commit in every client's lines", `!`+box+`.disabled && ["kafka-go", "franz-go", "kafka-python", "java"].every((c) => document.querySelector("pre[data-client=" + JSON.stringify(c) + "]").textContent.includes("commit_on_revoke"))`)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("[data-testid=run-button]"))); err != nil {
			t.Fatal(err)
		}
		poll("the claim's verdict", `!!document.querySelector("[data-testid=claim-verdict]")`)
		if !evalBool(t, ctx, `document.querySelector("[data-testid=claim-verdict]").dataset.verdict === "held"`) {
			t.Errorf("%s: a rebalance with commit_on_revoke broke exactly-once: %s", lang,
				evalString(t, ctx, `document.querySelector("[data-testid=sandbox-verdict]").textContent`))
		}
		// Back through the run to p-1's revocation commit: the caption
		// says it.
		says := map[string]string{"en": "commits on revoke", "ko": "회수 직전 커밋"}[lang]
		if !evalBool(t, ctx, `(() => {
			const s = document.querySelector("[data-testid=time]"), c = document.querySelector("[data-testid=caption]");
			for (let v = 0; v <= Number(s.max); v++) {
				s.value = v;
				s.dispatchEvent(new Event("input"));
				if (c.textContent.includes(`+jsString(says)+`)) return true;
			}
			return false;
		})()`) {
			t.Errorf("%s: no moment of the run's picture says %q", lang, says)
		}
		shoot(t, ctx, "sandbox-commit-on-revoke-"+lang)
	}
}

func evalString(t *testing.T, ctx context.Context, js string) string {
	t.Helper()
	return evalAs[string](t, ctx, js)
}
