package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kafka-delivery-lab/lab/lessons/runs"
	"github.com/kafka-delivery-lab/lab/lessons/text"
)

// TestBrowserTwoInstances: a presenter run started on instance A, driven
// from a presenter page served by instance B (its controls go to A
// through Kafka), watched by a student on A (Korean) and one on B
// (English): all see the same deposits step by step and the same verdict.
func TestBrowserTwoInstances(t *testing.T) {
	needChromium(t)
	prefix := fmt.Sprintf("lab.test%d.", time.Now().UnixNano())
	a, b := newInstance(t, prefix), newInstance(t, prefix)
	_, root := browserWithAllocator(t)
	presenter, alice, bob := visitor(t, root), visitor(t, root), visitor(t, root)

	code, out, _ := ask(t, "POST", a.srv.URL+"/api/runs", "", `{"guarantee":"at-least-once","fault":"produce-ack-lost","messages":6,"presenter":true,"start_paused":true}`)
	if code != 201 {
		t.Fatalf("POST on A: %d %v", code, out)
	}
	id, token, join := out["id"].(string), out["control_token"].(string), out["join"].(string)
	seen(t, b, id, any_)

	openAsPresenter(t, presenter, b.srv.URL, id, token)
	for s, url := range map[context.Context]string{alice: a.srv.URL + join + "?lang=ko", bob: b.srv.URL + join + "?lang=en"} {
		if err := chromedp.Do(s, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("[data-testid=readonly]"))); err != nil {
			t.Fatal(err)
		}
	}
	for range 4 {
		if err := chromedp.Do(presenter, chromedp.Click(chromedp.CSS("[data-testid=step]"))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	pollTrue(t, presenter, "the presenter on B to see a step", producerCells+` >= 1`)
	want := evalInt(t, presenter, producerCells)
	for name, s := range map[string]context.Context{"alice on A": alice, "bob on B": bob} {
		pollTrue(t, s, name+" to see the same deposits", producerCells+` === `+strconv.Itoa(want))
	}
	shoot(t, presenter, "fleet-presenter-on-b-paused-en")
	shoot(t, alice, "fleet-student-on-a-paused-ko")
	shoot(t, bob, "fleet-student-on-b-paused-en")

	if err := chromedp.Do(presenter, chromedp.Click(chromedp.CSS("[data-testid=resume]"))); err != nil {
		t.Fatal(err)
	}
	verdicts := map[string]string{}
	for name, s := range map[string]context.Context{"presenter": presenter, "alice": alice, "bob": bob} {
		pollTrue(t, s, name+"'s verdict", `!!document.querySelector("[data-testid=verdict-word]")`)
		v, _ := chromedp.Run(s, chromedp.Evaluate[string](`document.querySelector(".verdict").className`))
		verdicts[name] = v
	}
	if verdicts["alice"] != verdicts["presenter"] || verdicts["bob"] != verdicts["presenter"] || verdicts["bob"] == "" {
		t.Fatalf("verdicts differ: %v", verdicts)
	}
	shoot(t, bob, "fleet-student-on-b-done-en")
	shoot(t, alice, "fleet-student-on-a-done-ko")

	// A dies mid-run: its viewers on B are told the run failed and why.
	code, out, _ = ask(t, "POST", a.srv.URL+"/api/runs", "", `{"guarantee":"exactly-once","fault":"none","messages":100,"pace_ms":200}`)
	if code != 201 {
		t.Fatalf("POST on A: %d %v", code, out)
	}
	doomed := out["id"].(string)
	seen(t, b, doomed, func(s map[string]any) bool { return s["state"] == "running" })
	for s, lang := range map[context.Context]string{alice: "ko", bob: "en"} {
		if err := chromedp.Do(s, chromedp.Navigate(b.srv.URL+"/runs/"+doomed+"?lang="+lang), chromedp.WaitReady(chromedp.CSS("[data-testid=run]"))); err != nil {
			t.Fatal(err)
		}
		pollTrue(t, s, "deposits on B's page", producerCells+` >= 1`)
	}
	a.kill()
	// Each in the page's language: alice's is Korean.
	for name, lang := range map[string]text.Lang{"alice": "ko", "bob": "en"} {
		s := map[string]context.Context{"alice": alice, "bob": bob}[name]
		pollTrue(t, s, name+" to see the run failed", `!!document.querySelector("[data-testid=run-failed]")`)
		msg, _ := chromedp.Run(s, chromedp.Evaluate[string](`document.querySelector("[data-testid=run-failed]").textContent`))
		if want := lang.T("error.end." + runs.OwnerGone.Key); !strings.Contains(msg, want) {
			t.Errorf("%s sees %q, want the sentence %q", name, msg, want)
		}
	}
	shoot(t, bob, "fleet-owner-gone-en")
	shoot(t, alice, "fleet-owner-gone-ko")
}
