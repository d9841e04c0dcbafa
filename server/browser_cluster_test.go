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
// leader-crash disabled, with the command that starts cluster mode; in
// cluster mode it can be chosen, and the header shows each broker, what
// the lab did to it and the controller. Both languages, screenshots.
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
			disabled, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("input[name=fault][value=leader-crash]").disabled`))
			if err != nil || disabled != (tc.name == "embedded") {
				t.Errorf("%s %s: leader-crash disabled %v (%v)", tc.name, lang, disabled, err)
			}
			reason := evalInt(t, ctx, `document.querySelectorAll("[data-testid=needs-leader-crash]").length`)
			brokers := evalInt(t, ctx, `document.querySelectorAll("[data-testid=cluster-broker]").length`)
			if tc.name == "embedded" && (reason != 1 || brokers != 0) || tc.name == "cluster" && (reason != 0 || brokers != 3) {
				t.Errorf("%s %s: %d reasons, %d brokers in the header", tc.name, lang, reason, brokers)
			}
			shootElement(t, ctx, "[data-testid=run-panel] fieldset", "cluster-faults-"+tc.name+"-"+lang)
			shootElement(t, ctx, "header.site", "cluster-header-"+tc.name+"-"+lang)
		}
		srv.Close()
	}
}
