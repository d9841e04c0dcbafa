package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons/runs"
)

func wsURL(srv *httptest.Server, id string) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/runs/" + id
}

// dialer for many sockets: small buffers, a bounded handshake.
var manyDialer = &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}

func dialWS(srv *httptest.Server, id string) (*websocket.Conn, *http.Response, error) {
	return manyDialer.Dial(wsURL(srv, id), http.Header{"Origin": {srv.URL}})
}

// heapSampler records the peak live heap while it runs.
type heapSampler struct {
	peak atomic.Uint64
	stop chan struct{}
	done chan struct{}
}

func sampleHeap(every time.Duration) *heapSampler {
	s := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > s.peak.Load() {
				s.peak.Store(m.HeapAlloc)
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *heapSampler) Stop() uint64 {
	close(s.stop)
	<-s.done
	return s.peak.Load()
}

// createPausedRun starts a run paused before its first deposit, so that
// a test can set things up however slow the machine, then resume it.
func createPausedRun(t *testing.T, srv *httptest.Server, body string) (id, token string) {
	t.Helper()
	body = strings.TrimSuffix(body, "}") + `,"start_paused":true}`
	resp, err := http.Post(srv.URL+"/api/runs", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var created struct {
		ID    string `json:"id"`
		Token string `json:"control_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %v", resp.StatusCode, err)
	}
	return created.ID, created.Token
}

func resumeRun(t *testing.T, srv *httptest.Server, id, token string) {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+"/api/runs/"+id+"/control", strings.NewReader(`{"action":"resume"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("resume: %d", resp.StatusCode)
	}
}

// waitDone waits (bounded) for a run to end.
func waitDone(t *testing.T, r *runs.Run) runs.Status {
	t.Helper()
	select {
	case <-r.Done:
	case <-time.After(60 * time.Second):
		t.Fatalf("run %s did not end", r.ID)
	}
	return r.Status()
}

func feedOf(a *app, id string) *feed {
	a.feeds.mu.Lock()
	defer a.feeds.mu.Unlock()
	return a.feeds.m[id]
}

func keptFramesOf(f *feed) (n int, bytes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fr := range f.frames {
		bytes += len(fr.data)
	}
	return len(f.frames), bytes
}

// smallBuffers makes every accepted connection's kernel send buffer
// small, so that a viewer that does not read blocks the server's writes
// after a few frames instead of after megabytes.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(8 << 10)
	}
	return c, err
}

// stalledDialer's sockets have a small receive buffer and never read.
var stalledDialer = &websocket.Dialer{
	HandshakeTimeout: 30 * time.Second,
	NetDialContext: (&net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 8<<10)
		})
		return errors.Join(err, serr)
	}}).DialContext,
}

func viewersOf(f *feed) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.viewers
}

