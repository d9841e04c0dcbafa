package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestRunsList: GET /api/runs lists the lab's runs, unfinished first, each
// with its page's URL, and never a presenter's join code or control token.
func TestRunsList(t *testing.T) {
	a, _ := newTestApp(t, 4)
	rec, out := do(t, a, "GET", "/api/runs", "")
	if rec.Code != http.StatusOK || len(out["runs"].([]any)) != 0 {
		t.Fatalf("GET /api/runs on a new lab: %d %s, want 200 and no runs", rec.Code, rec.Body)
	}
	_, done := do(t, a, "POST", "/api/runs", `{"guarantee":"at-most-once","fault":"none","messages":5,"pace_ms":0}`)
	_, live := do(t, a, "POST", "/api/runs", `{"guarantee":"at-least-once","fault":"none","messages":200,"pace_ms":1000,"presenter":true}`)
	r, _ := a.runs.Get(done["id"].(string))
	waitDone(t, r)
	rec, out = do(t, a, "GET", "/api/runs", "")
	list := out["runs"].([]any)
	if rec.Code != http.StatusOK || len(list) != 2 {
		t.Fatalf("GET /api/runs: %d %s, want both runs", rec.Code, rec.Body)
	}
	first, second := list[0].(map[string]any), list[1].(map[string]any)
	if first["id"] != live["id"] || second["id"] != done["id"] || second["state"] != "done" || first["url"] != "/runs/"+live["id"].(string) || first["presenter"] != true {
		t.Errorf("GET /api/runs: %v, want the running presenter run first, then the finished one", list)
	}
	body := rec.Body.String()
	if strings.Contains(body, live["control_token"].(string)) || strings.Contains(body, strings.TrimPrefix(live["join"].(string), "/join/")) {
		t.Errorf("GET /api/runs gives away a token or join code: %s", body)
	}
}
