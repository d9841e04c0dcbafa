package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/pipeline"
	"github.com/kafka-delivery-lab/lab/lessons/runs"
)

// benchSize reads a size from the environment (0 or more), or def.
func benchSize(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n >= 0 {
		return n
	}
	return def
}

// studentDialer connects from loopback address 127.0.0.(2+i%250), so that
// each simulated student is its own client for the queue's fair share, as
// the laptops of a class are.
func studentDialer(i int) *net.Dialer {
	return &net.Dialer{Timeout: 30 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%250))}}
}

// BenchmarkClass: a class following a lesson on one lab with its default
// capacity (-max-runs, -max-queue and the light-run share as the server
// starts): LAB_BENCH_STUDENTS students (default 300) press Run at once on
// the lesson's scenario (20 deposits, 100 ms apart; the three guarantees
// and the four faults in turn), each watching their run over its
// websocket, while LAB_BENCH_BIG_RUNS (3) full-speed runs of
// LAB_BENCH_BIG (100,000) deposits run too, all on the embedded broker in
// this process. Every run must end with what its claim requires
// (lessons.Claim.Check) and every viewer must get the result.
//
// Reported: the delay from an event to the frame that carries it reaching
// its viewer (p50, p99; t_us counts from the run's start, Run.Started, so
// a queued run's wait is not counted), the longest queue wait, the wall
// time, the process's CPU time (user + system: server, broker and viewers
// alike), the peak heap, and students per core: the students served
// divided by the cores the whole benchmark kept busy on average (CPU time
// / wall time), full-speed runs included, so a lower bound.
//
//	LAB_BENCH_STUDENTS=300 go test -run XXX -bench BenchmarkClass -benchtime 1x ./server/
func BenchmarkClass(b *testing.B) {
	students := benchSize("LAB_BENCH_STUDENTS", 300)
	bigRuns := benchSize("LAB_BENCH_BIG_RUNS", 3)
	big := benchSize("LAB_BENCH_BIG", 100_000)
	cfg, err := loadConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	reg := runs.New(pipeline.Env{Brokers: testBroker.Addrs(), Admin: testBroker.Admin(), Tuning: pipeline.DefaultTuning()},
		runs.Config{MaxConcurrent: cfg.MaxConcurrent, LightPerSlot: lightPerSlot, MaxQueue: cfg.MaxQueue})
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = reg.Shutdown(ctx)
	})
	srv := httptest.NewServer(newApp(testBroker, reg, testLessons))
	defer srv.Close()
	for b.Loop() {
		classOnce(b, srv, reg, students, bigRuns, big)
	}
}

type classRun struct {
	id      string
	run     *runs.Run // held: the registry forgets the oldest past MaxKept
	claim   lessons.Claim
	delays  []time.Duration
	frames  int
	result  bool
	watchEr error
}