// TestStalledViewers: twenty viewers that never read a byte of a fast
// 30,000-deposit run, with socket buffers small enough that the server's
// writes to them block within a few frames. The run finishes with the
// right balance; the feed never holds more than keptFrames frames; the
// heap stays near that of the same run unwatched; the server drops the
// stalled viewers on its own (writeWait), and their goroutines are gone.
func TestStalledViewers(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: slow (a 30,000-deposit run with twenty stalled viewers, about 10 s)")
	}
	a, reg := newTestApp(t, 4)
	srv := httptest.NewUnstartedServer(a)
	srv.Listener = smallBuffers{srv.Listener}
	srv.Start()
	defer srv.Close()
	baseG := stableGoroutines()
	baseHeap := heapAfterGC()

	const body = `{"guarantee":"at-least-once","fault":"none","messages":30000}`
	// The same run, unwatched: what the run itself costs.
	heap := sampleHeap(50 * time.Millisecond)
	ref := waitRun(t, a, createRun(t, srv, body))
	refPeak := heap.Stop()

	base2 := heapAfterGC() // the first run's records are still on the broker
	id, token := createPausedRun(t, srv, body)
	var stalled []*websocket.Conn
	for range 20 {
		c, _, err := stalledDialer.Dial(wsURL(srv, id), http.Header{"Origin": {srv.URL}})
		if err != nil {
			t.Fatal(err)
		}
		stalled = append(stalled, c)
	}
	defer func() {
		for _, c := range stalled {
			c.Close()
		}
	}()
	heap = sampleHeap(50 * time.Millisecond)
	r, _ := reg.Get(id)
	f := feedOf(a, id)
	if f == nil {
		t.Fatal("no feed for a watched run")
	}
	resumeRun(t, srv, id, token)
	maxKept, maxBytes := 0, 0
	for done := false; !done; {
		select {
		case <-r.Done:
			done = true
		case <-time.After(20 * time.Millisecond):
		}
		n, b := keptFramesOf(f)
		maxKept, maxBytes = max(maxKept, n), max(maxBytes, b)
	}
	peak := heap.Stop()
	st := r.Status()
	if st.State != runs.Done || st.Result.Balance != 30000 {
		t.Fatalf("run with stalled viewers: %+v", st)
	}
	over := func(b, base uint64) uint64 { return (b - min(b, base)) >> 20 }
	refGrowth, growth := refPeak-min(refPeak, baseHeap), peak-min(peak, base2)
	t.Logf("unwatched: %.0f deposits/s, heap peak +%d MiB; with 20 stalled viewers: %.0f deposits/s, heap peak +%d MiB, %d viewers still held at the end; feed kept at most %d frames (%d KiB)",
		ref["result"].(map[string]any)["throughput_msgs_per_s"], over(refPeak, baseHeap), st.Result.Throughput, over(peak, base2), viewersOf(f), maxKept, maxBytes>>10)
	if maxKept > keptFrames {
		t.Fatalf("the feed kept %d frames, bound %d", maxKept, keptFrames)
	}
	if growth > refGrowth+64<<20 {
		t.Fatalf("heap peaked at +%d MiB with stalled viewers, +%d MiB without", growth>>20, refGrowth>>20)
	}
	ended := time.Now()
	// The server lets go of viewers whose writes stay blocked for
	// writeWait, though they never hang up.
	for deadline := time.Now().Add(writeWait + 20*time.Second); viewersOf(f) > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%d stalled viewers still held %v after the run", viewersOf(f), writeWait+20*time.Second)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("the server dropped the stalled viewers %v after the run ended", time.Since(ended).Round(100*time.Millisecond))
	for _, c := range stalled {
		c.Close()
	}
	if g := settledGoroutines(baseG + goroutineTolerance); g > baseG+goroutineTolerance {
		t.Fatalf("goroutines: %d before, %d after the stalled viewers hung up\n%s", baseG, g, goroutineDump())
	}
}

// TestOversizedClientMessages: a viewer that sends more than
// maxClientMessage bytes in one message, text or binary, of whatever size,
// is closed with 1009 (message too big) and a reason naming the limit; the
// run goes on.
func TestOversizedClientMessages(t *testing.T) {
	a, reg := newTestApp(t, 4)
	srv := httptest.NewServer(a)
	defer srv.Close()
	id, token := createPausedRun(t, srv, `{"guarantee":"at-most-once","fault":"none","messages":200}`)
	for _, size := range []int{maxClientMessage + 1, 64 << 10, 1 << 20, 8 << 20} {
		for _, kind := range []int{websocket.TextMessage, websocket.BinaryMessage} {
			conn, _, err := dialWS(srv, id)
			if err != nil {
				t.Fatal(err)
			}
			// Write from another goroutine: the server may stop reading
			// before the whole message is sent.
			go func() { _ = conn.WriteMessage(kind, make([]byte, size)) }()
			_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			var closeErr error
			for {
				if _, _, err := conn.ReadMessage(); err != nil {
					closeErr = err
					break
				}
			}
			conn.Close()
			var ce *websocket.CloseError
			if !errors.As(closeErr, &ce) || ce.Code != websocket.CloseMessageTooBig || !strings.Contains(ce.Text, "at most 1024 bytes") {
				t.Errorf("%d-byte message (type %d): want a 1009 close saying the limit, got %v", size, kind, closeErr)
			}
		}
	}
	resumeRun(t, srv, id, token)
	r, _ := reg.Get(id)
	if st := waitDone(t, r); st.State != runs.Done || st.Result.Balance != 200 {
		t.Fatalf("run: %+v (error %s)", st, errText(st.Error))
	}
}

var frameType = regexp.MustCompile(`^\{"type":"([a-z]+)"`)

