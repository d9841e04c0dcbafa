package trace

import (
	"fmt"
	"testing"
)

// TestLogIsBounded: a run of a million deposits keeps at most
// Head+Recent+Anomalies events, every anomaly up to the bound, and the
// first and the last events.
func TestLogIsBounded(t *testing.T) {
	l := New()
	const n = 1_000_000
	for i := 1; i <= n; i++ {
		k := Send
		if i%1000 == 0 {
			k = Error
		}
		l.Emit(Event{Actor: Producer, Kind: k, ID: fmt.Sprint(i)})
	}
	events, last := l.Snapshot()
	if last != n {
		t.Fatalf("last seq %d, want %d", last, n)
	}
	if len(events) > Head+Recent+Anomalies {
		t.Fatalf("snapshot holds %d events, bound is %d", len(events), Head+Recent+Anomalies)
	}
	if events[0].Seq != 1 || events[len(events)-1].Seq != n {
		t.Fatalf("first/last seq %d/%d", events[0].Seq, events[len(events)-1].Seq)
	}
	errs := 0
	for i, e := range events {
		if i > 0 && e.Seq <= events[i-1].Seq {
			t.Fatalf("snapshot out of order at %d", i)
		}
		if e.Kind == Error {
			errs++
		}
	}
	if errs != n/1000 {
		t.Fatalf("kept %d of %d anomalies", errs, n/1000)
	}
	if l.DroppedAnomalies() != 0 {
		t.Fatalf("dropped %d anomalies under the bound", l.DroppedAnomalies())
	}
}

func TestSinceAndFallingBehind(t *testing.T) {
	l := New()
	for i := 0; i < 10; i++ {
		l.Emit(Event{Kind: Send})
	}
	evs, behind := l.Since(4, 3)
	if behind || len(evs) != 3 || evs[0].Seq != 5 || evs[2].Seq != 7 {
		t.Fatalf("Since(4,3) = %v, behind %v", evs, behind)
	}
	for i := 0; i < Recent; i++ {
		l.Emit(Event{Kind: Send})
	}
	if _, behind := l.Since(4, 10); !behind {
		t.Fatal("a reader whose next event left the window must be told to take a snapshot")
	}
	if evs, behind := l.Since(l.Last(), 10); behind || len(evs) != 0 {
		t.Fatalf("an up-to-date reader gets nothing: %v %v", evs, behind)
	}
}

func TestAnomaliesPastTheBoundAreCounted(t *testing.T) {
	l := New()
	for i := 0; i < Head+Anomalies+10; i++ {
		l.Emit(Event{Kind: Error})
	}
	if got := l.DroppedAnomalies(); got != 10 {
		t.Fatalf("dropped %d, want 10", got)
	}
}

// TestBatchEmitsInOrderAtOneTime: a batch's events get consecutive
// sequence numbers in the order added, one timestamp, and the batch is
// reusable.
func TestBatchEmitsInOrderAtOneTime(t *testing.T) {
	l := New()
	l.Emit(Event{Kind: Send, ID: "before"})
	b := l.Batch()
	b.Emit() // empty: nothing happens
	for i := range 3 {
		b.Add(Event{Kind: Ack, ID: fmt.Sprint(i)})
	}
	b.Emit()
	b.Add(Event{Kind: Credit, ID: "again"})
	b.Emit()
	evs, last := l.Snapshot()
	if last != 5 || len(evs) != 5 {
		t.Fatalf("got %d events up to %d, want 5", len(evs), last)
	}
	for i, want := range []string{"before", "0", "1", "2", "again"} {
		if evs[i].ID != want || evs[i].Seq != int64(i+1) {
			t.Fatalf("event %d = %s #%d, want %s #%d", i, evs[i].ID, evs[i].Seq, want, i+1)
		}
	}
	if evs[1].TUs != evs[3].TUs {
		t.Fatalf("one batch, two times: %d and %d", evs[1].TUs, evs[3].TUs)
	}
}

// TestBatchesPastTheHeadKeepASample: while the head fills, a batch keeps
// everything; past it, its first PerBatch routine events and every
// anomaly.
func TestBatchesPastTheHeadKeepASample(t *testing.T) {
	l := New().Sample()
	b := l.Batch()
	for i := range Head - 10 {
		b.Add(Event{Kind: Send, Deposit: i + 1})
	}
	b.Emit()
	if got := l.Last(); got != Head-10 {
		t.Fatalf("a batch filling the head kept %d of %d events", got, Head-10)
	}
	l.Emit(Event{Kind: Commit}) // singles are always kept
	for range 9 {
		l.Emit(Event{Kind: Commit})
	}
	for i := range 500 {
		b.Add(Event{Kind: Ack, Deposit: i + 1})
		if i == 300 {
			b.Add(Event{Kind: Error, Deposit: i + 1})
		}
	}
	b.Emit()
	evs, _ := l.Since(Head, 1000)
	if len(evs) != PerBatch+1 {
		t.Fatalf("past the head a batch of 501 kept %d events, want %d", len(evs), PerBatch+1)
	}
	for i, e := range evs[:PerBatch] {
		if e.Kind != Ack || e.Deposit != i+1 {
			t.Fatalf("kept event %d: %+v, want the batch's first acks in order", i, e)
		}
	}
	if last := evs[PerBatch]; last.Kind != Error || last.Deposit != 301 {
		t.Fatalf("the anomaly was not kept: %+v", last)
	}
	b.Add(Event{Kind: Ack, Deposit: 1})
	b.Emit()
	if l.Last() != Head+PerBatch+2 {
		t.Fatal("the next batch got no share of its own")
	}
}

// TestUnsampledLogsKeepEveryEvent: a log not asked to sample keeps every
// event of a batch past the head (in its recent window).
func TestUnsampledLogsKeepEveryEvent(t *testing.T) {
	l := New()
	b := l.Batch()
	for i := range Head + 500 {
		b.Add(Event{Kind: Credit, Deposit: i + 1})
	}
	b.Emit()
	if got := l.Last(); got != Head+500 {
		t.Fatalf("kept %d of %d events", got, Head+500)
	}
}

// TestReadersSeeDepositIDs: an event that names its deposit by number is
// read with the deposit's id, from the recent window and from snapshots.
func TestReadersSeeDepositIDs(t *testing.T) {
	l := New()
	l.Emit(Event{Kind: Credit, Deposit: 42})
	l.Emit(Event{Kind: Fetch, ID: "end"})
	evs, _ := l.Since(0, 10)
	snap, _ := l.Snapshot()
	for _, got := range [][]Event{evs, snap} {
		if len(got) != 2 || got[0].ID != "d-000042" || got[1].ID != "end" {
			t.Fatalf("read %+v", got)
		}
	}
}

func BenchmarkEmit(b *testing.B) {
	l := New()
	e := Event{Actor: Producer, Kind: Send, ID: "d-000001", Topic: "lab.r-x.deposits", Offset: -1}
	b.ReportAllocs()
	for b.Loop() {
		l.Emit(e)
	}
}

// BenchmarkBatch is the cost per event when a stage emits a batch of 500.
func BenchmarkBatch(b *testing.B) {
	l := New()
	bt := l.Batch()
	e := Event{Actor: Producer, Kind: Send, ID: "d-000001", Topic: "lab.r-x.deposits", Offset: -1}
	b.ReportAllocs()
	for b.Loop() {
		for range 500 {
			bt.Add(e)
		}
		bt.Emit()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*500), "ns/event")
}

// DroppedAnomalies counts anomalies past the Anomalies bound.
func (l *Log) DroppedAnomalies() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}
