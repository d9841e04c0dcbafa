package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons/broker"
	"github.com/kafka-delivery-lab/lab/lessons/broker/brokertest"
	"github.com/kafka-delivery-lab/lab/lessons/content"
	"github.com/kafka-delivery-lab/lab/lessons/pipeline"
	"github.com/kafka-delivery-lab/lab/lessons/runs"
	"github.com/kafka-delivery-lab/lab/lessons/samples"
)

var (
	testBroker *broker.Broker
	// testLessons is the lesson set the app serves, samples included.
	testLessons *content.Set
)

func TestMain(m *testing.M) {
	var err error
	if testLessons, err = content.New(samples.Read); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testBroker, err = brokertest.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	testBroker.Close()
	os.Exit(code)
}

func newTestApp(t *testing.T, maxRuns int) (*app, *runs.Registry) {
	t.Helper()
	reg := runs.New(pipeline.Env{Brokers: testBroker.Addrs(), Admin: testBroker.Admin(), Tuning: pipeline.DefaultTuning()},
		runs.Config{MaxConcurrent: maxRuns})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := reg.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return newApp(testBroker, reg, testLessons), reg
}

func do(t *testing.T, h http.Handler, method, path, body string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	req := labRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
	}
	return rec, out
}

// TestBadInput: every endpoint answers bad input with a 4xx JSON error that
// says what to do and names the field. Never a 500, never a panic.
func TestBadInput(t *testing.T) {
	a, reg := newTestApp(t, 4)
	big := `{"guarantee":"at-least-once","fault":"none","seed":` + strings.Repeat("1", 70<<10) + `}`
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"missing guarantee", "POST", "/api/runs", `{"fault":"none"}`, 400, "guarantee"},
		{"missing fault", "POST", "/api/runs", `{"guarantee":"at-most-once"}`, 400, "fault"},
		{"unknown field", "POST", "/api/runs", `{"guarantee":"at-most-once","fault":"none","colour":"red"}`, 400, "colour"},
		{"unknown guarantee", "POST", "/api/runs", `{"guarantee":"twice","fault":"none"}`, 400, "guarantee"},
		{"unknown preset", "POST", "/api/runs", `{"guarantee":"at-most-once","preset":"loose","fault":"none"}`, 400, "preset"},
		{"unknown fault", "POST", "/api/runs", `{"guarantee":"at-most-once","fault":"meteor"}`, 400, "fault"},
		{"messages 0", "POST", "/api/runs", `{"guarantee":"at-most-once","fault":"none","messages":0}`, 400, "messages"},
		{"messages -1", "POST", "/api/runs", `{"guarantee":"at-most-once","fault":"none","messages":-1}`, 400, "messages"},
		{"messages 10^9", "POST", "/api/runs", `{"guarantee":"at-most-once","fault":"none","messages":1000000000}`, 400, "messages"},
		{"messages huge", "POST", "/api/runs", `{"guarantee":"at-most-once","fault":"none","messages":1e30}`, 400, "messages"},
		{"messages abc", "POST", "/api/runs", `{"guarantee":"at-most-once","fault":"none","messages":"abc"}`, 400, "messages"},
		{"messages 1.5", "POST", "/api/runs", `{"guarantee":"at-most-once","fault":"none","messages":1.5}`, 400, "messages"},
		{"pace negative", "POST", "/api/runs", `{"guarantee":"at-most-once","fault":"none","pace_ms":-5}`, 400, "pace_ms"},
		{"pace too slow", "POST", "/api/runs", `{"guarantee":"at-most-once","fault":"none","pace_ms":5001}`, 400, "pace_ms"},
		{"guarantee number", "POST", "/api/runs", `{"guarantee":7,"fault":"none"}`, 400, "guarantee"},
		{"malformed", "POST", "/api/runs", `{"guarantee":`, 400, ""},
		{"not an object", "POST", "/api/runs", `[1,2]`, 400, ""},
		{"trailing garbage", "POST", "/api/runs", `{"guarantee":"at-most-once","fault":"none"} x`, 400, ""},
		{"two objects", "POST", "/api/runs", `{"guarantee":"at-most-once","fault":"none"}{}`, 400, ""},
		{"empty body", "POST", "/api/runs", ``, 400, ""},
		{"over 64 KiB", "POST", "/api/runs", big, 413, ""},
		{"compare missing fault", "POST", "/api/compare", `{}`, 400, "fault"},
		{"compare unknown fault", "POST", "/api/compare", `{"fault":"meteor"}`, 400, "fault"},
		{"compare messages 0", "POST", "/api/compare", `{"fault":"none","messages":0}`, 400, "messages"},
		{"compare unknown field", "POST", "/api/compare", `{"fault":"none","guarantee":"x"}`, 400, "guarantee"},
		{"unknown run", "GET", "/api/runs/r-doesnotexist", ``, 404, "id"},
		{"unknown run with odd id", "GET", "/api/runs/%3Cscript%3E", ``, 404, "id"},
		{"wrong method", "DELETE", "/api/runs", ``, 405, ""},
		{"no such path", "GET", "/api/nothing", ``, 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, out := do(t, a, tc.method, tc.path, tc.body)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			msg, _ := out["error"].(string)
			if len(msg) < 10 {
				t.Fatalf("want a clear error sentence, got %s", rec.Body)
			}
			if got, _ := out["field"].(string); got != tc.field {
				t.Fatalf("field %q, want %q (%s)", got, tc.field, msg)
			}
		})
	}
	if n := reg.Active(); n != 0 {
		t.Fatalf("bad requests started %d runs", n)
	}
}

