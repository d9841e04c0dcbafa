package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/kafka-delivery-lab/lab/lessons/broker"
	"github.com/kafka-delivery-lab/lab/lessons/pipeline"
	"github.com/kafka-delivery-lab/lab/lessons/runs"
)

// startKfake starts a broker of our own on 127.0.0.1:port, configured as
// the embedded one, so that this test can kill it and bring it back.
func startKfake(t *testing.T, port int) *kfake.Cluster {
	t.Helper()
	var c *kfake.Cluster
	var err error
	// The port was free a moment ago; a new listener on it can race
	// with the kernel letting go of the old one, so try a few times.
	for range 50 {
		c, err = kfake.NewCluster(kfake.Ports(port), kfake.AllowAutoTopicCreation(),
			kfake.DefaultNumPartitions(1), kfake.GroupMinSessionTimeout(500*time.Millisecond))
		if err == nil {
			return c
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("kfake on port %d: %v", port, err)
	return nil
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// getJSON fetches url and decodes its JSON body.
func getJSON(t *testing.T, cl *http.Client, url string) (int, map[string]any) {
	t.Helper()
	resp, err := cl.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func postRun(t *testing.T, cl *http.Client, base, body string) string {
	t.Helper()
	resp, err := cl.Post(base+"/api/runs", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/runs: %d %v", resp.StatusCode, out)
	}
	return out["id"].(string)
}

// waitState polls a run until it is done or failed, for at most bound.
func waitState(t *testing.T, cl *http.Client, base, id string, bound time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(bound)
	for time.Now().Before(deadline) {
		_, out := getJSON(t, cl, base+"/api/runs/"+id)
		if s := out["state"]; s == "done" || s == "failed" {
			return out
		}
		time.Sleep(100 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	t.Logf("goroutines:\n%s", buf[:runtime.Stack(buf, true)])
	t.Fatalf("run %s neither done nor failed after %v", id, bound)
	return nil
}

// TestBrokerOutage: the external broker dies mid-run. The run ends failed
// with a sentence that says so (well before its own deadline), /healthz
// says degraded, pages still render; the broker comes back on the same
// address and, without restarting the app, /healthz is ok again and a new
// run succeeds.
func TestBrokerOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: slow (about 45 s: two external-broker outages and recoveries)")
	}
	for _, g := range []string{"at-least-once", "exactly-once"} {
		t.Run(g, func(t *testing.T) { testBrokerOutage(t, g) })
	}
}

func testBrokerOutage(t *testing.T, guarantee string) {
	port := freePort(t)
	cluster := startKfake(t, port)
	defer func() { cluster.Close() }()
	addr := "127.0.0.1:" + strconv.Itoa(port)

	b, err := broker.Connect([]string{addr})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	reg := runs.New(pipeline.Env{Brokers: b.Addrs(), Admin: b.Admin(), Tuning: pipeline.DefaultTuning()},
		runs.Config{MaxConcurrent: 4})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = reg.Shutdown(ctx)
	}()
	srv := httptest.NewServer(newApp(b, reg, testLessons))
	defer srv.Close()
	cl := srv.Client()
	base := srv.URL

	if code, out := getJSON(t, cl, base+"/healthz"); code != http.StatusOK {
		t.Fatalf("healthz before the outage: %d %v", code, out)
	}
	if !pageShowsBroker(t, cl, base, "up") {
		t.Fatal("the page does not show the broker up")
	}

	// A long paced run: 10,000 deposits at 10 ms is 100 s of sending, and
	// its deadline is minutes away.
	id := postRun(t, cl, base, `{"guarantee":"`+guarantee+`","fault":"none","messages":10000,"pace_ms":10}`)
	for deadline := time.Now().Add(30 * time.Second); ; {
		_, out := getJSON(t, cl, base+"/api/runs/"+id)
		if p, _ := out["progress"].(map[string]any); p != nil && p["credited"].(float64) >= 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run never got going: %v", out)
		}
		time.Sleep(50 * time.Millisecond)
	}

	cluster.Close()
	killed := time.Now()

	// The run must fail on its own, with a sentence, long before its
	// deadline (2 min + 20 s + 100 s).
	out := waitState(t, cl, base, id, 50*time.Second)
	tookToFail := time.Since(killed)
	t.Logf("the run ended %s %v after the broker died: %v", out["state"], tookToFail.Round(10*time.Millisecond), out["error"])
	if out["state"] != "failed" {
		t.Fatalf("run with the broker gone: %v", out)
	}
	msg, _ := out["error"].(string)
	if !strings.Contains(msg, "broker") || strings.Contains(msg, "deadline") || len(msg) < 30 {
		t.Fatalf("want a sentence saying the broker stopped answering, got %q", msg)
	}

	asked := time.Now()
	code, health := getJSON(t, cl, base+"/healthz")
	t.Logf("/healthz with the broker down answered %d in %v", code, time.Since(asked).Round(time.Millisecond))
	hb, _ := health["broker"].(map[string]any)
	if code != http.StatusServiceUnavailable || health["status"] != "degraded" || hb["reachable"] != false || hb["mode"] != "external" {
		t.Fatalf("healthz with the broker down: %d %v", code, health)
	}
	// Nothing of the failed run goes on: no client of it keeps retrying
	// and settling deposits into its trace.
	failed, _ := reg.Get(id)
	lastEvent := failed.LastEvent()

	// Pages still render, and say the broker is down.
	var slowest time.Duration
	for _, p := range []string{"/", "/lessons/at-least-once", "/compare", "/runs/" + id, "/api/runs/" + id, "/api/faults"} {
		start := time.Now()
		resp, err := cl.Get(base + p)
		if err != nil {
			t.Fatalf("GET %s with the broker down: %v", p, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		slowest = max(slowest, time.Since(start))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s with the broker down: %d", p, resp.StatusCode)
		}
	}
	t.Logf("slowest page with the broker down: %v", slowest.Round(time.Millisecond))
	if !pageShowsBroker(t, cl, base, "down") {
		t.Fatal("the pages never showed the broker down")
	}

	// The broker comes back at the same address: no restart of the app.
	cluster = startKfake(t, port)
	back := time.Now()
	for deadline := time.Now().Add(30 * time.Second); ; {
		code, out := getJSON(t, cl, base+"/healthz")
		if code == http.StatusOK && out["status"] == "ok" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz never recovered: %d %v", code, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("healthz ok %v after the broker came back", time.Since(back).Round(10*time.Millisecond))
	if !pageShowsBroker(t, cl, base, "up") {
		t.Fatal("the pages never showed the broker up again")
	}
	id2 := postRun(t, cl, base, `{"guarantee":"`+guarantee+`","fault":"none","messages":200}`)
	out = waitState(t, cl, base, id2, 45*time.Second)
	res, _ := out["result"].(map[string]any)
	if out["state"] != "done" || res == nil || res["balance"].(float64) != 200 || res["verdict"] != "held" {
		t.Fatalf("a run after the broker came back: %v", out)
	}
	if n := failed.LastEvent(); n != lastEvent {
		t.Fatalf("the failed run's trace grew from %d to %d events after it ended: a client of it is still at work", lastEvent, n)
	}
}

// pageShowsBroker reports whether the home page comes to show the broker
// as state ("up" or "down"): pages use a cached answer, refreshed every
// brokerCheckEvery.
func pageShowsBroker(t *testing.T, cl *http.Client, base, state string) bool {
	t.Helper()
	for range 100 {
		resp, err := cl.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), `<span class="`+state+`">`) {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}
