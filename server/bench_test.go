package main

// Benchmarks, run by hand (not by CI, which runs no benchmarks):
//
//	go test -run XXX -bench BenchmarkLessonPage ./server/
//	go test -run XXX -bench BenchmarkStartup -benchtime 20x ./server/
//	go test -run XXX -bench BenchmarkFanOut -benchtime 8x ./server/
//
// None of them is worth running with -race: it slows everything 5-10×.

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kafka-delivery-lab/lab/lessons/pipeline"
	"github.com/kafka-delivery-lab/lab/lessons/runs"
)

func benchApp(b *testing.B, maxRuns int) (*app, *runs.Registry) {
	b.Helper()
	reg := runs.New(pipeline.Env{Brokers: testBroker.Addrs(), Admin: testBroker.Admin(), Tuning: pipeline.DefaultTuning()},
		runs.Config{MaxConcurrent: maxRuns})
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = reg.Shutdown(ctx)
	})
	return newApp(testBroker, reg, testLessons), reg
}

// percentile of sorted durations.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

func reportPercentiles(b *testing.B, ds []time.Duration, unit time.Duration, name string) {
	slices.Sort(ds)
	b.ReportMetric(float64(percentile(ds, 0.50))/float64(unit), "p50-"+name)
	b.ReportMetric(float64(percentile(ds, 0.99))/float64(unit), "p99-"+name)
}

// BenchmarkLessonPage: the server's time to render the Korean
// at-least-once lesson through the whole echo app (middleware, i18n,
// templ, the cached broker status). Target: p50 < 1 ms.
func BenchmarkLessonPage(b *testing.B) {
	a, _ := benchApp(b, 4)
	get := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, labRequest("GET", "/lessons/at-least-once?lang=ko", nil))
		return rec
	}
	if rec := get(); rec.Code != http.StatusOK || rec.Body.Len() < 1000 {
		b.Fatalf("lesson page: %d, %d bytes", rec.Code, rec.Body.Len())
	}
	ds := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		rec := get()
		ds = append(ds, time.Since(start))
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
	reportPercentiles(b, ds, time.Microsecond, "µs")
}

// BenchmarkStartup: from starting the server binary to a 200 from its
// /healthz, with the embedded broker on a free port. Target: < 1 s.
func BenchmarkStartup(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "lab")
	build := exec.Command("go", "build", "-o", bin, "github.com/kafka-delivery-lab/lab/server")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KAFKA_BROKERS=") && !strings.HasPrefix(kv, "LAB_") {
			env = append(env, kv)
		}
	}
	webLine := regexp.MustCompile(`^web: +http://([^/]+)/`)
	cl := &http.Client{Timeout: time.Second}
	var toURL, toHealthy []time.Duration
	for b.Loop() {
		start := time.Now()
		cmd := exec.Command(bin, "-embedded-port", "0", "-addr", "127.0.0.1:0")
		cmd.Env = env
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		addr := ""
		sc := bufio.NewScanner(stdout)
		for addr == "" && sc.Scan() {
			if m := webLine.FindStringSubmatch(sc.Text()); m != nil {
				addr = m[1]
			}
		}
		if addr == "" {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			b.Fatal("the server printed no web address")
		}
		go func() { _, _ = io.Copy(io.Discard, stdout) }()
		toURL = append(toURL, time.Since(start))
		for {
			resp, err := cl.Get("http://" + addr + "/healthz")
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Since(start) > 30*time.Second {
				b.Fatal("never healthy")
			}
			time.Sleep(time.Millisecond)
		}
		toHealthy = append(toHealthy, time.Since(start))
		b.StopTimer()
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		cl.CloseIdleConnections()
		b.StartTimer()
	}
	reportPercentiles(b, toURL, time.Millisecond, "ms-to-url")
	reportPercentiles(b, toHealthy, time.Millisecond, "ms-to-healthy")
}

