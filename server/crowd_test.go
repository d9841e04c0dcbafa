package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// settledGoroutines waits (bounded) for the goroutine count to come down to
// at most want and returns the last count seen.
func settledGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for i := 0; i < 200 && n > want; i++ {
		time.Sleep(100 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

// stableGoroutines waits (bounded) until the goroutine count holds still
// for half a second, and returns it: a baseline.
func stableGoroutines() int {
	n, still := runtime.NumGoroutine(), 0
	for i := 0; i < 100 && still < 5; i++ {
		time.Sleep(100 * time.Millisecond)
		if m := runtime.NumGoroutine(); m == n {
			still++
		} else {
			n, still = m, 0
		}
	}
	return n
}

// heapAfterGC is the live heap, measured after a collection.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func goroutineDump() string {
	buf := make([]byte, 4<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// goroutineTolerance absorbs what comes and goes on its own: a client's
// metadata refresh, the broker's per-connection readers, a timer firing.
const goroutineTolerance = 25

// TestCrowdOfRunRequests: 1,000 run requests at once (one in ten a
// compare, which takes three slots or none) against a lab that takes 4 runs
// at a time. Each gets 201 or 429 with Retry-After, never a 5xx; the runs that started all finish with the right balance; after that
// the goroutines and the heap are back near where they were.
func TestCrowdOfRunRequests(t *testing.T) {
	a, reg := newTestApp(t, 4)
	srv := httptest.NewServer(a)
	defer srv.Close()
	tr := &http.Transport{MaxConnsPerHost: 200, MaxIdleConnsPerHost: 200, IdleConnTimeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 60 * time.Second}

	// One run first, so that what the first run starts once for good
	// (the admin client's connections) is part of the baseline.
	waitState(t, cl, srv.URL, postRun(t, cl, srv.URL, `{"guarantee":"exactly-once","fault":"none","messages":5}`), 45*time.Second)
	tr.CloseIdleConnections()
	baseG := stableGoroutines()
	baseHeap := heapAfterGC()

	const n = 1000
	guarantees := []string{"at-most-once", "at-least-once", "exactly-once"}
	type answer struct {
		code       int
		retryAfter string
		ids        []string
		err        error
		body       string
	}
	answers := make([]answer, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			path, body := "/api/runs", fmt.Sprintf(`{"guarantee":%q,"fault":"none","messages":20}`, guarantees[i%3])
			if i%10 == 9 {
				// Compare takes three slots at once, or none.
				path, body = "/api/compare", `{"fault":"none","messages":20}`
			}
			resp, err := cl.Post(srv.URL+path, "application/json", strings.NewReader(body))
			if err != nil {
				answers[i].err = err
				return
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var out struct {
				ID    string            `json:"id"`
				Runs  map[string]string `json:"runs"`
				Error string            `json:"error"`
			}
			_ = json.Unmarshal(raw, &out)
			answers[i] = answer{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: string(raw)}
			if out.ID != "" {
				answers[i].ids = []string{out.ID}
			}
			for _, id := range out.Runs {
				answers[i].ids = append(answers[i].ids, id)
			}
			if resp.StatusCode == http.StatusTooManyRequests && len(out.Error) < 10 {
				answers[i].body = "no error sentence: " + string(raw)
				answers[i].code = -1
			}
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	t.Logf("1,000 answers in %v", time.Since(began).Round(time.Millisecond))

	var started []string
	codes := map[int]int{}
	for i, an := range answers {
		if an.err != nil {
			t.Fatalf("request %d: %v", i, an.err)
		}
		codes[an.code]++
		switch an.code {
		case http.StatusCreated:
			if len(an.ids) != 1 && len(an.ids) != 3 {
				t.Fatalf("request %d: 201 %s", i, an.body)
			}
			started = append(started, an.ids...)
		case http.StatusTooManyRequests:
			if an.retryAfter == "" {
				t.Fatalf("request %d: 429 without Retry-After", i)
			}
		default:
			t.Fatalf("request %d: %d %s", i, an.code, an.body)
		}
	}
	t.Logf("1,000 requests at once: %v", codes)
	if len(started) == 0 {
		t.Fatal("no run started")
	}

	for _, id := range started {
		out := waitState(t, cl, srv.URL, id, 50*time.Second)
		res, _ := out["result"].(map[string]any)
		if out["state"] != "done" || res == nil || res["balance"].(float64) != 20 || res["unexpected"].(float64) != 0 {
			t.Fatalf("run %s: %v", id, out)
		}
	}
	t.Logf("started runs finished %v after the crowd", time.Since(began).Round(time.Millisecond))
	if n := reg.Active(); n != 0 {
		t.Fatalf("%d runs still active", n)
	}

	tr.CloseIdleConnections()
	if g := settledGoroutines(baseG + goroutineTolerance); g > baseG+goroutineTolerance {
		t.Fatalf("goroutines: %d before the crowd, %d after it settled\n%s", baseG, g, goroutineDump())
	} else {
		t.Logf("goroutines: %d before, %d after", baseG, g)
	}
	// Finished runs are kept (with their bounded trace) for 10 minutes,
	// so the heap grows by about that per started run, and no more.
	heap := heapAfterGC()
	t.Logf("heap: %d KiB before, %d KiB after (%d runs kept)", baseHeap>>10, heap>>10, len(started))
	if heap > baseHeap+32<<20 {
		t.Fatalf("heap grew from %d MiB to %d MiB", baseHeap>>20, heap>>20)
	}
}
