package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons/broker"
	"github.com/kafka-delivery-lab/lab/lessons/broker/brokertest"
	"github.com/kafka-delivery-lab/lab/lessons/runs"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

var testBroker *broker.Broker

func TestMain(m *testing.M) {
	var err error
	if testBroker, err = brokertest.New(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	testBroker.Close()
	os.Exit(code)
}

// noRuns is an instance that runs nothing itself.
type noRuns struct{}

func (noRuns) Get(string) (*runs.Run, bool) { return nil, false }

// TestLateInstanceReadsOnlyTheFramesItNeeds: an instance that starts in a
// busy lab does not read the frames topic's whole hour. It reads from the
// start of the oldest run still in flight, or the oldest end it still
// serves, whichever is older; and it still has every event of those runs.
func TestLateInstanceReadsOnlyTheFramesItNeeds(t *testing.T) {
	prefix := fmt.Sprintf("t%d.", time.Now().UnixNano()%1e9)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first, err := New(Config{Brokers: testBroker.Addrs(), Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Kill()
	if err := first.Start(ctx, noRuns{}); err != nil { // creates the topics
		t.Fatal(err)
	}

	// What another instance, "x", wrote over the last hour: 200 frames of
	// runs long forgotten, then a run started 20 minutes ago and still
	// running, and one that ended 2 minutes ago.
	cl, err := kgo.NewClient(kgo.SeedBrokers(testBroker.Addrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	now := time.Now()
	rec := func(topic string, at time.Time, v record) *kgo.Record {
		b, _ := json.Marshal(v)
		return &kgo.Record{Topic: topic, Key: []byte(v.Status.ID), Value: b, Timestamp: at}
	}
	var recs []*kgo.Record
	for i := range 200 {
		id := fmt.Sprintf("r-old%d", i)
		recs = append(recs, rec(prefix+"frames", now.Add(-50*time.Minute), record{Owner: "x", Status: runs.Status{ID: id, State: runs.Running},
			Events: []trace.Event{{Seq: 1}}}))
	}
	live := record{Owner: "x", Status: runs.Status{ID: "r-live", State: runs.Running}, Started: now.Add(-20 * time.Minute)}
	for i := range 5 {
		f := live
		f.Events = []trace.Event{{Seq: int64(i + 1)}}
		recs = append(recs, rec(prefix+"frames", now.Add(-20*time.Minute+time.Duration(i)*time.Second), f))
	}
	done := record{Owner: "x", Status: runs.Status{ID: "r-done", State: runs.Done}, Started: now.Add(-3 * time.Minute),
		Finished: now.Add(-2 * time.Minute), Events: []trace.Event{{Seq: 1}, {Seq: 2}}, Parts: 1}
	recs = append(recs, rec(prefix+"frames", done.Finished, done))
	table := done
	table.Events, table.Parts = nil, 0
	recs = append(recs, rec(prefix+"runs", now.Add(-20*time.Minute), live), rec(prefix+"runs", done.Finished, table))
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// x is alive, so that its running run stays running.
	alive, _ := json.Marshal(message{Type: "alive", From: "x", LivenessMs: 60_000})
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: prefix + "control", Value: alive}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	late, err := New(Config{Brokers: testBroker.Addrs(), Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer late.Kill()
	if err := late.Start(ctx, noRuns{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, ok := late.Get("r-live")
		d, okd := late.Get("r-done")
		if ok && okd && len(r.Events()) == 5 && len(d.Events()) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the late instance does not have both runs' events (live %v, done %v)", ok, okd)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := late.framesRead.Load(); n > 6 {
		t.Errorf("the late instance read %d frames; the 6 it needs, and none of the 200 older ones, were to read", n)
	}
	if from := late.framesFrom(); from.After(live.Started) || from.Before(live.Started.Add(-2*clockSlack)) {
		t.Errorf("frames read from %v; want just before the live run's start, %v", from, live.Started)
	}
}
