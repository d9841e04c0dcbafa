package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestSandboxBadInput: a custom run's bad settings are refused with a 400
// naming the setting, never a 500; the combinations a client refuses
// quote the client's rule.
func TestSandboxBadInput(t *testing.T) {
	a, reg := newTestApp(t, 4)
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		field, says              string
	}{
		{"no claim", "POST", "/api/runs", `{"preset":"custom","fault":"none","settings":{"acks":"all","commit":"after"}}`, 400, "claim", "claim is required"},
		{"no settings", "POST", "/api/runs", `{"preset":"custom","claim":"at-least-once","fault":"none"}`, 400, "settings", "settings are required"},
		{"unknown setting", "POST", "/api/runs", `{"preset":"custom","claim":"at-least-once","fault":"none","settings":{"acks":"all","commit":"after","linger":5}}`, 400, "", "linger"},
		{"retries as text", "POST", "/api/runs", `{"preset":"custom","claim":"at-least-once","fault":"none","settings":{"acks":"all","retries":"many","commit":"after"}}`, 400, "", "retries"},
		{"acks 2", "POST", "/api/runs", `{"preset":"custom","claim":"at-least-once","fault":"none","settings":{"acks":"2","commit":"after"}}`, 400, "settings.acks", "0, 1 or all"},
		{"idempotence with acks=1", "POST", "/api/runs", `{"preset":"custom","claim":"exactly-once","fault":"none","settings":{"acks":"1","retries":3,"idempotent":true,"commit":"after"}}`, 400, "settings.acks",
			"Must set acks to all in order to use the idempotent producer"},
		{"transactions without idempotence", "POST", "/api/runs", `{"preset":"custom","claim":"exactly-once","fault":"none","settings":{"acks":"all","retries":3,"transactional":true,"commit":"after"}}`, 400, "settings.transactional",
			"Cannot set a transactional.id without also enabling idempotence"},
		{"settings without custom", "POST", "/api/runs", `{"guarantee":"at-least-once","fault":"none","settings":{"acks":"all","commit":"after"}}`, 400, "settings", "preset custom"},
		{"level's frozen knob", "POST", "/api/runs", `{"preset":"custom","claim":"at-least-once","level":"alo-crash","settings":{"acks":"all","commit":"after"}}`, 400, "settings.acks", "does not let settings.acks change"},
		{"lines, retries not a number", "GET", "/api/sandbox/lines?claim=at-least-once&retries=x", ``, 400, "settings.retries", "whole number"},
		{"unknown level", "GET", "/levels/nope", ``, 404, "", "/levels lists them"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, out := do(t, a, tc.method, tc.path, tc.body)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			msg, _ := out["error"].(string)
			if !strings.Contains(msg, tc.says) {
				t.Fatalf("%q does not say %q", msg, tc.says)
			}
			if got, _ := out["field"].(string); tc.field != "" && got != tc.field {
				t.Fatalf("field %q, want %q (%s)", got, tc.field, msg)
			}
		})
	}
	if n := reg.Active(); n != 0 {
		t.Fatalf("bad requests started %d runs", n)
	}

	// The lines of refused settings: an answer quoting the rule.
	rec, out := do(t, a, "GET", "/api/sandbox/lines?claim=exactly-once&fault=none&acks=all&retries=0&idempotent=true", "")
	if rec.Code != http.StatusOK || !strings.Contains(out["refused"].(string), "Must set retries to non-zero") || out["field"] != "settings.retries" {
		t.Fatalf("refused lines: %d %s", rec.Code, rec.Body)
	}
	rec, out = do(t, a, "GET", "/api/sandbox/lines?claim=exactly-once&fault=none&acks=all&retries=2&idempotent=true&transactional=true&commit=transaction", "")
	if rec.Code != http.StatusOK || len(out["lines"].([]any)) != 4 || !strings.Contains(out["share"].(string), "transactional=true") {
		t.Fatalf("lines: %d %s", rec.Code, rec.Body)
	}
	rec, out2 := doList(t, a, "/api/levels")
	if rec.Code != http.StatusOK || len(out2) < 8 {
		t.Fatalf("GET /api/levels: %d %s", rec.Code, rec.Body)
	}
}

// TestCustomRunThroughTheAPI: a custom run claiming exactly-once with
// at-least-once settings under a processor crash is judged violated,
// checked against the prediction, and blames the commit.
func TestCustomRunThroughTheAPI(t *testing.T) {
	a, _ := newTestApp(t, 4)
	out := startRun(t, a, `{"preset":"custom","claim":"exactly-once","fault":"processor-crash","messages":30,"settings":{"acks":"all","retries":3,"commit":"after"}}`)
	res := out["result"].(map[string]any)
	if out["guarantee"] != "exactly-once" || out["preset"] != "custom" || out["claim"] != "exactly-once" || res["verdict"] != "violated" {
		t.Fatalf("custom run: %v", out)
	}
	if res["mismatch"] != nil || res["expected"] == nil {
		t.Errorf("not as predicted: expected %v, mismatch %v", res["expected"], res["mismatch"])
	}
	blame, _ := res["blame"].([]any)
	if len(blame) != 1 || blame[0].(map[string]any)["settings"].([]any)[0] != "commit" {
		t.Errorf("blame %v, want commit", res["blame"])
	}
}

// doList GETs path and decodes its JSON array.
func doList(t *testing.T, h http.Handler, path string) (*httptest.ResponseRecorder, []any) {
	t.Helper()
	req := labRequest("GET", path, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out []any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec, out
}