func TestCatalogsAndHealth(t *testing.T) {
	a, _ := newTestApp(t, 1)
	rec, out := do(t, a, "GET", "/healthz", "")
	if rec.Code != 200 || out["status"] != "ok" {
		t.Fatalf("healthz: %d %s", rec.Code, rec.Body)
	}
	b := out["broker"].(map[string]any)
	if b["reachable"] != true || len(b["addrs"].([]any)) == 0 {
		t.Fatalf("healthz broker: %v", b)
	}
	rec, _ = do(t, a, "GET", "/api/guarantees", "")
	for _, g := range []string{"at-most-once", "at-least-once", "exactly-once"} {
		if !strings.Contains(rec.Body.String(), `"id":"`+g+`"`) {
			t.Errorf("guarantees lack %s: %s", g, rec.Body)
		}
	}
	rec, _ = do(t, a, "GET", "/api/faults", "")
	for _, f := range []string{"none", "produce-request-lost", "produce-ack-lost", "processor-crash"} {
		if !strings.Contains(rec.Body.String(), `"id":"`+f+`"`) {
			t.Errorf("faults lack %s: %s", f, rec.Body)
		}
	}
}

func TestHealthDegradedWhenBrokerDown(t *testing.T) {
	b, err := broker.StartEmbedded(broker.EmbeddedOptions{Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	reg := runs.New(pipeline.Env{Brokers: b.Addrs(), Admin: b.Admin()}, runs.Config{})
	a := newApp(b, reg, testLessons)
	b.Embedded().Close()
	defer b.Close()
	rec, out := do(t, a, "GET", "/healthz", "")
	if rec.Code != http.StatusServiceUnavailable || out["status"] != "degraded" || out["broker"].(map[string]any)["reachable"] != false {
		t.Fatalf("healthz with the broker down: %d %s", rec.Code, rec.Body)
	}
}

// startRun posts a run and waits for its result.
func startRun(t *testing.T, h http.Handler, body string) map[string]any {
	t.Helper()
	rec, out := do(t, h, "POST", "/api/runs", body)
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST /api/runs: %d %s", rec.Code, rec.Body)
	}
	return waitRun(t, h, out["id"].(string))
}

func waitRun(t *testing.T, h http.Handler, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		_, out := do(t, h, "GET", "/api/runs/"+id, "")
		switch out["state"] {
		case "done":
			return out
		case "failed":
			t.Fatalf("run failed: %v", out["error"])
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("run %s did not finish", id)
	return nil
}

// TestOutsideAuditorAgrees: a plain franz-go client, sharing no code with the
// app, reads a finished run's ledger from the address /healthz names and
// gets the balance the API reported.
func TestOutsideAuditorAgrees(t *testing.T) {
	a, _ := newTestApp(t, 4)
	run := startRun(t, a, `{"guarantee":"at-least-once","fault":"produce-ack-lost","messages":120}`)
	res := run["result"].(map[string]any)
	if res["duplicated"].(float64) < 1 {
		t.Fatalf("expected duplicates from a lost ack: %v", res)
	}
	_, health := do(t, a, "GET", "/healthz", "")
	var addrs []string
	for _, x := range health["broker"].(map[string]any)["addrs"].([]any) {
		addrs = append(addrs, x.(string))
	}
	ledger := run["topics"].(map[string]any)["ledger"].(string)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(ledger),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	balance := int64(0)
	for seenEnd := false; !seenEnd; {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Key) == "end" {
				seenEnd = true
				return
			}
			var c struct {
				Deposit string `json:"deposit"`
				Amount  int64  `json:"amount"`
			}
			if err := json.Unmarshal(r.Value, &c); err != nil || c.Deposit != string(r.Key) {
				t.Errorf("ledger record %s = %s is not a credit of its key", r.Key, r.Value)
			}
			balance += c.Amount
		})
	}
	if float64(balance) != res["balance"].(float64) {
		t.Fatalf("outside auditor counted balance %d, the API said %v", balance, res["balance"])
	}
}

