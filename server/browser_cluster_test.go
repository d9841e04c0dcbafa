package main

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kafka-delivery-lab/lab/lessons/cluster"
)

// stillCluster is a cluster's status fixed in time: broker 2 killed
// mid-leader-crash, broker 3 the controller.
type stillCluster struct{}

func (stillCluster) Status(context.Context) cluster.Status {
	return cluster.Status{Controller: 3, Brokers: []cluster.Broker{
		{ID: 1, Addr: "127.0.0.1:41001", State: cluster.Running, Up: true},
		{ID: 2, Addr: "127.0.0.1:41003", State: cluster.Killed},
		{ID: 3, Addr: "127.0.0.1:41005", State: cluster.Running, Up: true},
	}}
}

// TestBrowserClusterFaults: without a cluster the run form shows
// leader-crash and follower-down disabled, with the command that starts
// cluster mode, and so do the lessons' "When a broker dies" runs and the
// cluster level on /levels; in cluster mode they can be chosen, and the
// header shows each broker, what the lab did to it and the controller.
// Both languages, screenshots.
func TestBrowserClusterFaults(t *testing.T) {
	needChromium(t)
	plain, _ := newTestApp(t, 4)
	owned, _ := newTestApp(t, 4)
	owned.cluster = stillCluster{}
	ctx := browser(t)
	for _, tc := range []struct {
		name string
		a    *app
	}{{"embedded", plain}, {"cluster", owned}} {
		srv := httptest.NewServer(tc.a)
		for _, lang := range []string{"en", "ko"} {
			err := chromedp.Do(ctx,
				chromedp.Navigate(srv.URL+"/lessons/at-most-once?lang="+lang),
				chromedp.WaitEnabled(chromedp.CSS("[data-testid=run-button]")),
			)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"leader-crash", "follower-down"} {
				disabled, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("input[name=fault][value=`+f+`]").disabled`))
				if err != nil || disabled != (tc.name == "embedded") {
					t.Errorf("%s %s: %s disabled %v (%v)", tc.name, lang, f, disabled, err)
				}
				reason := evalInt(t, ctx, `document.querySelectorAll("[data-testid=needs-`+f+`]").length`)
				if tc.name == "embedded" && reason != 1 || tc.name == "cluster" && reason != 0 {
					t.Errorf("%s %s: %d reasons beside %s", tc.name, lang, reason, f)
				}
			}
			brokers := evalInt(t, ctx, `document.querySelectorAll("[data-testid=cluster-broker]").length`)
			if tc.name == "embedded" && brokers != 0 || tc.name == "cluster" && brokers != 3 {
				t.Errorf("%s %s: %d brokers in the header", tc.name, lang, brokers)
			}
			shootElement(t, ctx, "[data-testid=run-panel] fieldset", "cluster-faults-"+tc.name+"-"+lang)
			shootElement(t, ctx, "header.site", "cluster-header-"+tc.name+"-"+lang)

			// The lessons' "When a broker dies" runs: unavailable, with
			// the command, unless the lab owns a cluster.
			for _, lesson := range []string{"at-most-once", "at-least-once"} {
				if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/lessons/"+lesson+"?lang="+lang), chromedp.WaitVisible(chromedp.CSS("[data-testid=section-broker-dies]"))); err != nil {
					t.Fatal(err)
				}
				runs := evalInt(t, ctx, `document.querySelectorAll("[data-testid=section-broker-dies] [data-testid=scenario]").length`)
				off := evalInt(t, ctx, `document.querySelectorAll("[data-testid=section-broker-dies] [data-testid=scenario]:disabled").length`)
				needs := evalInt(t, ctx, `[...document.querySelectorAll("[data-testid=section-broker-dies] [data-testid=scenario-needs]")].filter(e => e.textContent.includes("go run ./server -cluster 3")).length`)
				want := map[string]int{"at-most-once": 2, "at-least-once": 4}[lesson]
				if runs != want || tc.name == "embedded" && (off != want || needs != want) || tc.name == "cluster" && (off != 0 || needs != 0) {
					t.Errorf("%s %s %s: %d runs, %d disabled, %d with the start command", tc.name, lang, lesson, runs, off, needs)
				}
				shootElement(t, ctx, "[data-testid=section-broker-dies]", "broker-dies-"+lesson+"-"+tc.name+"-"+lang)
			}

			// The cluster level on /levels says what it needs.
			if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/levels?lang="+lang), chromedp.WaitVisible(chromedp.CSS("[data-testid=level-leader-crash]"))); err != nil {
				t.Fatal(err)
			}
			needs := evalInt(t, ctx, `document.querySelectorAll("[data-testid=level-needs-leader-crash]").length`)
			if tc.name == "embedded" && needs != 1 || tc.name == "cluster" && needs != 0 {
				t.Errorf("%s %s: /levels shows the leader-crash level's need %d times", tc.name, lang, needs)
			}
			shootElement(t, ctx, "[data-testid=level-leader-crash]", "level-leader-crash-"+tc.name+"-"+lang)
		}
		srv.Close()
	}
}
