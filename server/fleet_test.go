package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons/fleet"
	"github.com/kafka-delivery-lab/lab/lessons/pipeline"
	"github.com/kafka-delivery-lab/lab/lessons/runs"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// instance is one lab instance of a shared lab: its registry, its part in
// the fleet and its web server.
type instance struct {
	reg   *runs.Registry
	fleet *fleet.Fleet
	srv   *httptest.Server
}

// testLiveness is the tests' instance liveness: short, so that a killed
// owner's runs end soon.
const testLiveness = 3 * time.Second

// newInstance starts a lab instance sharing its runs through the topics
// under prefix on the test broker, as main does with -brokers.
// Options change the registry's configuration.
func newInstance(t *testing.T, prefix string, options ...func(*runs.Config)) *instance {
	t.Helper()
	return newInstanceLiving(t, prefix, testLiveness, options...)
}

// newInstanceLiving is newInstance with its own liveness
// (-instance-timeout).
func newInstanceLiving(t *testing.T, prefix string, liveness time.Duration, options ...func(*runs.Config)) *instance {
	t.Helper()
	cfg := runs.Config{MaxConcurrent: 4, LightPerSlot: lightPerSlot}
	for _, o := range options {
		o(&cfg)
	}
	fl, err := fleet.New(fleet.Config{Brokers: testBroker.Addrs(), Prefix: prefix, Liveness: liveness, Retention: cfg.Retention})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Instance, cfg.Observer, cfg.JoinTaken = fl.ID(), fl, fl.JoinTaken
	reg := runs.New(pipeline.Env{Brokers: testBroker.Addrs(), Admin: testBroker.Admin(), Tuning: pipeline.DefaultTuning(), Prefix: prefix}, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := fl.Start(ctx, reg); err != nil {
		fl.Kill()
		t.Fatal(err)
	}
	in := &instance{reg: reg, fleet: fl, srv: httptest.NewServer(newApp(testBroker, sharedRuns{reg, fl}, testLessons))}
	t.Cleanup(func() {
		in.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := reg.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		fl.Close(ctx)
	})
	return in
}

// kill stops the instance as a crash would: its server and its Kafka
// clients go at once, nothing more is published. (Its runs' pipelines
// are stopped by the cleanup, after the test.)
func (in *instance) kill() {
	in.srv.CloseClientConnections()
	in.srv.Close()
	in.fleet.Kill()
}

// ask sends one request to an instance and decodes a JSON answer.
func ask(t *testing.T, method, url, token, body string) (int, map[string]any, http.Header) {
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
	cl := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return resp.StatusCode, out, resp.Header
}

// seen waits until in answers for run id, for at most bound, and returns
// its status there.
func seen(t *testing.T, in *instance, id string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, out, _ := ask(t, "GET", in.srv.URL+"/api/runs/"+id, "", "")
		if code == http.StatusOK && ok(out) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s on the other instance: %d %v", id, code, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func any_(map[string]any) bool { return true }

// TestTwoInstances: two lab instances on one Kafka cluster, with separate
// registries and nothing shared but the lab's topics, act as one lab. A
// run started through A is shown, watched to its verdict, joined,
// driven with its token and downloaded through B; a presenter's run on A
// has its students on B; and when A dies mid-run, B says the run failed
// and why within the instances' liveness, and still serves A's finished
// runs.
func TestTwoInstances(t *testing.T) {
	noneLeft(t)
	prefix := fmt.Sprintf("lab.test%d.", time.Now().UnixNano())
	a, b := newInstance(t, prefix), newInstance(t, prefix)

	for _, in := range []*instance{a, b} {
		for _, path := range []string{"/api/runs/r-nosuchrun", "/runs/r-nosuchrun", "/api/runs/r-nosuchrun/trace", "/join/ZZZZZ"} {
			if code, out, _ := ask(t, "GET", in.srv.URL+path, "", ""); code != http.StatusNotFound || out["error"] == "" {
				t.Errorf("GET %s: %d %v, want 404 with a sentence", path, code, out)
			}
		}
	}

	if _, h, _ := ask(t, "GET", b.srv.URL+"/healthz", "", ""); h["instance"] != b.fleet.ID() {
		t.Errorf("/healthz on B names instance %v, want %s", h["instance"], b.fleet.ID())
	}

	// A run started through A, watched through B to its verdict.
	code, created, _ := ask(t, "POST", a.srv.URL+"/api/runs", "", `{"guarantee":"at-least-once","fault":"produce-ack-lost","messages":40,"pace_ms":50}`)
	if code != http.StatusCreated {
		t.Fatalf("POST /api/runs on A: %d %v", code, created)
	}
	id := created["id"].(string)
	st := seen(t, b, id, any_)
	if topics, _ := st["topics"].(map[string]any); !strings.HasPrefix(fmt.Sprint(topics["input"]), prefix) || !strings.HasPrefix(fmt.Sprint(st["group"]), prefix) {
		t.Errorf("run %s's topics %v and group %v: want them under %s", id, st["topics"], st["group"], prefix)
	}
	if st["instance"] != a.fleet.ID() {
		t.Errorf("B says run %s is on %v, want A (%s)", id, st["instance"], a.fleet.ID())
	}
	// Listed through B, as on A: GET /api/runs names it and its owner.
	if _, list, _ := ask(t, "GET", b.srv.URL+"/api/runs", "", ""); !slices.ContainsFunc(list["runs"].([]any), func(x any) bool {
		r := x.(map[string]any)
		return r["id"] == id && r["instance"] == a.fleet.ID()
	}) {
		t.Errorf("GET /api/runs on B: %v, want run %s of A", list["runs"], id)
	}
	conn := dialRun(t, b.srv, id)
	msgs, at, closeErr := readAllFrames(t, conn)
	conn.Close()
	if !strings.Contains(fmt.Sprint(closeErr), "run finished") {
		t.Errorf("B's websocket ended with %v, want a normal close", closeErr)
	}
	local, _ := a.reg.Get(id)
	delays := frameDelays(msgs, at, local.Started())
	if len(delays) < 50 || msgs[len(msgs)-1].Type != "result" {
		t.Fatalf("B's websocket: %d live events, last frame %q; want the run's events and its result", len(delays), msgs[len(msgs)-1].Type)
	}
	slices.Sort(delays)
	p := func(q float64) time.Duration { return delays[int(q*float64(len(delays)-1))] }
	t.Logf("live trace through the other instance: %d events, event at owner → frame at B's websocket p50 %v, p99 %v, max %v",
		len(delays), p(0.5).Round(time.Millisecond), p(0.99).Round(time.Millisecond), delays[len(delays)-1].Round(time.Millisecond))
	// No wall-clock assert under a loaded machine; the report carries it.
	_, onA, _ := ask(t, "GET", a.srv.URL+"/api/runs/"+id, "", "")
	onB := seen(t, b, id, func(s map[string]any) bool { return s["state"] == "done" })
	if onA["state"] != "done" || !jsonEqual(onA["result"], onB["result"]) || !jsonEqual(onA["result"], msgs[len(msgs)-1].Run["result"]) {
		t.Errorf("verdicts differ:\nA:        %v\nB:        %v\nB's feed: %v", onA["result"], onB["result"], msgs[len(msgs)-1].Run["result"])
	}
	_, traceA, _ := ask(t, "GET", a.srv.URL+"/api/runs/"+id+"/trace", "", "")
	code, traceB, hdr := ask(t, "GET", b.srv.URL+"/api/runs/"+id+"/trace", "", "")
	if code != http.StatusOK || !strings.Contains(hdr.Get("Content-Disposition"), id) || !jsonEqual(traceA["events"], traceB["events"]) {
		t.Errorf("trace through B: %d, %d events, want A's %d", code, len(asList(traceB["events"])), len(asList(traceA["events"])))
	}

	// A full-speed run makes more events than a frame carries and a
	// mirror keeps: B's trace holds A's first events and every anomaly.
	big := postRun(t, http.DefaultClient, a.srv.URL, `{"guarantee":"at-least-once","fault":"produce-ack-lost","messages":3000}`)
	seen(t, b, big, func(s map[string]any) bool { return s["state"] == "done" })
	type ev struct {
		Seq  int64      `json:"seq"`
		Kind trace.Kind `json:"kind"`
	}
	events := func(base string) (all []ev, anomalies map[int64]bool) {
		resp, err := http.Get(base + "/api/runs/" + big + "/trace")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var f struct{ Events []ev }
		_ = json.NewDecoder(resp.Body).Decode(&f)
		anomalies = map[int64]bool{}
		for _, e := range f.Events {
			if e.Kind.Anomalous() {
				anomalies[e.Seq] = true
			}
		}
		return f.Events, anomalies
	}
	bigA, anomA := events(a.srv.URL)
	bigB, anomB := events(b.srv.URL)
	if len(bigB) < 1024 || len(bigA) < len(bigB) || !slices.Equal(bigA[:1024], bigB[:1024]) || len(anomA) == 0 {
		t.Errorf("a big run's trace: %d events on A, %d on B, want B to hold A's first 1,024", len(bigA), len(bigB))
	}
	for seq := range anomA {
		if !anomB[seq] {
			t.Errorf("a big run's trace on B lacks A's anomaly #%d (%d anomalies on A, %d on B)", seq, len(anomA), len(anomB))
			break
		}
	}
	t.Logf("a 3,000-deposit run: %d events kept on A, %d on B, %d anomalies on both", len(bigA), len(bigB), len(anomB))

	// An instance started later knows the finished run from the lab's
	// topics alone: the table, then the frames it replays.
	c := newInstance(t, prefix)
	onC := seen(t, c, id, func(s map[string]any) bool { return s["state"] == "done" })
	if !jsonEqual(onA["result"], onC["result"]) {
		t.Errorf("a later instance's verdict: %v, want A's %v", onC["result"], onA["result"])
	}
	_, traceC, _ := ask(t, "GET", c.srv.URL+"/api/runs/"+id+"/trace", "", "")
	if !jsonEqual(traceA["events"], traceC["events"]) {
		t.Errorf("a later instance's trace: %d events, want A's %d", len(asList(traceC["events"])), len(asList(traceA["events"])))
	}

	// A presenter's run on A, its students and its presenter's controls
	// on B.
	code, pres, _ := ask(t, "POST", a.srv.URL+"/api/runs", "", `{"guarantee":"exactly-once","fault":"none","messages":10,"pace_ms":100,"presenter":true,"start_paused":true}`)
	if code != http.StatusCreated || pres["join"] == nil {
		t.Fatalf("presenter run on A: %d %v", code, pres)
	}
	pid, token, join := pres["id"].(string), pres["control_token"].(string), pres["join"].(string)
	seen(t, b, pid, any_)
	code, _, hdr = ask(t, "GET", b.srv.URL+strings.ToLower(join)+"?lang=ko", "", "")
	if code != http.StatusSeeOther || hdr.Get("Location") != "/runs/"+pid+"?lang=ko" {
		t.Errorf("GET %s on B: %d to %q, want 303 to the run's page", join, code, hdr.Get("Location"))
	}
	if code, page := fetchPage(t, b.srv.URL+"/runs/"+pid); code != http.StatusOK || !strings.Contains(page, pid) {
		t.Errorf("the run's page on B: %d", code)
	}
	student := dialRun(t, b.srv, pid)
	defer student.Close()
	studentRead := make(chan []wsMsg, 1)
	go func() { m, _, _ := readAllFrames(t, student); studentRead <- m }()
	ctl := b.srv.URL + "/api/runs/" + pid + "/control"
	if code, out, _ := ask(t, "POST", ctl, "not-the-token", `{"action":"resume"}`); code != http.StatusForbidden || !strings.Contains(fmt.Sprint(out["error"]), "Bearer") {
		t.Errorf("control through B with a wrong token: %d %v, want 403 with a sentence", code, out)
	}
	if code, out, _ := ask(t, "POST", ctl, token, `{"action":"step"}`); code != http.StatusOK || out["paused"] != true {
		t.Errorf("step through B: %d %v", code, out)
	}
	if code, out, _ := ask(t, "POST", ctl, token, `{"action":"warp"}`); code != http.StatusBadRequest || out["field"] != "action" {
		t.Errorf("a bad action through B: %d %v, want the owner's 400", code, out)
	}
	if code, out, _ := ask(t, "POST", ctl, token, `{"action":"resume"}`); code != http.StatusOK || out["paused"] != false {
		t.Errorf("resume through B: %d %v", code, out)
	}
	if code, out, _ := ask(t, "POST", ctl, token, `{"action":"pause"}`); code != http.StatusOK || out["paused"] != true {
		t.Errorf("pause through B: %d %v", code, out)
	}
	if !local2paused(a, pid) {
		t.Errorf("the owner's run is not paused after a pause through B")
	}
	if code, out, _ := ask(t, "POST", ctl, token, `{"action":"resume"}`); code != http.StatusOK {
		t.Errorf("resume through B: %d %v", code, out)
	}
	select {
	case m := <-studentRead:
		if len(m) == 0 || m[len(m)-1].Type != "result" || m[len(m)-1].Run["state"] != "done" {
			t.Errorf("the student on B did not see the run end done: %d frames", len(m))
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the student on B saw no end in a minute")
	}
	seen(t, b, pid, func(s map[string]any) bool { return s["state"] == "done" })
	if code, out, _ := ask(t, "POST", ctl, token, `{"action":"pause"}`); code != http.StatusConflict || out["error"] == "" {
		t.Errorf("control of a finished run through B: %d %v, want 409 with a sentence", code, out)
	}
	if code, out, _ := ask(t, "POST", ctl, "not-the-token", `{"action":"pause"}`); code != http.StatusForbidden {
		t.Errorf("control of a finished run through B with a wrong token: %d %v, want 403", code, out)
	}

	// Cancelled through B.
	code, slow, _ := ask(t, "POST", a.srv.URL+"/api/runs", "", `{"guarantee":"at-most-once","fault":"none","messages":100,"pace_ms":200}`)
	if code != http.StatusCreated {
		t.Fatalf("POST on A: %d %v", code, slow)
	}
	sid := slow["id"].(string)
	seen(t, b, sid, func(s map[string]any) bool { return s["state"] == "running" })
	if code, out, _ := ask(t, "DELETE", b.srv.URL+"/api/runs/"+sid, "not-the-token", ""); code != http.StatusForbidden {
		t.Errorf("DELETE through B with a wrong token: %d %v", code, out)
	}
	if code, out, _ := ask(t, "DELETE", b.srv.URL+"/api/runs/"+sid, slow["control_token"].(string), ""); code != http.StatusOK || out["state"] != "failed" {
		t.Errorf("DELETE through B: %d %v, want 200 and the run failed", code, out)
	}

	// A dies mid-run.
	code, doomed, _ := ask(t, "POST", a.srv.URL+"/api/runs", "", `{"guarantee":"at-least-once","fault":"none","messages":100,"pace_ms":200}`)
	if code != http.StatusCreated {
		t.Fatalf("POST on A: %d %v", code, doomed)
	}
	did := doomed["id"].(string)
	seen(t, b, did, func(s map[string]any) bool { return s["state"] == "running" })
	viewer := dialRun(t, b.srv, did)
	defer viewer.Close()
	killed := time.Now()
	a.kill()
	end := seen(t, b, did, func(s map[string]any) bool { return s["state"] == "failed" })
	took := time.Since(killed)
	t.Logf("owner killed: B reported its run failed after %v (liveness %v)", took.Round(time.Millisecond), testLiveness)
	if end["error"] != runs.OwnerGone.Msg {
		t.Errorf("the killed owner's run on B: error %v, want %q", end["error"], runs.OwnerGone.Msg)
	}
	if took > testLiveness+5*time.Second {
		t.Errorf("B took %v to see the owner gone (liveness %v)", took, testLiveness)
	}
	if m, _, _ := readAllFrames(t, viewer); len(m) == 0 || m[len(m)-1].Type != "result" || m[len(m)-1].Run["state"] != "failed" {
		t.Errorf("B's viewer of the killed owner's run got no failed result")
	}
	// The dead owner's finished runs still answer through B.
	if code, out, _ := ask(t, "GET", b.srv.URL+"/api/runs/"+id, "", ""); code != http.StatusOK || out["state"] != "done" {
		t.Errorf("a finished run of the dead owner on B: %d %v", code, out)
	}
	if code, out, _ := ask(t, "GET", b.srv.URL+"/api/runs/"+id+"/trace", "", ""); code != http.StatusOK || len(asList(out["events"])) == 0 {
		t.Errorf("the trace of a finished run of the dead owner on B: %d", code)
	}
	if code, _, _ := ask(t, "GET", b.srv.URL+join, "", ""); code != http.StatusSeeOther {
		t.Errorf("the join code of the dead owner's ended run on B: %d, want the run's page as a local ended run", code)
	}
}

func local2paused(in *instance, id string) bool {
	r, ok := in.reg.Get(id)
	return ok && r.Status().Paused
}

func jsonEqual(x, y any) bool {
	a, _ := json.Marshal(x)
	b, _ := json.Marshal(y)
	return bytes.Equal(a, b) && string(a) != "null"
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func fetchPage(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestTopicPrefixFlag: -topic-prefix (LAB_TOPIC_PREFIX) defaults to
// "lab." and refuses what cannot start a topic name, saying what it wants.
func TestTopicPrefixFlag(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	c, err := loadConfig(nil, env(nil), io.Discard)
	if err != nil || c.TopicPrefix != "lab." {
		t.Fatalf("default prefix: %q %v", c.TopicPrefix, err)
	}
	if c, err := loadConfig(nil, env(map[string]string{"LAB_TOPIC_PREFIX": "team-a.lab."}), io.Discard); err != nil || c.TopicPrefix != "team-a.lab." {
		t.Errorf("LAB_TOPIC_PREFIX: %q %v", c.TopicPrefix, err)
	}
	for _, bad := range []string{"", "lab/", "läb.", strings.Repeat("x", 101)} {
		if _, err := loadConfig([]string{"-topic-prefix", bad}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "e.g. lab.") {
			t.Errorf("-topic-prefix %q: %v", bad, err)
		}
	}
}

// TestInstanceTimeoutFlag: -instance-timeout (LAB_INSTANCE_TIMEOUT)
// defaults to 6 s and refuses a duration out of its bounds, saying what
// it wants.
func TestInstanceTimeoutFlag(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	if c, err := loadConfig(nil, env(nil), io.Discard); err != nil || c.InstanceTimeout != 6*time.Second {
		t.Errorf("default: %v %v", c.InstanceTimeout, err)
	}
	if c, err := loadConfig(nil, env(map[string]string{"LAB_INSTANCE_TIMEOUT": "20s"}), io.Discard); err != nil || c.InstanceTimeout != 20*time.Second {
		t.Errorf("LAB_INSTANCE_TIMEOUT=20s: %v %v", c.InstanceTimeout, err)
	}
	for _, bad := range []string{"6", "0s", "500ms", "6m", "soon"} {
		if _, err := loadConfig([]string{"-instance-timeout", bad}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "e.g. 6s") {
			t.Errorf("-instance-timeout %q: %v", bad, err)
		}
	}
}

// TestInstancesTellTheirTimeout: an instance judges another by the
// timeout that one announces, not by its own. B, which would take 1 s of
// silence for death, keeps A's run alive across A's 2 s between
// heartbeats; and still ends it once A is killed.
func TestInstancesTellTheirTimeout(t *testing.T) {
	prefix := fmt.Sprintf("t%d.", time.Now().UnixNano()%1e9)
	a := newInstanceLiving(t, prefix, 8*time.Second)
	b := newInstanceLiving(t, prefix, time.Second)
	code, out, _ := ask(t, "POST", a.srv.URL+"/api/runs", "", `{"guarantee":"at-most-once","fault":"none","messages":5,"pace_ms":100,"start_paused":true}`)
	if code != http.StatusAccepted && code != http.StatusCreated {
		t.Fatalf("start: %d %v", code, out)
	}
	id := out["id"].(string)
	seen(t, b, id, any_)
	time.Sleep(5 * time.Second) // two of A's heartbeat gaps, five of B's timeout
	if st := seen(t, b, id, any_); st["state"] != "running" {
		t.Fatalf("after 5 s, B says A's run is %v: B took A's gap between heartbeats for its death", st["state"])
	}
	a.kill()
	killed := time.Now()
	st := seen(t, b, id, func(m map[string]any) bool { return m["state"] == "failed" })
	if waited := time.Since(killed); waited > 12*time.Second {
		t.Errorf("B took %v to end a killed instance's run", waited)
	}
	t.Logf("A killed: B ended its run after %v: %v", time.Since(killed).Round(100*time.Millisecond), st["error"])
}

// TestLateInstanceKnowsWhoIsAlive: an instance that starts after another
// judges it by the heartbeats already in the control topic, not from
// scratch. A heartbeats every 7.5 s (a 30 s timeout); B, started later
// with a 1 s one, would otherwise take A for gone before A's next
// heartbeat, and fail its run.
func TestLateInstanceKnowsWhoIsAlive(t *testing.T) {
	prefix := fmt.Sprintf("t%d.", time.Now().UnixNano()%1e9)
	a := newInstanceLiving(t, prefix, 30*time.Second)
	code, out, _ := ask(t, "POST", a.srv.URL+"/api/runs", "", `{"guarantee":"at-most-once","fault":"none","messages":5,"pace_ms":100,"start_paused":true}`)
	if code != http.StatusAccepted && code != http.StatusCreated {
		t.Fatalf("start: %d %v", code, out)
	}
	id := out["id"].(string)
	time.Sleep(time.Second) // A's first heartbeat is in the topic before B starts
	b := newInstanceLiving(t, prefix, time.Second)
	seen(t, b, id, any_)
	time.Sleep(3 * time.Second) // three of B's timeouts, before A's next heartbeat
	if st := seen(t, b, id, any_); st["state"] != "running" {
		t.Fatalf("B, started after A, says A's run is %v: it did not read A's last heartbeat", st["state"])
	}
}

// TestControlsCarryNoCredential: a control through another instance
// reaches the owner as a proof of its own message, so the lab's topics
// carry neither the token nor anything that stands for it. Read raw, the
// control topic has no token and no token hash; a control forged with the
// hash (which the runs table publishes) is refused; a control sent again
// as it was is not applied twice.
func TestControlsCarryNoCredential(t *testing.T) {
	prefix := fmt.Sprintf("t%d.", time.Now().UnixNano()%1e9)
	a, b := newInstance(t, prefix), newInstance(t, prefix)
	code, out, _ := ask(t, "POST", a.srv.URL+"/api/runs", "", `{"guarantee":"at-most-once","fault":"none","messages":5,"pace_ms":100,"start_paused":true}`)
	if code != http.StatusAccepted && code != http.StatusCreated {
		t.Fatalf("start: %d %v", code, out)
	}
	id, token := out["id"].(string), out["control_token"].(string)
	run, _ := a.reg.Get(id)
	seen(t, b, id, any_)
	if code, out, _ := ask(t, "POST", b.srv.URL+"/api/runs/"+id+"/control", token, `{"action":"step"}`); code != http.StatusOK {
		t.Fatalf("a step through B: %d %v", code, out)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(testBroker.Addrs()...), kgo.ConsumeTopics(prefix+"control"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	answers := func(ctx context.Context, want func(string) bool) (ctl *kgo.Record, n int) {
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			fs.EachRecord(func(r *kgo.Record) {
				v := string(r.Value)
				if (strings.Contains(v, token) || strings.Contains(v, run.TokenHash())) && !strings.Contains(v, `"id":"forged-1"`) {
					t.Errorf("the control topic carries the token or its hash: %s", v)
				}
				if strings.Contains(v, `"type":"control"`) && ctl == nil {
					ctl = r
				}
				if want(v) {
					n++
				}
			})
		}
		return ctl, n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	step, _ := answers(ctx, func(string) bool { return false })
	cancel()
	if step == nil {
		t.Fatal("no control in the control topic")
	}
	var m map[string]any
	_ = json.Unmarshal(step.Value, &m)
	stepID := m["id"].(string)

	// The same control again, and a cancel proved with the published hash.
	forged, _ := json.Marshal(map[string]any{"type": "control", "id": "forged-1", "from": "x", "run": id, "proof": run.TokenHash(), "control": map[string]any{"action": "cancel"}})
	replay := &kgo.Record{Topic: prefix + "control", Value: step.Value}
	if err := cl.ProduceSync(context.Background(), replay, &kgo.Record{Topic: prefix + "control", Value: forged}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, stepAnswers := answers(ctx, func(v string) bool {
		return strings.Contains(v, `"type":"answer"`) && strings.Contains(v, `"id":"`+stepID+`"`)
	})
	if stepAnswers != 0 {
		t.Errorf("the step sent again was applied again (%d answers)", stepAnswers)
	}
	if run.Finished() {
		t.Error("a cancel proved with the published token hash cancelled the run")
	}

	// A control proved right, but sent (or kept and sent again) long
	// after its time, is refused.
	c := runs.Control{Action: "cancel"}
	at := time.Now().Add(-10 * time.Minute).UnixMilli()
	msg, _ := json.Marshal(struct {
		ID, Run string
		At      int64
		Control runs.Control
	}{"late-1", id, at, c})
	late, _ := json.Marshal(map[string]any{"type": "control", "id": "late-1", "from": "x", "run": id, "at": at, "proof": runs.Proof(token, msg), "control": c})
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: prefix + "control", Value: late}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, refused := answers(ctx, func(v string) bool {
		return strings.Contains(v, `"id":"late-1"`) && strings.Contains(v, `"type":"answer"`)
	})
	if refused != 1 || run.Finished() {
		t.Errorf("a cancel 10 minutes old: %d answers, run finished %v; want one refusal and the run going on", refused, run.Finished())
	}
}

// TestServeWithBrokersIsAnInstance: the lab started with -brokers joins
// the shared lab (its own topics, an instance name) and stops cleanly.
func TestServeWithBrokersIsAnInstance(t *testing.T) {
	prefix := fmt.Sprintf("lab.test%d.", time.Now().UnixNano())
	ctx, cancel := context.WithCancel(t.Context())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-brokers", strings.Join(testBroker.Addrs(), ","), "-topic-prefix", prefix}, func(string) string { return "" }, out, io.Discard)
	}()
	// The lab checks its lessons first: seconds under -race.
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(out.String(), "instance: ") {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("the lab stopped before it served: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no instance line in %q", out.String())
		}
	}
	if !strings.Contains(out.String(), "topics "+prefix+"*") {
		t.Errorf("the lab does not say which topics it shares runs through: %q", out.String())
	}
	details, err := testBroker.Admin().ListTopics(t.Context(), prefix+"runs", prefix+"frames", prefix+"control")
	if err != nil || details.Error() != nil || len(details) != 3 {
		t.Errorf("the lab's topics: %v %v %v", details.Names(), err, details.Error())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("stop: %v", err)
	}
}

// frameDelays is, for every event in msgs, the time from the event at its
// run's instance (the run started at started) to the frame that brought
// it, received at at.
func frameDelays(msgs []wsMsg, at []time.Time, started time.Time) (out []time.Duration) {
	for i, m := range msgs {
		if m.Type != "events" {
			continue
		}
		for _, raw := range m.Events {
			var e struct {
				TUs int64 `json:"t_us"`
			}
			_ = json.Unmarshal(raw, &e)
			out = append(out, at[i].Sub(started.Add(time.Duration(e.TUs)*time.Microsecond)))
		}
	}
	return out
}

// TestQueuedAndForgottenRunsThroughAnotherInstance: a run waiting in its
// instance's queue is shown queued through another instance, refuses
// controls there with the owner's 409 and can be cancelled there; a run
// its owner has forgotten is forgotten everywhere, and an instance
// started after that does not bring it back from the frames it replays.
func TestQueuedAndForgottenRunsThroughAnotherInstance(t *testing.T) {
	noneLeft(t)
	prefix := fmt.Sprintf("lab.test%d.", time.Now().UnixNano())
	a := newInstance(t, prefix, func(c *runs.Config) {
		c.MaxConcurrent, c.LightPerSlot, c.MaxQueue, c.Retention = 1, 1, 4, 2*time.Second
	})
	b := newInstance(t, prefix)
	_, holder, _ := ask(t, "POST", a.srv.URL+"/api/runs", "", `{"guarantee":"at-most-once","fault":"none","messages":5,"pace_ms":100,"start_paused":true}`)
	code, queued, _ := ask(t, "POST", a.srv.URL+"/api/runs", "", `{"guarantee":"at-most-once","fault":"none","messages":5}`)
	if code != http.StatusAccepted {
		t.Fatalf("second run on a one-slot A: %d %v, want 202", code, queued)
	}
	qid, qtoken := queued["id"].(string), queued["control_token"].(string)
	st := seen(t, b, qid, any_)
	if st["state"] != "queued" || st["queue_position"] != 0.0 {
		t.Errorf("the queued run on B: %v at %v", st["state"], st["queue_position"])
	}
	if code, out, _ := ask(t, "POST", b.srv.URL+"/api/runs/"+qid+"/control", qtoken, `{"action":"pause"}`); code != http.StatusConflict || !strings.Contains(fmt.Sprint(out["error"]), "queued") {
		t.Errorf("control of a queued run through B: %d %v, want the owner's 409", code, out)
	}
	if code, out, _ := ask(t, "DELETE", b.srv.URL+"/api/runs/"+qid, qtoken, ""); code != http.StatusOK || out["state"] != "failed" || !strings.Contains(fmt.Sprint(out["error"]), "before it started") {
		t.Errorf("DELETE of a queued run through B: %d %v", code, out)
	}
	hid := holder["id"].(string)
	if code, out, _ := ask(t, "DELETE", b.srv.URL+"/api/runs/"+hid, holder["control_token"].(string), ""); code != http.StatusOK {
		t.Fatalf("DELETE through B: %d %v", code, out)
	}
	// Both are forgotten by A after its 2 s retention, then by B.
	for _, id := range []string{qid, hid} {
		deadline := time.Now().Add(20 * time.Second)
		for {
			code, _, _ := ask(t, "GET", b.srv.URL+"/api/runs/"+id, "", "")
			if code == http.StatusNotFound {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("B still has run %s after its owner forgot it: %d", id, code)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// A run of B's, kept, whose frames come after theirs: once a later
	// instance has its events, it has read past the forgotten runs'.
	kept := postRun(t, http.DefaultClient, b.srv.URL, `{"guarantee":"at-most-once","fault":"none","messages":3}`)
	seen(t, b, kept, func(s map[string]any) bool { return s["state"] == "done" })
	c := newInstance(t, prefix)
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, tr, _ := ask(t, "GET", c.srv.URL+"/api/runs/"+kept+"/trace", "", "")
		if len(asList(tr["events"])) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a later instance has no events of B's kept run %s", kept)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, id := range []string{qid, hid} {
		if code, out, _ := ask(t, "GET", c.srv.URL+"/api/runs/"+id, "", ""); code != http.StatusNotFound {
			t.Errorf("a later instance brought back forgotten run %s: %d %v", id, code, out["state"])
		}
	}
}

// TestLiveTraceThroughAnotherInstance measures what a viewer on another
// instance waits: 20 lesson runs at once on A (20 deposits, 100 ms apart),
// each watched by one websocket on A and one on B; for every event, the
// time from the owner's event to its frame at each viewer. Reported, not
// asserted: a loaded machine would make a bound flaky.
func TestLiveTraceThroughAnotherInstance(t *testing.T) {
	prefix := fmt.Sprintf("lab.test%d.", time.Now().UnixNano())
	a, b := newInstance(t, prefix), newInstance(t, prefix)
	const n = 20
	type watch struct{ onA, onB []time.Duration }
	results := make(chan watch, n)
	for range n {
		id := postRun(t, http.DefaultClient, a.srv.URL, `{"guarantee":"at-least-once","fault":"produce-ack-lost","messages":20,"pace_ms":100}`)
		seen(t, b, id, any_)
		local, _ := a.reg.Get(id)
		ca, cb := dialRun(t, a.srv, id), dialRun(t, b.srv, id)
		go func() {
			defer ca.Close()
			defer cb.Close()
			delays := func(msgs []wsMsg, at []time.Time) []time.Duration { return frameDelays(msgs, at, local.Started()) }
			done := make(chan []time.Duration, 1)
			go func() { m, at, _ := readAllFrames(t, cb); done <- delays(m, at) }()
			m, at, _ := readAllFrames(t, ca)
			results <- watch{onA: delays(m, at), onB: <-done}
		}()
	}
	var onA, onB []time.Duration
	for range n {
		w := <-results
		onA, onB = append(onA, w.onA...), append(onB, w.onB...)
	}
	if len(onB) < n*50 {
		t.Fatalf("B's viewers got %d live events of %d runs", len(onB), n)
	}
	pct := func(d []time.Duration, q float64) time.Duration {
		slices.Sort(d)
		return d[int(q*float64(len(d)-1))].Round(time.Millisecond)
	}
	t.Logf("%d runs, event at owner → frame: viewers on A (the owner) p50 %v p99 %v over %d events; viewers on B p50 %v p99 %v max %v over %d events",
		n, pct(onA, 0.5), pct(onA, 0.99), len(onA), pct(onB, 0.5), pct(onB, 0.99), pct(onB, 1), len(onB))
}

// noneLeft checks, once the test's instances have shut down, that
// nothing of theirs is left running: their Kafka clients, publishers,
// runs, mirrors' feeds. Call it before starting them: cleanups run last
// first.
func noneLeft(t *testing.T) {
	t.Cleanup(func() {
		var left []string
		for range 100 {
			if left = instanceGoroutines(); len(left) == 0 {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("%d goroutines of the instances left after they stopped:\n%s", len(left), strings.Join(left, "\n\n"))
	})
}

// instanceGoroutines are the stacks of goroutines that a lab instance
// starts: its runs, feeds and viewers, its fleet, and Kafka clients other
// than the test suite's own (started by TestMain, goroutine 1).
func instanceGoroutines() []string {
	buf := make([]byte, 8<<20)
	var out []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		ours := strings.Contains(g, "lab/lessons/fleet.") || strings.Contains(g, "lab/lessons/runs.") ||
			strings.Contains(g, "lab/lessons/pipeline.") || strings.Contains(g, "lab/server.(*feed)") || strings.Contains(g, "lab/server.(*viewer)")
		client := strings.Contains(g, "franz-go/pkg/kgo.") && !strings.Contains(g, "kgo.NewClient in goroutine 1\n")
		if ours || client {
			out = append(out, g)
		}
	}
	return out
}