// BenchmarkFanOut: one 100,000-deposit at-least-once run (no fault, no
// pace) unwatched, then the same run with 200 websocket viewers, in turn
// each iteration (the machine is shared: pairs cancel drift in its load).
// Reports both throughputs and their ratio, the delay from an event to its
// frame reaching a viewer (t_us is since the run's start, taken as the
// moment the POST was sent, which overstates the delay by at most the
// POST's own latency), how much the heap of the process (server, broker
// and viewers alike) grew at its peak during each run, and the share of
// viewers that got the result. Target: < 20 % slower with viewers.
func BenchmarkFanOut(b *testing.B) {
	const viewers = 200
	a, reg := benchApp(b, 4)
	srv := httptest.NewServer(a)
	defer srv.Close()
	var alone, watched fanOutRun
	for b.Loop() {
		alone.add(fanOutOnce(b, srv, reg, 0))
		watched.add(fanOutOnce(b, srv, reg, viewers))
	}
	b.ReportMetric(alone.mean(), "deposits/s-alone")
	b.ReportMetric(watched.mean(), "deposits/s-watched")
	b.ReportMetric(watched.meanRatio(alone), "watched/alone")
	b.ReportMetric(float64(alone.peak>>20), "heap-growth-MiB-alone")
	b.ReportMetric(float64(watched.peak>>20), "heap-growth-MiB-watched")
	reportPercentiles(b, watched.delays, time.Millisecond, "delay-ms")
	b.ReportMetric(float64(watched.gotResult)/float64(viewers*len(watched.throughput)), "viewers-with-result")
}

type fanOutRun struct {
	throughput []float64
	delays     []time.Duration
	peak       uint64
	gotResult  int
}

type fanOutResult struct {
	throughput float64
	delays     []time.Duration
	peak       uint64
	gotResult  int
}

func (f *fanOutRun) add(r fanOutResult) {
	f.throughput = append(f.throughput, r.throughput)
	f.delays = append(f.delays, r.delays...)
	f.peak = max(f.peak, r.peak)
	f.gotResult += r.gotResult
}

func (f *fanOutRun) mean() float64 {
	s := 0.0
	for _, x := range f.throughput {
		s += x
	}
	return s / float64(len(f.throughput))
}

func (f *fanOutRun) meanRatio(base fanOutRun) float64 {
	s := 0.0
	for i := range f.throughput {
		s += f.throughput[i] / base.throughput[i]
	}
	return s / float64(len(f.throughput))
}

// measuredViewers read the events of every frame to measure delays; the
// others read each frame's type and discard the rest (the viewers share
// this process and its two cores with the server and the broker, so they
// must cost as little as a reader can).
const measuredViewers = 10

// benchDialer reads like a browser: in large pieces.
var benchDialer = &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 64 << 10}

var tUs = regexp.MustCompile(`"t_us":(\d+)`)

func fanOutOnce(b *testing.B, srv *httptest.Server, reg *runs.Registry, viewers int) fanOutResult {
	var out fanOutResult
	base := heapAfterGC()
	sampler := sampleHeap(20 * time.Millisecond)
	sent := time.Now()
	resp, err := http.Post(srv.URL+"/api/runs", "application/json",
		strings.NewReader(`{"guarantee":"at-least-once","fault":"none","messages":100000}`))
	if err != nil {
		b.Fatal(err)
	}
	var created struct{ ID string }
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()

	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range viewers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, _, err := benchDialer.Dial(wsURL(srv, created.ID), http.Header{"Origin": {srv.URL}})
			if err != nil {
				b.Error(err)
				return
			}
			defer conn.Close()
			var mine []time.Duration
			last := ""
			head := make([]byte, 24)
			for {
				_, rd, err := conn.NextReader()
				if err != nil {
					break
				}
				at := time.Now()
				n, _ := io.ReadFull(rd, head)
				typ := frameType.FindSubmatch(head[:n])
				if typ == nil {
					b.Errorf("frame without a type: %q", head[:n])
					return
				}
				last = string(typ[1])
				if i >= measuredViewers || last != "events" {
					_, _ = io.Copy(io.Discard, rd)
					continue
				}
				rest, _ := io.ReadAll(rd)
				for _, m := range tUs.FindAllSubmatch(rest, -1) {
					us, _ := strconv.ParseInt(string(m[1]), 10, 64)
					mine = append(mine, at.Sub(sent.Add(time.Duration(us)*time.Microsecond)))
				}
			}
			mu.Lock()
			out.delays = append(out.delays, mine...)
			if last == "result" {
				out.gotResult++
			}
			mu.Unlock()
		}()
	}
	r, _ := reg.Get(created.ID)
	<-r.Done
	wg.Wait()
	p := sampler.Stop()
	out.peak = p - min(p, base)
	st := r.Status()
	if st.State != runs.Done {
		b.Fatalf("run: %+v (%s)", st, errText(st.Error))
	}
	out.throughput = st.Result.Throughput
	// Keep the broker's heap from growing run after run.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := testBroker.DeleteTopics(ctx, st.Topics.Input, st.Topics.Ledger); err != nil {
		b.Fatal(err)
	}
	return out
}