// TestThousandViewers: 1,000 sockets on one run, all open before it
// starts (it starts paused). Every one gets the snapshot first and the
// result last, then a normal close; the run's outcome is what it is
// without viewers; the live heap with all of them open stays bounded;
// afterwards the goroutines are back to where they were.
func TestThousandViewers(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: slow (a load test: 1,000 sockets on one run)")
	}
	a, reg := newTestApp(t, 4)
	srv := httptest.NewServer(a)
	defer srv.Close()
	baseG := stableGoroutines()
	baseHeap := heapAfterGC()

	id, token := createPausedRun(t, srv, `{"guarantee":"at-least-once","fault":"produce-ack-lost","messages":200,"pace_ms":10}`)

	const viewers = 1000
	type seen struct {
		first, last string
		frames      int
		closeErr    error
	}
	got := make([]seen, viewers)
	var connected, finished sync.WaitGroup
	conns := make(chan *websocket.Conn, viewers)
	dialErrs := make(chan error, viewers)
	sem := make(chan struct{}, 50) // dial 50 at a time
	for i := range viewers {
		connected.Add(1)
		finished.Add(1)
		go func() {
			defer finished.Done()
			sem <- struct{}{}
			conn, _, err := dialWS(srv, id)
			<-sem
			if err != nil {
				dialErrs <- err
				connected.Done()
				return
			}
			conns <- conn
			_ = conn.SetReadDeadline(time.Now().Add(55 * time.Second))
			for {
				_, data, err := conn.ReadMessage()
				if got[i].frames == 0 {
					connected.Done()
				}
				if err != nil {
					got[i].closeErr = err
					return
				}
				// Frames start with their type; no need to decode a
				// thousand copies of each.
				typ := frameType.FindSubmatch(data)
				if typ == nil {
					got[i].closeErr = errors.New("frame without a type: " + string(data[:min(len(data), 80)]))
					return
				}
				if got[i].frames == 0 {
					got[i].first = string(typ[1])
				}
				got[i].last = string(typ[1])
				got[i].frames++
			}
		}()
	}
	connected.Wait()
	select {
	case err := <-dialErrs:
		t.Fatalf("a viewer could not connect: %v", err)
	default:
	}
	live := heapAfterGC()
	t.Logf("live heap with %d viewers open (both ends in this process): +%d MiB, %d KiB a viewer",
		viewers, (live-min(live, baseHeap))>>20, (live-min(live, baseHeap))/viewers>>10)
	if live > baseHeap+100<<20 {
		t.Fatalf("live heap grew by %d MiB with %d viewers", (live-baseHeap)>>20, viewers)
	}

	resumeRun(t, srv, id, token)
	finished.Wait()
	close(conns)
	for c := range conns {
		c.Close()
	}

	r, _ := reg.Get(id)
	st := r.Status()
	if st.State != runs.Done || st.Result.Lost != 0 || st.Result.Duplicated < 1 || st.Result.Unexpected != 0 || st.Result.Balance < 200 {
		t.Fatalf("the watched run: %+v (error %v)", st, errText(st.Error))
	}
	frames := 0
	for i, s := range got {
		if s.first != "snapshot" || s.last != "result" || !websocket.IsCloseError(s.closeErr, websocket.CloseNormalClosure) {
			t.Fatalf("viewer %d: first %q, last %q of %d frames, then %v", i, s.first, s.last, s.frames, s.closeErr)
		}
		frames += s.frames
	}
	t.Logf("%d viewers got %d frames each on average; the run took %d ms", viewers, frames/viewers, st.Result.DurationMs)
	if g := settledGoroutines(baseG + goroutineTolerance); g > baseG+goroutineTolerance {
		t.Fatalf("goroutines: %d before, %d after %d viewers left\n%s", baseG, g, viewers, goroutineDump())
	}
}

