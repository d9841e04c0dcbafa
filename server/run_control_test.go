package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kafka-delivery-lab/lab/lessons/runs"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

func post(t *testing.T, h http.Handler, path, token, body string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	req := labRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec, out
}

// stages counts the events that mean a deposit advanced one stage: sent
// by the producer, or credited by the processor.
func stages(r *runs.Run) int {
	events := r.Events()
	n := 0
	for _, e := range events {
		if e.Kind == trace.Send || e.Kind == trace.Credit {
			n++
		}
	}
	return n
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestStepAdvancesOneDepositOneStage: in a paused run each step lets exactly
// one deposit through one stage — its real Kafka call, visible in the trace
// and in the topics.
func TestStepAdvancesOneDepositOneStage(t *testing.T) {
	a, reg := newTestApp(t, 4)
	rec, out := post(t, a, "/api/runs", "", `{"guarantee":"at-least-once","fault":"none","messages":3,"start_paused":true}`)
	if rec.Code != 201 || out["control_token"] == "" {
		t.Fatalf("create: %d %v", rec.Code, out)
	}
	id, token := out["id"].(string), out["control_token"].(string)
	r, _ := reg.Get(id)
	ctx := context.Background()
	inputEnd := func() int64 {
		offs, err := testBroker.Admin().ListEndOffsets(ctx, r.Pipeline.Names.Input)
		if err != nil {
			return -1
		}
		o, _ := offs.Lookup(r.Pipeline.Names.Input, 0)
		return o.Offset
	}
	time.Sleep(300 * time.Millisecond)
	if n := stages(r); n != 0 {
		t.Fatalf("a paused run advanced %d stages before any step", n)
	}
	for i := 1; i <= 6; i++ { // 3 deposits × (send, credit)
		if rec, out := post(t, a, "/api/runs/"+id+"/control", token, `{"action":"step"}`); rec.Code != 200 || out["paused"] != true {
			t.Fatalf("step %d: %d %v", i, rec.Code, out)
		}
		waitFor(t, "the step's stage", func() bool { return stages(r) >= i })
		time.Sleep(150 * time.Millisecond)
		if n := stages(r); n != i {
			t.Fatalf("after %d steps, %d stages advanced", i, n)
		}
		if i == 1 && inputEnd() != 1 {
			t.Fatalf("after the first step the input topic holds %d records, want 1", inputEnd())
		}
	}
	waitFor(t, "the run to end", func() bool { return r.Status().State == runs.Done })
	if res := r.Status().Result; res.Balance != 3 || res.Lost != 0 {
		t.Fatalf("stepped run: %+v", res)
	}
	if rec, _ := post(t, a, "/api/runs/"+id+"/control", token, `{"action":"step"}`); rec.Code != http.StatusConflict {
		t.Fatalf("stepping a finished run: %d, want 409", rec.Code)
	}
}

func TestControlRefusals(t *testing.T) {
	a, _ := newTestApp(t, 4)
	_, out := post(t, a, "/api/runs", "", `{"guarantee":"exactly-once","fault":"none","messages":50,"pace_ms":200,"presenter":true}`)
	id, token := out["id"].(string), out["control_token"].(string)
	if !strings.HasPrefix(out["join"].(string), "/join/") {
		t.Fatalf("a presenter run has a join code: %v", out)
	}
	for _, tc := range []struct {
		name, token, body string
		status            int
	}{
		{"no token", "", `{"action":"pause"}`, 403},
		{"wrong token", "x" + token, `{"action":"pause"}`, 403},
		{"unknown action", token, `{"action":"explode"}`, 400},
		{"missing action", token, `{}`, 400},
		{"step while running", token, `{"action":"step"}`, 409},
		{"bad pace", token, `{"action":"pace","pace_ms":-1}`, 400},
		{"bad fault", token, `{"action":"fault","fault":"meteor"}`, 400},
		{"pause", token, `{"action":"pause"}`, 200},
		{"pace", token, `{"action":"pace","pace_ms":0}`, 200},
		{"resume", token, `{"action":"resume"}`, 200},
	} {
		rec, out := post(t, a, "/api/runs/"+id+"/control", tc.token, tc.body)
		if rec.Code != tc.status {
			t.Errorf("%s: %d %v, want %d", tc.name, rec.Code, out, tc.status)
		}
		if tc.status != 200 && len(out["error"].(string)) < 10 {
			t.Errorf("%s: no reason given: %v", tc.name, out)
		}
	}
	// The join code leads to the run's page.
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, labRequest("GET", strings.ToLower(out2(t, a, id)), nil))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/runs/"+id {
		t.Fatalf("join: %d %q", rec.Code, rec.Header().Get("Location"))
	}
}

