package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// labRequest is httptest.NewRequest addressed to the lab by a name it
// serves (httptest's default Host, example.com, is refused with 421).
func labRequest(method, target string, body io.Reader) *http.Request {
	r := httptest.NewRequest(method, target, body)
	r.Host = "localhost:8080"
	return r
}

const runBody = `{"guarantee":"at-most-once","fault":"none","messages":1}`

// TestHostilePage sends what a page on another site can make the
// learner's browser send, and what DNS rebinding makes it send. Each is
// refused before it reaches a handler; the same request from the lab's
// own page is served.
func TestHostilePage(t *testing.T) {
	a, _ := newTestApp(t, 4)
	srv := httptest.NewServer(a)
	defer srv.Close()
	id := startPaused(t, a)
	for _, tc := range []struct {
		name, method, path, host, body string
		headers                        map[string]string
		want                           int
		says                           string
	}{
		{name: "cross-site fetch, text/plain, no preflight", method: "POST", path: "/api/runs", body: runBody,
			headers: map[string]string{"Content-Type": "text/plain", "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
			want:    http.StatusForbidden, says: "another site"},
		{name: "foreign Origin, JSON", method: "POST", path: "/api/runs", body: runBody,
			headers: map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example"},
			want:    http.StatusForbidden, says: "another site"},
		{name: "Sec-Fetch-Site cross-site, no Origin", method: "POST", path: "/api/compare", body: `{"fault":"none"}`,
			headers: map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"},
			want:    http.StatusForbidden, says: "another site"},
		{name: "Origin null (sandboxed frame)", method: "POST", path: "/api/runs/" + id + "/control", body: `{"action":"resume"}`,
			headers: map[string]string{"Content-Type": "application/json", "Origin": "null"},
			want:    http.StatusForbidden, says: "another site"},
		{name: "text/plain from a script", method: "POST", path: "/api/runs", body: runBody,
			headers: map[string]string{"Content-Type": "text/plain"},
			want:    http.StatusUnsupportedMediaType, says: "Content-Type: application/json"},
		{name: "form post", method: "POST", path: "/api/runs/" + id + "/control", body: "action=resume",
			headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			want:    http.StatusUnsupportedMediaType, says: "Content-Type: application/json"},
		{name: "no Content-Type", method: "POST", path: "/api/compare", body: `{"fault":"none"}`,
			want: http.StatusUnsupportedMediaType, says: "Content-Type: application/json"},
		{name: "DNS rebinding: a page's own name as Host, reading", method: "GET", path: "/api/runs/" + id, host: "evil.example:" + portOf(srv.URL),
			want: http.StatusMisdirectedRequest, says: "host name"},
		{name: "DNS rebinding: starting a run", method: "POST", path: "/api/runs", host: "evil.example", body: runBody,
			headers: map[string]string{"Content-Type": "application/json"},
			want:    http.StatusMisdirectedRequest, says: "-public-url"},
		{name: "DNS rebinding: the websocket", method: "GET", path: "/ws/runs/" + id, host: "evil.example:" + portOf(srv.URL),
			headers: map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": "http://evil.example:" + portOf(srv.URL)},
			want:    http.StatusMisdirectedRequest, says: "host name"},
		{name: "the lab's own page", method: "POST", path: "/api/runs", body: runBody,
			headers: map[string]string{"Content-Type": "application/json; charset=utf-8", "Origin": srv.URL, "Sec-Fetch-Site": "same-origin"},
			want:    http.StatusCreated},
		{name: "a script (no Origin)", method: "POST", path: "/api/runs", host: "[::1]:8080", body: runBody,
			headers: map[string]string{"Content-Type": "application/json"},
			want:    http.StatusCreated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			if tc.host != "" {
				req.Host = tc.host
			}
			// A timeout: without the guard the rebound websocket upgrade
			// succeeds and the server holds the connection open.
			resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.want || !strings.Contains(string(got), tc.says) {
				t.Fatalf("%d %s, want %d saying %q", resp.StatusCode, got, tc.want, tc.says)
			}
		})
	}
}

// TestPublicURL: a deployed lab answers to its public host and to pages
// from its public origin (behind a proxy that passes on another Host),
// and to nothing else.
func TestPublicURL(t *testing.T) {
	a, _ := newTestApp(t, 4)
	u, ok := parsePublicURL("https://Lab.Example.com/")
	if !ok {
		t.Fatal("https://Lab.Example.com/ refused")
	}
	a.hosts.public = u
	for _, tc := range []struct {
		host, origin string
		want         int
	}{
		{"lab.example.com", "https://lab.example.com", http.StatusCreated},
		{"127.0.0.1:8080", "https://lab.example.com", http.StatusCreated}, // a proxy passing its upstream's Host
		{"lab.example.com", "https://evil.example", http.StatusForbidden},
		{"other.example.com", "https://lab.example.com", http.StatusMisdirectedRequest},
	} {
		req := labRequest("POST", "/api/runs", strings.NewReader(runBody))
		req.Host = tc.host
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("Host %s, Origin %s: %d %s, want %d", tc.host, tc.origin, rec.Code, rec.Body, tc.want)
		}
	}
	for _, bad := range []string{"lab.example.com", "ftp://lab.example.com", "https://lab.example.com/path", "https://", "https://u@lab.example.com"} {
		if _, ok := parsePublicURL(bad); ok {
			t.Errorf("-public-url %q accepted", bad)
		}
	}
}

func portOf(rawURL string) string { return rawURL[strings.LastIndex(rawURL, ":")+1:] }

// startPaused starts a paused one-deposit run and returns its id.
func startPaused(t *testing.T, a *app) string {
	t.Helper()
	rec, out := post(t, a, "/api/runs", "", `{"guarantee":"at-most-once","fault":"none","messages":1,"start_paused":true}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("start: %d %s", rec.Code, rec.Body)
	}
	return out["id"].(string)
}
