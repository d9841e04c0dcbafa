package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/pipeline"
	"github.com/kafka-delivery-lab/lab/lessons/runs"
	"github.com/kafka-delivery-lab/lab/lessons/text"
)

// newQueueApp is a lab with a queue: cfg's budget and queue bound.
func newQueueApp(t *testing.T, cfg runs.Config) (*app, *runs.Registry) {
	t.Helper()
	reg := runs.New(pipeline.Env{Brokers: testBroker.Addrs(), Admin: testBroker.Admin(), Tuning: pipeline.DefaultTuning()}, cfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = reg.Shutdown(ctx)
	})
	return newApp(testBroker, reg, testLessons), reg
}

// call sends one request to srv and decodes its JSON answer.
func call(t *testing.T, method, url, token, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, raw)
	}
	return resp, out
}

const lessonRun = `{"guarantee":"at-least-once","fault":"none","messages":20,"pace_ms":100,"start_paused":true}`

// TestQueueOverHTTP: a run over the budget is answered 202 queued with its
// place; GET and the websocket show it queued; its controls get 409 and a
// sentence; it starts by itself when a run ends (the websocket says so);
// DELETE cancels a queued or a running run; past a client's share of
// the queue, 429 with Retry-After and a sentence.
func TestQueueOverHTTP(t *testing.T) {
	a, _ := newQueueApp(t, runs.Config{MaxConcurrent: 1, LightPerSlot: 2, MaxQueue: 4})
	srv := httptest.NewServer(a)
	defer srv.Close()

	var running []map[string]any
	for range 2 {
		resp, out := call(t, "POST", srv.URL+"/api/runs", "", lessonRun)
		if resp.StatusCode != http.StatusCreated || out["state"] != "running" || out["queue_position"] != nil {
			t.Fatalf("a run within the budget: %d %v", resp.StatusCode, out)
		}
		running = append(running, out)
	}
	resp, queued := call(t, "POST", srv.URL+"/api/runs", "", lessonRun)
	if resp.StatusCode != http.StatusAccepted || queued["state"] != "queued" || queued["queue_position"] != 0.0 || queued["id"] == nil || queued["control_token"] == nil {
		t.Fatalf("a run over the budget: %d %v", resp.StatusCode, queued)
	}
	id, token := queued["id"].(string), queued["control_token"].(string)
	if _, st := call(t, "GET", srv.URL+"/api/runs/"+id, "", ""); st["state"] != "queued" || st["queue_position"] != 0.0 {
		t.Fatalf("GET a queued run: %v", st)
	}
	resp, out := call(t, "POST", srv.URL+"/api/runs/"+id+"/control", token, `{"action":"pause"}`)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(out["error"].(string), "still queued") {
		t.Fatalf("control of a queued run: %d %v", resp.StatusCode, out)
	}
	resp, out = call(t, "POST", srv.URL+"/api/runs", "", lessonRun)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(out["error"].(string), "runs waiting") {
		t.Fatalf("a second queued run of one client with a queue of 4: %d %v (Retry-After %q)", resp.StatusCode, out, resp.Header.Get("Retry-After"))
	}

	conn, _, err := websocket.DefaultDialer.Dial(wsURL(srv, id), http.Header{"Origin": {srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var first struct {
		Type string      `json:"type"`
		Run  runs.Status `json:"run"`
	}
	if err := conn.ReadJSON(&first); err != nil {
		t.Fatal(err)
	}
	if first.Type != "snapshot" || first.Run.State != runs.Queued || first.Run.QueuePosition == nil || *first.Run.QueuePosition != 0 {
		t.Fatalf("the websocket's first frame: %+v", first)
	}

	// A running run cancelled frees its share: the queued one starts.
	resp, out = call(t, "DELETE", srv.URL+"/api/runs/"+running[0]["id"].(string), running[0]["control_token"].(string), "")
	if resp.StatusCode != http.StatusOK || out["state"] != "failed" || !strings.Contains(out["error"].(string), "cancelled") {
		t.Fatalf("cancel a running run: %d %v", resp.StatusCode, out)
	}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		var m map[string]any
		if err := conn.ReadJSON(&m); err != nil {
			t.Fatalf("the websocket never said the run started: %v", err)
		}
		if m["type"] == "progress" && m["state"] == "running" {
			if m["queue_position"] != nil {
				t.Fatalf("a running run with a queue position: %v", m)
			}
			break
		}
	}
	if resp, out = call(t, "DELETE", srv.URL+"/api/runs/"+id, "", ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cancel without the token: %d %v", resp.StatusCode, out)
	}
	if resp, out = call(t, "DELETE", srv.URL+"/api/runs/"+id, token, ""); resp.StatusCode != http.StatusOK || out["state"] != "failed" {
		t.Fatalf("cancel the started run: %d %v", resp.StatusCode, out)
	}
	if resp, out = call(t, "DELETE", srv.URL+"/api/runs/"+id, token, ""); resp.StatusCode != http.StatusConflict {
		t.Fatalf("cancel an ended run: %d %v", resp.StatusCode, out)
	}
}

// TestQueueFullOverHTTP: with the queue full, POST /api/runs and POST
// /api/compare answer 429 with Retry-After and a sentence, and start
// nothing; a cancelled queued run makes room.
func TestQueueFullOverHTTP(t *testing.T) {
	a, reg := newQueueApp(t, runs.Config{MaxConcurrent: 1, MaxQueue: 4})
	srv := httptest.NewServer(a)
	defer srv.Close()
	var queued []*runs.Run
	for _, client := range []string{"slot", "a", "b", "c", "d"} {
		r, err := reg.Start(runs.Request{RunParams: lessons.RunParams{Guarantee: lessons.AtMostOnce, Fault: lessons.NoFault, Messages: &[]int{5}[0]}, StartPaused: true, Client: client})
		if err != nil {
			t.Fatal(err)
		}
		queued = append(queued, r)
	}
	for _, p := range []struct{ path, body string }{{"/api/runs", lessonRun}, {"/api/compare", `{"fault":"none","messages":5}`}} {
		resp, out := call(t, "POST", srv.URL+p.path, "", p.body)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "30" || !strings.Contains(out["error"].(string), "queue of waiting runs is full") {
			t.Fatalf("%s with the queue full: %d %v (Retry-After %q)", p.path, resp.StatusCode, out, resp.Header.Get("Retry-After"))
		}
	}
	if reg.Queued() != 4 {
		t.Fatalf("queued %d after refusals, want 4", reg.Queued())
	}
	if err := queued[4].Cancel(queued[4].Token()); err != nil {
		t.Fatal(err)
	}
	if resp, out := call(t, "POST", srv.URL+"/api/runs", "", lessonRun); resp.StatusCode != http.StatusAccepted || out["queue_position"] != 3.0 {
		t.Fatalf("after a cancel: %d %v", resp.StatusCode, out)
	}
}

// TestBrowserQueue: the run view says "queued, N ahead" in the reader's
// language and starts drawing when the run's turn comes; with the queue
// full, the lesson page says so in words. Screenshots in both languages.
func TestBrowserQueue(t *testing.T) {
	needChromium(t)
	a, reg := newQueueApp(t, runs.Config{MaxConcurrent: 1, MaxQueue: 4})
	srv := httptest.NewServer(a)
	defer srv.Close()
	ctx := browser(t)
	hold := func(client string) *runs.Run {
		r, err := reg.Start(runs.Request{RunParams: lessons.RunParams{Guarantee: lessons.AtMostOnce, Fault: lessons.NoFault, Messages: &[]int{5}[0]}, StartPaused: true, Client: client})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	slot := hold("slot")
	for _, lang := range []text.Lang{text.English, text.Korean} {
		ahead := hold("ahead-" + string(lang))
		err := chromedp.Do(ctx,
			chromedp.EmulateViewport(1280, 900),
			chromedp.Navigate(srv.URL+"/lessons/at-least-once?lang="+string(lang)),
			chromedp.WaitEnabled(chromedp.CSS("[data-testid=run-button]")),
			chromedp.Click(chromedp.CSS("[data-testid=run-button]")),
			chromedp.WaitVisible(chromedp.CSS("[data-testid=queued]")),
		)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.ReplaceAll(lang.T("trace.queued"), "{n}", "1")
		if got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=queued]").textContent`)); got != want {
			t.Errorf("%s: the queued run says %q, want %q", lang, got, want)
		}
		shootElement(t, ctx, "[data-testid=run]", "run-queued-"+string(lang))

		// Its turn: the one ahead leaves, the slot frees.
		if err := ahead.Cancel(ahead.Token()); err != nil {
			t.Fatal(err)
		}
		if err := slot.Cancel(slot.Token()); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.WaitNotVisible(chromedp.CSS("[data-testid=queued]")), chromedp.WaitVisible(chromedp.CSS("[data-testid=verdict]"))); err != nil {
			t.Fatalf("%s: the queued run never started and finished on the page: %v", lang, err)
		}
		slot = hold("slot")

		// The queue full: four waiting runs of four other clients.
		var full []*runs.Run
		for _, c := range []string{"a", "b", "c", "d"} {
			full = append(full, hold(c))
		}
		if err := chromedp.Do(ctx,
			chromedp.Navigate(srv.URL+"/lessons/at-least-once?lang="+string(lang)),
			chromedp.WaitEnabled(chromedp.CSS("[data-testid=run-button]")),
			chromedp.Click(chromedp.CSS("[data-testid=run-button]")),
			chromedp.WaitVisible(chromedp.CSS("[data-testid=run-error]")),
		); err != nil {
			t.Fatal(err)
		}
		if got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=run-error]").textContent`)); got != lang.T("error.full") {
			t.Errorf("%s: with the queue full the page says %q, want %q", lang, got, lang.T("error.full"))
		}
		shootElement(t, ctx, "#run", "lesson-queue-full-"+string(lang))
		for _, r := range full {
			_ = r.Cancel(r.Token())
		}
	}
}