func classOnce(b *testing.B, srv *httptest.Server, reg *runs.Registry, students, bigRuns, big int) {
	guarantees := []lessons.GuaranteeID{lessons.AtMostOnce, lessons.AtLeastOnce, lessons.ExactlyOnce}
	faults := []lessons.FaultID{lessons.NoFault, lessons.ProduceRequestLost, lessons.ProduceAckLost, lessons.ProcessorCrash}
	base := heapAfterGC()
	sampler := sampleHeap(50 * time.Millisecond)
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	began := time.Now()

	post := func(cl *http.Client, body string) (string, int, error) {
		resp, err := cl.Post(srv.URL+"/api/runs", "application/json", strings.NewReader(body))
		if err != nil {
			return "", 0, err
		}
		defer resp.Body.Close()
		var out struct{ ID, Error string }
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if out.ID == "" {
			return "", resp.StatusCode, fmt.Errorf("%d %s", resp.StatusCode, out.Error)
		}
		return out.ID, resp.StatusCode, nil
	}

	// The full-speed runs first: they take their slots before the class.
	var bigIDs []string
	var bigs []*runs.Run
	for i := range bigRuns {
		g := guarantees[i%len(guarantees)]
		id, _, err := post(http.DefaultClient, fmt.Sprintf(`{"guarantee":%q,"fault":"produce-ack-lost","messages":%d}`, g, big))
		if err != nil {
			b.Fatalf("a full-speed run: %v", err)
		}
		r, _ := reg.Get(id)
		bigIDs, bigs = append(bigIDs, id), append(bigs, r)
	}

	class := make([]classRun, students)
	queued := 0
	var qmu sync.Mutex
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range students {
		g, f := guarantees[i%len(guarantees)], faults[(i/len(guarantees))%len(faults)]
		class[i].claim, _ = lessons.LookupClaim(g, lessons.Strict, f)
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := studentDialer(i)
			tr := &http.Transport{DialContext: d.DialContext}
			defer tr.CloseIdleConnections()
			<-start
			id, code, err := post(&http.Client{Transport: tr, Timeout: 60 * time.Second},
				fmt.Sprintf(`{"guarantee":%q,"fault":%q,"messages":20,"pace_ms":100}`, g, f))
			if err != nil {
				class[i].watchEr = fmt.Errorf("POST: %w", err)
				return
			}
			if code == http.StatusAccepted {
				qmu.Lock()
				queued++
				qmu.Unlock()
			}
			class[i].id = id
			if class[i].run, _ = reg.Get(id); class[i].run == nil {
				class[i].watchEr = fmt.Errorf("run %s unknown right after it was started", id)
				return
			}
			watchClassRun(srv, &class[i], (&websocket.Dialer{NetDialContext: d.DialContext, HandshakeTimeout: 30 * time.Second}))
		}()
	}
	close(start)
	wg.Wait()
	wall := time.Since(began)
	var longestWait time.Duration
	var delays []time.Duration
	frames := 0
	for i, c := range class {
		if c.watchEr != nil {
			b.Fatalf("student %d: %v", i, c.watchEr)
		}
		r := c.run
		st := r.Status()
		if st.State != runs.Done {
			b.Fatalf("student %d: run %s %s (%s)", i, c.id, st.State, errText(st.Error))
		}
		if msg := c.claim.Check(st.Result.Result); msg != "" {
			b.Fatalf("student %d: %s × %s: the run does not do what its claim says: %s", i, c.claim.Guarantee, c.claim.Fault, msg)
		}
		if !c.result {
			b.Fatalf("student %d: the viewer got no result frame", i)
		}
		longestWait = max(longestWait, r.Waited())
		delays = append(delays, c.delays...)
		frames += c.frames
	}
	for _, r := range bigs {
		id := r.ID
		<-r.Done
		st := r.Status()
		claim, _ := lessons.LookupClaim(st.Guarantee, st.Preset, st.Fault)
		if st.State != runs.Done {
			b.Fatalf("full-speed run %s: %s (%s)", id, st.State, errText(st.Error))
		}
		if msg := claim.Check(st.Result.Result); msg != "" {
			b.Fatalf("full-speed run %s (%s): %s", id, st.Guarantee, msg)
		}
	}
	allWall := time.Since(began)
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano()-ru0.Utime.Nano()) + time.Duration(ru1.Stime.Nano()-ru0.Stime.Nano())
	peak := sampler.Stop()

	slices.Sort(delays)
	cores := cpu.Seconds() / allWall.Seconds()
	b.ReportMetric(float64(students), "students")
	b.ReportMetric(float64(queued), "queued-at-post")
	b.ReportMetric(float64(percentile(delays, 0.50))/float64(time.Millisecond), "p50-delay-ms")
	b.ReportMetric(float64(percentile(delays, 0.99))/float64(time.Millisecond), "p99-delay-ms")
	b.ReportMetric(float64(len(delays)), "events-timed")
	b.ReportMetric(longestWait.Seconds(), "longest-queue-wait-s")
	b.ReportMetric(wall.Seconds(), "class-wall-s")
	b.ReportMetric(allWall.Seconds(), "all-wall-s")
	b.ReportMetric(cpu.Seconds(), "cpu-s")
	b.ReportMetric(float64(peak>>20), "peak-heap-MiB")
	b.ReportMetric(float64((peak-min(peak, base))>>20), "heap-growth-MiB")
	b.ReportMetric(float64(students)/cores, "students-per-core")
	b.Logf("%d students (%d queued when they pressed Run) + %d × %d full-speed: every run as its claim says; p99 event-to-frame %v; longest queue wait %v; class done in %v, all in %v; CPU %v (%.2f cores busy of %d); peak heap %d MiB",
		students, queued, bigRuns, big, percentile(delays, 0.99).Round(time.Millisecond), longestWait.Round(time.Millisecond),
		wall.Round(time.Millisecond), allWall.Round(time.Millisecond), cpu.Round(time.Millisecond), cores, runtime.NumCPU(), peak>>20)

	// Keep the broker's heap from growing iteration after iteration.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, id := range append(bigIDs, func() []string {
		var ids []string
		for _, c := range class {
			ids = append(ids, c.id)
		}
		return ids
	}()...) {
		n := pipeline.NamesFor(id)
		_ = testBroker.DeleteTopics(ctx, n.Input, n.Ledger)
	}
}

// watchClassRun is one student's browser: it reads the run's frames until
// the result, timing each event from the run's start to the frame's
// arrival.
func watchClassRun(srv *httptest.Server, c *classRun, dialer *websocket.Dialer) {
	conn, _, err := dialer.Dial(wsURL(srv, c.id), http.Header{"Origin": {srv.URL}})
	if err != nil {
		c.watchEr = fmt.Errorf("websocket: %w", err)
		return
	}
	defer conn.Close()
	r := c.run
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Minute))
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			c.watchEr = fmt.Errorf("websocket closed before the result: %w", err)
			return
		}
		at := time.Now()
		c.frames++
		typ := frameType.FindSubmatch(data)
		if typ == nil {
			continue
		}
		switch string(typ[1]) {
		case "events":
			started := r.Started()
			for _, m := range tUs.FindAllSubmatch(data, -1) {
				us, _ := strconv.ParseInt(string(m[1]), 10, 64)
				c.delays = append(c.delays, at.Sub(started.Add(time.Duration(us)*time.Microsecond)))
			}
		case "result":
			c.result = true
			return
		}
	}
}