func out2(t *testing.T, a http.Handler, id string) string {
	_, st := do(t, a, "GET", "/api/runs/"+id, "")
	return st["join"].(string)
}

// TestStudentSocketCannotControl: a control sent over the websocket without
// the token is refused with a reason; with it, it works.
func TestStudentSocketCannotControl(t *testing.T) {
	a, reg := newTestApp(t, 4)
	srv := httptest.NewServer(a)
	defer srv.Close()
	_, out := post(t, a, "/api/runs", "", `{"guarantee":"at-most-once","fault":"none","messages":200,"pace_ms":50,"presenter":true}`)
	id, token := out["id"].(string), out["control_token"].(string)
	conn := dialRun(t, srv, id)
	defer conn.Close()
	read := func(want string) map[string]any {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				t.Fatalf("waiting for %s: %v", want, err)
			}
			var m map[string]any
			_ = json.Unmarshal(data, &m)
			if m["type"] == want {
				return m
			}
		}
	}
	_ = conn.WriteMessage(websocket.TextMessage, []byte(`{"action":"pause"}`))
	if m := read("error"); !strings.Contains(m["error"].(string), "token") {
		t.Fatalf("student control: %v", m)
	}
	r, _ := reg.Get(id)
	if r.Pipeline.Pacer.Paused() {
		t.Fatal("a student paused the run")
	}
	_ = conn.WriteMessage(websocket.TextMessage, []byte(`{"action":"pause","token":"`+token+`"}`))
	if m := read("control"); m["run"].(map[string]any)["paused"] != true {
		t.Fatalf("presenter control over the socket: %v", m)
	}
}

// TestLiveFaultAtAStep: a fault injected while paused strikes at the next
// chance, with each guarantee's expected outcome.
func TestLiveFaultAtAStep(t *testing.T) {
	a, reg := newTestApp(t, 4)
	for _, tc := range []struct {
		guarantee, fault string
		check            func(res map[string]any) bool
	}{
		{"at-least-once", "produce-ack-lost", func(r map[string]any) bool { return r["duplicated"].(float64) >= 1 && r["lost"].(float64) == 0 }},
		{"at-most-once", "produce-ack-lost", func(r map[string]any) bool { return r["duplicated"].(float64) == 0 && r["recovered"].(float64) >= 1 }},
		{"exactly-once", "processor-crash", func(r map[string]any) bool { return r["duplicated"].(float64) == 0 && r["lost"].(float64) == 0 }},
		{"at-least-once", "processor-crash", func(r map[string]any) bool { return r["duplicated"].(float64) >= 1 && r["lost"].(float64) == 0 }},
	} {
		_, out := post(t, a, "/api/runs", "", `{"guarantee":"`+tc.guarantee+`","fault":"none","messages":6,"start_paused":true}`)
		id, token := out["id"].(string), out["control_token"].(string)
		r, _ := reg.Get(id)
		for i := 1; i <= 3; i++ {
			post(t, a, "/api/runs/"+id+"/control", token, `{"action":"step"}`)
			waitFor(t, "a step", func() bool { return stages(r) >= i })
		}
		if rec, _ := post(t, a, "/api/runs/"+id+"/control", token, `{"action":"fault","fault":"`+tc.fault+`"}`); rec.Code != 200 {
			t.Fatalf("inject: %d", rec.Code)
		}
		post(t, a, "/api/runs/"+id+"/control", token, `{"action":"resume"}`)
		st := waitRun(t, a, id)
		if res := st["result"].(map[string]any); !tc.check(res) {
			t.Errorf("%s with %s injected live: %v", tc.guarantee, tc.fault, res)
		}
	}
}