// TestViewerCap: past the cap on open sockets a viewer gets 503 with
// Retry-After and a JSON error; a slot is free again once a viewer leaves.
// The real cap is maxViewers; a small one stands in for the sockets.
func TestViewerCap(t *testing.T) {
	a, _ := newTestApp(t, 4)
	if cap(a.viewerSlots) != maxViewers || maxViewers != 2000 {
		t.Fatalf("viewer cap %d, want maxViewers = 2000", cap(a.viewerSlots))
	}
	srv := httptest.NewServer(a)
	defer srv.Close()
	id := createRun(t, srv, `{"guarantee":"at-most-once","fault":"none","messages":3000,"pace_ms":5}`)

	refused := func(what string) {
		t.Helper()
		conn, resp, err := dialWS(srv, id)
		if err == nil {
			conn.Close()
			t.Fatalf("%s: a viewer past the cap was let in", what)
		}
		if resp == nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("%s: want 503 with Retry-After, got %v (%v)", what, resp, err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if msg, _ := body["error"].(string); len(msg) < 10 {
			t.Fatalf("%s: want a clear error sentence, got %v", what, body)
		}
	}

	// The real cap, full: all 2,000 slots taken.
	for range maxViewers {
		a.viewerSlots <- struct{}{}
	}
	refused("2,001st viewer")
	for range maxViewers {
		<-a.viewerSlots
	}

	// A cap of 3, with real sockets: another app, its cap set before it
	// serves.
	small, _ := newTestApp(t, 4)
	small.viewerSlots = make(chan struct{}, 3)
	srv = httptest.NewServer(small)
	defer srv.Close()
	id = createRun(t, srv, `{"guarantee":"at-most-once","fault":"none","messages":3000,"pace_ms":5}`)
	var open []*websocket.Conn
	for range 3 {
		conn, _, err := dialWS(srv, id)
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, conn)
	}
	refused("4th viewer of 3")
	open[0].Close()
	var conn *websocket.Conn
	for range 100 { // the server notices the hang-up on its next read
		var err error
		if conn, _, err = dialWS(srv, id); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if conn == nil {
		t.Fatal("no slot freed when a viewer left")
	}
	open = append(open, conn)
	for _, c := range open {
		c.Close()
	}
}

func errText(e *string) string {
	if e == nil {
		return ""
	}
	return *e
}

const hostileID = `<script>alert(1)</script>`

// TestHostileRecordsRenderAsText: records that no deposit ever made, keyed
// <script>…, written into a run's topics by an outside client. The run
// reports the foreign credit as unexpected, and its id reaches the JSON
// API and the websocket only escaped (\u003c…), never as markup; the pages
// carry none of it; the browser code never turns data into markup.
func TestHostileRecordsRenderAsText(t *testing.T) {
	a, reg := newTestApp(t, 4)
	srv := httptest.NewServer(a)
	defer srv.Close()

	id, token := createPausedRun(t, srv, `{"guarantee":"at-least-once","fault":"none","messages":30}`)
	r, _ := reg.Get(id)
	names := r.Pipeline.Names

	// A viewer from the start, keeping every frame as sent.
	live, _, err := dialWS(srv, id)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	frames := make(chan [][]byte, 1)
	go func() {
		var got [][]byte
		_ = live.SetReadDeadline(time.Now().Add(50 * time.Second))
		for {
			_, data, err := live.ReadMessage()
			if err != nil {
				frames <- got
				return
			}
			got = append(got, data)
		}
	}()

	// The run is paused before its first deposit, its topics made.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		td, err := testBroker.Admin().ListTopics(ctx, names.Input, names.Ledger)
		if err == nil && td[names.Input].Err == nil && td[names.Ledger].Err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the run's topics never appeared: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(testBroker.Addrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx,
		&kgo.Record{Topic: names.Input, Key: []byte(hostileID), Value: []byte(`{"id":"` + hostileID + `","amount":1,"run":"<img src=x onerror=alert(2)>"}`)},
		&kgo.Record{Topic: names.Ledger, Key: []byte(hostileID), Value: []byte(`{"deposit":"` + hostileID + `","amount":1,"processor":"<img src=x onerror=alert(2)>"}`)},
	).FirstErr(); err != nil {
		t.Fatal(err)
	}
	resumeRun(t, srv, id, token)
	run := waitRun(t, a, id)
	res := run["result"].(map[string]any)
	ids, _ := res["unexpected_ids"].([]any)
	if res["unexpected"].(float64) != 1 || len(ids) != 1 || ids[0] != hostileID || res["verdict"] != "violated" {
		t.Fatalf("want the foreign credit reported as unexpected: %v", res)
	}

	markup := regexp.MustCompile(`(?i)<script|<img`)
	escaped := `\u003cscript\u003ealert(1)\u003c/script\u003e`
	raw := func(path string) (int, []byte) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	// The JSON API.
	for _, path := range []string{"/api/runs/" + id, "/api/runs/" + id + "/trace"} {
		code, body := raw(path)
		if code == http.StatusNotFound && strings.HasSuffix(path, "/trace") {
			continue // no trace download in this version
		}
		if code != 200 || markup.Match(body) || !strings.Contains(string(body), escaped) {
			t.Fatalf("GET %s (%d): want the id escaped as %s and no markup:\n%.2000s", path, code, escaped, body)
		}
	}
	// The websocket: live frames, and a late viewer's snapshot.
	var all [][]byte
	select {
	case all = <-frames:
	case <-time.After(50 * time.Second):
		t.Fatal("the live viewer never saw the end")
	}
	late, _, err := dialWS(srv, id)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	_, snap, err := late.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, snap)
	seenEscaped := 0
	for _, f := range all {
		if markup.Match(f) {
			t.Fatalf("a websocket frame carries markup: %.2000s", f)
		}
		if strings.Contains(string(f), `\u003cscript\u003e`) {
			seenEscaped++
		}
	}
	if seenEscaped == 0 || !strings.Contains(string(snap), escaped) {
		t.Fatalf("the hostile id never reached the websocket (escaped): %d frames, snapshot %.500s", len(all), snap)
	}
	// The pages: rendered on the server, they carry none of the run's
	// data that could be markup.
	for _, path := range []string{"/runs/" + id, "/runs/" + id + "?presenter=1", "/", "/lessons/at-least-once", "/lessons/at-least-once?lang=ko", "/compare"} {
		code, body := raw(path)
		if code != 200 || strings.Contains(string(body), hostileID) || strings.Contains(string(body), "<img src=x") {
			t.Fatalf("GET %s (%d) carries the hostile record's markup", path, code)
		}
	}
	// The browser code puts data on the page as text only.
	js, _ := filepath.Glob("../web/static/js/*.js")
	if len(js) == 0 {
		t.Fatal("no browser code found")
	}
	sink := regexp.MustCompile(`\.(innerHTML|outerHTML)\s*[+]?=|insertAdjacentHTML|document\.write|\beval\(|new Function\(|createContextualFragment`)
	for _, f := range js {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if loc := sink.FindIndex(b); loc != nil {
			t.Errorf("%s turns strings into markup or code: %q", f, b[loc[0]:loc[1]])
		}
	}
}