// TestConcurrentRunsAreIsolated: two runs at once never see each other's
// deposits, and a third past the bound is refused with 429.
func TestConcurrentRunsAreIsolated(t *testing.T) {
	a, _ := newTestApp(t, 2)
	var ids []string
	for _, g := range []string{"at-least-once", "exactly-once"} {
		rec, out := do(t, a, "POST", "/api/runs", `{"guarantee":"`+g+`","fault":"none","messages":300,"pace_ms":1}`)
		if rec.Code != 201 {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		ids = append(ids, out["id"].(string))
	}
	rec, out := do(t, a, "POST", "/api/runs", `{"guarantee":"at-most-once","fault":"none"}`)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" || out["error"] == nil {
		t.Fatalf("third run: %d %s (Retry-After %q)", rec.Code, rec.Body, rec.Header().Get("Retry-After"))
	}
	for _, id := range ids {
		res := waitRun(t, a, id)["result"].(map[string]any)
		if res["unexpected"].(float64) != 0 || res["balance"].(float64) != 300 || res["in_log"].(float64) != 300 {
			t.Fatalf("run %s saw foreign or missing deposits: %v", id, res)
		}
	}
}

// TestShutdownWithRunsInFlight: the app stops within 5 s with runs in
// flight, and those runs end failed with a reason.
func TestShutdownWithRunsInFlight(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	stdout := &syncBuffer{}
	addr := freeAddr(t)
	exited := make(chan error, 1)
	env := map[string]string{"LAB_EMBEDDED_PORT": "0", "LAB_ADDR": addr}
	go func() { exited <- run(ctx, nil, func(k string) string { return env[k] }, stdout, io.Discard) }()
	base := "http://" + addr
	waitHealthy(t, base)
	for _, g := range []string{"at-least-once", "exactly-once"} {
		resp, err := http.Post(base+"/api/runs", "application/json",
			strings.NewReader(`{"guarantee":"`+g+`","fault":"none","messages":100000,"pace_ms":5}`))
		if err != nil || resp.StatusCode != 201 {
			t.Fatalf("start: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	stop()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("run returned %v", err)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("the app did not stop")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("shutdown took %v, want ≤ 5 s", d)
	}
	if !strings.Contains(stdout.String(), "web:    http://"+addr) || !strings.Contains(stdout.String(), "broker: 127.0.0.1:") {
		t.Fatalf("start-up lines missing: %q", stdout.String())
	}
}

func TestEmbeddedPortTaken(t *testing.T) {
	taken, err := broker.StartEmbedded(broker.EmbeddedOptions{Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := strings.Split(taken.Addrs()[0], ":")[1]
	env := map[string]string{"LAB_EMBEDDED_PORT": port, "LAB_ADDR": freeAddr(t)}
	err = run(context.Background(), nil, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-embedded-port 0") {
		t.Fatalf("want a one-line error naming the flag, got %v", err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close()
	return addr
}

// waitHealthy waits for the app to answer /healthz. Building the lessons
// takes a few seconds under the race detector on two busy cores.
func waitHealthy(t *testing.T, base string) {
	t.Helper()
	for i := 0; i < 600; i++ {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the app never became healthy")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
