package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

type wsMsg struct {
	Type    string            `json:"type"`
	Events  []json.RawMessage `json:"events"`
	Run     map[string]any    `json:"run"`
	Sent    int64             `json:"sent"`
	Skipped int64             `json:"skipped"`
}

func dialRun(t *testing.T, srv *httptest.Server, id string) *websocket.Conn {
	t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial(wsURL(srv, id), http.Header{"Origin": {srv.URL}})
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	return conn
}

// readAllFrames reads until the server closes, with the time each frame
// arrived.
func readAllFrames(t *testing.T, conn *websocket.Conn) (msgs []wsMsg, at []time.Time, closeErr error) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return msgs, at, err
		}
		var m wsMsg
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("frame is not JSON: %s", data)
		}
		msgs, at = append(msgs, m), append(at, time.Now())
	}
}

func createRun(t *testing.T, srv *httptest.Server, body string) string {
	t.Helper()
	return postRun(t, http.DefaultClient, srv.URL, body)
}

// TestLiveTrace: snapshot first, then batched events and progress, the
// result last, then a normal close; a second viewer joining mid-run gets a
// snapshot and the rest.
func TestLiveTrace(t *testing.T) {
	a, _ := newTestApp(t, 4)
	srv := httptest.NewServer(a)
	defer srv.Close()
	id := createRun(t, srv, `{"guarantee":"at-least-once","fault":"produce-ack-lost","messages":40,"pace_ms":10}`)
	type reading struct {
		msgs []wsMsg
		at   []time.Time
		err  error
	}
	watch := func(conn *websocket.Conn) chan reading {
		c := make(chan reading, 1)
		go func() {
			var r reading
			r.msgs, r.at, r.err = readAllFrames(t, conn)
			c <- r
		}()
		return c
	}
	first := dialRun(t, srv, id)
	defer first.Close()
	firstRead := watch(first)
	time.Sleep(150 * time.Millisecond)
	second := dialRun(t, srv, id)
	defer second.Close()
	secondRead := watch(second)
	readings := map[string]reading{"first": <-firstRead, "second": <-secondRead}

	for name, rd := range readings {
		msgs, at, err := rd.msgs, rd.at, rd.err
		if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
			t.Fatalf("%s viewer: want a normal close after the result, got %v", name, err)
		}
		if len(msgs) < 3 || msgs[0].Type != "snapshot" || msgs[len(msgs)-1].Type != "result" {
			t.Fatalf("%s viewer: frames %v", name, types(msgs))
		}
		res := msgs[len(msgs)-1].Run["result"].(map[string]any)
		if res["duplicated"].(float64) < 1 {
			t.Fatalf("%s viewer: result %v", name, res)
		}
		seen, progress := map[string]bool{}, false
		for _, m := range msgs {
			if m.Type == "progress" {
				progress = true
			}
			for _, e := range m.Events {
				var ev struct {
					Seq  int64
					Kind string
				}
				_ = json.Unmarshal(e, &ev)
				seen[ev.Kind] = true
			}
		}
		// Batched: at most one frame of events per 50 ms (the end of the
		// run drains what is left at once, hence the slack).
		eventFrames := 0
		for _, m := range msgs {
			if m.Type == "events" {
				eventFrames++
			}
		}
		if span := at[len(at)-1].Sub(at[0]); eventFrames > int(span/frameEvery)+3 {
			t.Errorf("%s viewer: %d event frames in %v: not batched", name, eventFrames, span)
		}
		for _, k := range []string{"send", "ack", "fetch", "credit", "commit", "fault", "audit"} {
			if !seen[k] {
				t.Errorf("%s viewer never saw a %q event", name, k)
			}
		}
		if !progress {
			t.Errorf("%s viewer got no progress frame", name)
		}
	}
}

// TestSlowViewerNeverSlowsTheRun: a viewer that never reads does not slow
// the run, and the feed holds a bounded number of frames for it.
func TestSlowViewerNeverSlowsTheRun(t *testing.T) {
	a, reg := newTestApp(t, 4)
	// Small socket buffers on both ends: the viewer is stalled within a few
	// frames, however fast the run (a 50,000-deposit run now sends fewer
	// frames than loopback buffers hold, and its viewer would finish).
	srv := httptest.NewUnstartedServer(a)
	srv.Listener = smallBuffers{srv.Listener}
	srv.Start()
	defer srv.Close()
	id := createRun(t, srv, `{"guarantee":"at-least-once","fault":"none","messages":50000}`)
	stalled, _, err := stalledDialer.Dial(wsURL(srv, id), http.Header{"Origin": {srv.URL}}) // never read from
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	r, _ := reg.Get(id)
	select {
	case <-r.Done:
	case <-time.After(60 * time.Second):
		t.Fatal("the run did not finish with a stalled viewer")
	}
	if st := r.Status(); st.State != "done" || st.Result.Balance != 50000 {
		t.Fatalf("run: %+v", st)
	}
	a.feeds.mu.Lock()
	f := a.feeds.m[id]
	a.feeds.mu.Unlock()
	if f == nil {
		t.Fatal("the stalled viewer's feed is gone: it was not stalled")
	}
	f.mu.Lock()
	kept := len(f.frames)
	f.mu.Unlock()
	if kept > keptFrames {
		t.Fatalf("feed keeps %d frames, bound %d", kept, keptFrames)
	}
}

func TestCrossOriginUpgradeRefused(t *testing.T) {
	a, _ := newTestApp(t, 4)
	srv := httptest.NewServer(a)
	defer srv.Close()
	id := createRun(t, srv, `{"guarantee":"at-most-once","fault":"none","messages":5}`)
	_, resp, err := websocket.DefaultDialer.Dial(wsURL(srv, id), http.Header{"Origin": {"https://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin upgrade: err %v, resp %v", err, resp)
	}
	_, resp, err = websocket.DefaultDialer.Dial(wsURL(srv, "r-nope"), nil)
	if err == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown run: %v %v", err, resp)
	}
}

func TestOversizedClientMessageClosesSocket(t *testing.T) {
	a, _ := newTestApp(t, 4)
	srv := httptest.NewServer(a)
	defer srv.Close()
	id := createRun(t, srv, `{"guarantee":"at-most-once","fault":"none","messages":20000,"pace_ms":1}`)
	conn := dialRun(t, srv, id)
	defer conn.Close()
	_ = conn.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", 64<<10)))
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) && !strings.Contains(err.Error(), "reset") && !strings.Contains(err.Error(), "EOF") {
				t.Fatalf("want the socket closed for a too-big message, got %v", err)
			}
			break
		}
	}
}

func types(msgs []wsMsg) []string {
	var ts []string
	for _, m := range msgs {
		ts = append(ts, m.Type)
	}
	return ts
}