// TestNoBrokerFromRequests: nothing a request carries can point the lab at
// a broker of the requester's choosing (no SSRF). Fields naming one are
// unknown fields (400); query parameters and headers naming one are
// ignored, and the run goes to the lab's own broker; no handler reads a
// broker address from a request.
func TestNoBrokerFromRequests(t *testing.T) {
	a, reg := newTestApp(t, 4)
	for _, field := range []string{"brokers", "broker", "bootstrap_servers", "kafka_brokers", "addr", "addrs", "seed_brokers"} {
		for _, path := range []string{"/api/runs", "/api/compare"} {
			body := `{"guarantee":"at-least-once","fault":"none","` + field + `":"10.0.0.1:9092"}`
			if path == "/api/compare" {
				body = `{"fault":"none","` + field + `":["10.0.0.1:9092"]}`
			}
			rec, out := do(t, a, "POST", path, body)
			if rec.Code != http.StatusBadRequest || out["field"] != field {
				t.Fatalf("POST %s with %q: %d %s", path, field, rec.Code, rec.Body)
			}
		}
	}
	if n := reg.Active(); n != 0 {
		t.Fatalf("refused requests started %d runs", n)
	}

	// In the query and the headers: ignored.
	req := labRequest("POST", "/api/runs?brokers=10.0.0.1:9092&bootstrap_servers=10.0.0.1:9092",
		strings.NewReader(`{"guarantee":"at-most-once","fault":"none","messages":10}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Kafka-Brokers", "10.0.0.1:9092")
	req.Header.Set("Kafka-Brokers", "10.0.0.1:9092")
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	var created struct {
		ID    string `json:"id"`
		Token string `json:"control_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil || rec.Code != http.StatusCreated {
		t.Fatalf("run with a broker in the query: %d %s", rec.Code, rec.Body)
	}
	ctl, out := post(t, a, "/api/runs/"+created.ID+"/control", created.Token, `{"action":"pace","pace_ms":0,"brokers":"10.0.0.1:9092"}`)
	if ctl.Code != http.StatusBadRequest || out["field"] != "brokers" {
		t.Fatalf("control with brokers: %d %s", ctl.Code, ctl.Body)
	}
	run := waitRun(t, a, created.ID)
	if res := run["result"].(map[string]any); res["balance"].(float64) != 10 {
		t.Fatalf("run: %v", run)
	}
	_, health := do(t, a, "GET", "/healthz?brokers=10.0.0.1:9092", "")
	if addrs := health["broker"].(map[string]any)["addrs"].([]any); len(addrs) != len(testBroker.Addrs()) || addrs[0] != testBroker.Addrs()[0] {
		t.Fatalf("healthz names %v, the lab's broker is %v", addrs, testBroker.Addrs())
	}

	// The source: broker addresses come from the configuration only.
	files, _ := filepath.Glob("*.go")
	fromRequest := regexp.MustCompile(`(?i)(QueryParams?|FormValue|FormParams|Param|Cookie|Header\(\)\.Get|Header\.Get|Header\.Values)\(\s*"[^"]*(broker|bootstrap|kafka)`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		if loc := fromRequest.FindStringIndex(src); loc != nil {
			t.Errorf("%s reads a broker address from a request: %s", f, src[loc[0]:loc[1]])
		}
		if strings.Contains(src, "broker.Connect(") && f != "main.go" {
			t.Errorf("%s connects to a broker; only main.go may, from the configuration", f)
		}
		if strings.Contains(src, `"KAFKA_BROKERS"`) && f != "config.go" {
			t.Errorf("%s reads KAFKA_BROKERS; only config.go may", f)
		}
	}
}
