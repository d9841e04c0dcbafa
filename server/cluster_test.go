package main

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kafka-delivery-lab/lab/lessons"
)

// TestClusterFaultsRefusedWithoutCluster: on the embedded broker the
// catalog lists the cluster faults with "needs": "cluster", a run of one
// answers 409 with the sentence that says how to start cluster mode (the
// compare endpoint too), and the run form shows them disabled with it.
func TestClusterFaultsRefusedWithoutCluster(t *testing.T) {
	a, _ := newTestApp(t, 4)
	rec, _ := do(t, a, http.MethodGet, "/api/faults", "")
	if !strings.Contains(rec.Body.String(), `"id":"leader-crash","where":"broker","text_key":"fault.leader-crash","explains":{"lost":"explain.lost.leader-crash"},"needs":"cluster"`) {
		t.Fatalf("GET /api/faults does not list leader-crash as needing a cluster: %s", rec.Body)
	}
	if !strings.Contains(rec.Body.String(), `"id":"follower-down","where":"broker","text_key":"fault.follower-down","needs":"cluster"`) {
		t.Fatalf("GET /api/faults does not list follower-down as needing a cluster: %s", rec.Body)
	}
	for _, f := range []string{"leader-crash", "follower-down"} {
		for _, req := range []struct{ path, body string }{
			{"/api/runs", `{"guarantee":"at-least-once","fault":"` + f + `"}`},
			{"/api/compare", `{"fault":"` + f + `"}`},
		} {
			rec, out := do(t, a, http.MethodPost, req.path, req.body)
			msg, _ := out["error"].(string)
			if rec.Code != http.StatusConflict || !strings.Contains(msg, "-cluster 3") {
				t.Errorf("POST %s %s: %d %s, want 409 saying how to start cluster mode", req.path, req.body, rec.Code, rec.Body)
			}
		}
		for _, lang := range []string{"en", "ko"} {
			rec, _ := do(t, a, http.MethodGet, "/lessons/at-most-once?lang="+lang, "")
			body := rec.Body.String()
			i := strings.Index(body, `value="`+f+`"`)
			if i < 0 {
				t.Fatalf("%s: the run form has no %s", lang, f)
			}
			input := body[strings.LastIndex(body[:i], "<input"):]
			input = input[:strings.Index(input, ">")]
			if !strings.Contains(input, "disabled") {
				t.Errorf("%s: %s is not disabled: %s", lang, f, input)
			}
			if !strings.Contains(body, `data-testid="needs-`+f+`"`) || !strings.Contains(body, "go run ./server -cluster 3") {
				t.Errorf("%s: the form does not say how to start cluster mode for %s", lang, f)
			}
			if strings.Contains(input, "checked") {
				t.Errorf("%s: the disabled %s is checked", lang, f)
			}
		}
	}
	for _, f := range lessons.Faults() {
		if f.Needs == "" {
			continue
		}
		for _, id := range lessons.Injectable() {
			if id == f.ID {
				t.Errorf("%s needs a cluster and is injectable into a running run", f.ID)
			}
		}
	}
}

// TestClusterFlag: -cluster takes 3 to 5 brokers, not with -brokers, and
// without Java says in one sentence what it needs.
func TestClusterFlag(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for _, bad := range [][]string{{"-cluster", "2"}, {"-cluster", "x"}, {"-cluster", "3", "-brokers", "127.0.0.1:9092"}} {
		if _, err := loadConfig(bad, env(nil), io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	c, err := loadConfig(nil, env(map[string]string{"LAB_CLUSTER": "3"}), io.Discard)
	if err != nil || c.Cluster != 3 {
		t.Fatalf("LAB_CLUSTER=3: %+v %v", c, err)
	}
	var stdout, stderr bytes.Buffer
	err = run(t.Context(), []string{"-cluster", "3", "-addr", "127.0.0.1:0"}, env(map[string]string{"JAVA_HOME": t.TempDir()}), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "needs Java 17 or newer") || strings.Count(err.Error(), ". ") > 0 {
		t.Fatalf("without Java: %v", err)
	}
}
