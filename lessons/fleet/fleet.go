// Package fleet makes any number of lab instances on one Kafka cluster act
// as one lab: each publishes its runs to the lab's own topics and mirrors
// everyone else's, so any instance can show, stream, download and drive
// any run. Kafka is the only thing the instances share.
//
// Three topics, their names under a prefix (Config.Prefix, "lab."):
//
//   - runs (compacted): run id → the run's record (owner instance,
//     status, the hash of its control token, never the token), written
//     when a run is asked for and at each change of state; a tombstone
//     when its owner forgets it.
//   - frames (deleted after an hour): run id → the run's status and the
//     events since the last frame, every frameEvery while it changes, and
//     at its end the owner's whole kept log in parts.
//   - control (deleted after ten minutes): control requests for a run,
//     keyed by its id, the owner's answers, and every instance's
//     heartbeat.
//
// Every instance reads all three directly, partition by partition, with
// no consumer group: each needs everything. An instance whose heartbeats
// stop for Config.Liveness is gone, and its unfinished runs end failed on
// every instance.
package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons/runs"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// Config says which cluster and topics the fleet shares.
type Config struct {
	Brokers []string
	// Prefix starts the names of the lab's own topics (and is the
	// prefix a shared cluster's ACLs grant the lab); "lab." if empty.
	Prefix string
	// Liveness is how long this instance may go unheard before the
	// others end its unfinished runs failed; 6 s if 0. It heartbeats
	// four times in it, and says it in each heartbeat, so instances
	// given different values still judge each other right.
	Liveness time.Duration
	// Retention is how long a finished run is kept: the registries'
	// (runs.Config.Retention); 10 minutes if 0.
	Retention time.Duration
}

// Liveness bounds: under a second an instance busy for a moment would
// be taken as gone; past five minutes a dead one's students wait too long
// to be told.
const (
	MinLiveness = time.Second
	MaxLiveness = 5 * time.Minute
)

const (
	// frameEvery is how often an owner publishes a changing run: the
	// pace of the viewers' own frames (server/feed.go).
	frameEvery = 50 * time.Millisecond
	// maxFrameEvents caps one frame's events; a faster run's frames
	// skip to its latest, as a local viewer's do, and its end sends the
	// whole kept log.
	maxFrameEvents = 300
	// finalPart is the events per part of a run's final log: a part
	// stays under Kafka's default 1 MB message (max.message.bytes) even
	// with long details, some 2 KB an event at most.
	finalPart = 400
	// maxMirrors bounds the other instances' runs kept here; past it
	// the oldest finished one is forgotten.
	maxMirrors = 2000
	// finishGrace: a finished status read from the runs table before
	// the run's last frame waits this long for it, so that a viewer gets
	// the run's last events before its end.
	finishGrace = 2 * time.Second
)

// record is a run as its owner publishes it, in the runs table and in
// frames.
type record struct {
	Owner     string      `json:"owner"`
	TokenHash string      `json:"token_hash"`
	Status    runs.Status `json:"status"`
	Finished  time.Time   `json:"finished,omitzero"`
	// Started is when the run left its queue, by its owner's clock: an
	// instance starting later reads the frames from there (framesFrom).
	Started time.Time     `json:"started,omitzero"`
	Events  []trace.Event `json:"events,omitempty"`
	// Part of Parts, when Parts > 0: the run's final kept log.
	Part  int `json:"part,omitempty"`
	Parts int `json:"parts,omitempty"`
}

// message is one record of the control topic.
type message struct {
	Type string `json:"type"` // control, answer, alive, gone
	ID   string `json:"id,omitempty"`
	From string `json:"from"`
	To   string `json:"to,omitempty"`
	Run  string `json:"run,omitempty"`
	// Proof is runs.Proof of the control's token and signed(): the
	// token itself never travels. At is when it was sent, in Unix
	// milliseconds by the sender's clock, and signed too.
	Proof   string        `json:"proof,omitempty"`
	At      int64         `json:"at,omitempty"`
	Control *runs.Control `json:"control,omitempty"`
	Status  *runs.Status  `json:"status,omitempty"`
	Kind    string        `json:"kind,omitempty"`
	Field   string        `json:"field,omitempty"`
	Msg     string        `json:"msg,omitempty"`
	// LivenessMs, in a heartbeat, is how long the sender may go unheard
	// before it is taken as gone (Config.Liveness).
	LivenessMs int64 `json:"liveness_ms,omitempty"`
}

// Local is this instance's own runs.
type Local interface {
	Get(id string) (*runs.Run, bool)
}

// Fleet is this instance's part in the shared lab.
type Fleet struct {
	cfg                   Config
	id                    string
	cl                    *kgo.Client
	runsT, framesT, ctrlT string
	local                 Local
	ctx                   context.Context
	cancel                context.CancelFunc
	loops, pubs           sync.WaitGroup
	controlFrom           map[int32]int64 // the control topic's end at start: older requests are not ours to answer
	started               bool
	since                 time.Time // when Start began
	killed                sync.Once
	framesRead            atomic.Int64 // frames records read, for tests
	// behind counts the control topic's partitions not yet read up to
	// where they ended at Start: until then heartbeats are missing, and
	// no instance is judged gone (caughtUp).
	behind    atomic.Int64
	replaying time.Time // when it began reading them

	mu      sync.Mutex
	mirrors map[string]*entry
	due     map[string]time.Time            // instance → when it is gone unless heard from again (this clock)
	seen    map[string]map[string]time.Time // run → control id → when it was applied here (firstTime)
	waiters map[string]chan message
}

type entry struct {
	run      *runs.Run
	owner    string
	framed   bool      // frames came: fresher than the table
	started  time.Time // when it started, by the owner's clock; zero if queued or not said
	finished time.Time // when it finished, by the owner's clock or this one's
	pending  *runs.Status
	since    time.Time // when pending came
}

// New connects to the cluster; Start begins sharing.
func New(cfg Config) (*Fleet, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = "lab."
	}
	if cfg.Liveness <= 0 {
		cfg.Liveness = 6 * time.Second
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 10 * time.Minute
	}
	f := &Fleet{cfg: cfg, id: newInstanceID(), runsT: cfg.Prefix + "runs", framesT: cfg.Prefix + "frames", ctrlT: cfg.Prefix + "control",
		mirrors: map[string]*entry{}, due: map[string]time.Time{}, seen: map[string]map[string]time.Time{}, waiters: map[string]chan message{}}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	var err error
	f.cl, err = kgo.NewClient(
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumeTopics(f.runsT), // then frames and control (Start)
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// Frames are the live trace: hand them over at once.
		kgo.ProducerLinger(0),
		kgo.FetchMaxWait(time.Second),
		// A frame or a heartbeat is worthless after a few seconds: with
		// the cluster away, records fail instead of piling up.
		kgo.RecordDeliveryTimeout(10*time.Second),
	)
	if err != nil {
		return nil, fmt.Errorf("lab topics: %w", err)
	}
	return f, nil
}

// ID is this instance's name in its runs' status and on the topics.
func (f *Fleet) ID() string { return f.id }

func newInstanceID() string {
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return -1
	}, strings.ToLower(host))
	var b [3]byte
	_, _ = rand.Read(b[:])
	if len(host) > 20 {
		host = host[:20]
	}
	return strings.TrimPrefix(host+"-"+hex.EncodeToString(b[:]), "-")
}

// Start creates the lab's topics if missing, reads the runs table whole,
// then begins reading frames and controls and heartbeating; local
// answers controls of this instance's runs.
func (f *Fleet) Start(ctx context.Context, local Local) error {
	f.local = local
	f.since = time.Now()
	admin := kadm.NewClient(f.cl)
	// Kafka deletes whole segments, never the one being written to, and
	// by default rolls one every 7 days: without segment.ms the two
	// topics would keep days of records, whatever their retention.
	hour, tenMin, minute, compact, del := "3600000", strconv.FormatInt(controlRetention.Milliseconds(), 10), "60000", "compact", "delete"
	for topic, cfg := range map[string]map[string]*string{
		f.runsT:   {"cleanup.policy": &compact},
		f.framesT: {"cleanup.policy": &del, "retention.ms": &hour, "segment.ms": &tenMin},
		f.ctrlT:   {"cleanup.policy": &del, "retention.ms": &tenMin, "segment.ms": &minute},
	} {
		_, err := admin.CreateTopic(ctx, 1, -1, cfg, topic)
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("cannot create the lab's topic %s (%w): is the cluster reachable, and may the lab create topics with the prefix %q? Or create the topic yourself (README, \"Several instances, one lab\")", topic, err, f.cfg.Prefix)
		}
	}
	var ends kadm.ListedOffsets
	var err error
	for try := 0; ; try++ {
		if ends, err = admin.ListEndOffsets(ctx, f.runsT, f.framesT, f.ctrlT); err == nil && ends.Error() == nil {
			break
		}
		if try == 50 || ctx.Err() != nil {
			return fmt.Errorf("cannot read the lab's topics %s and %s: %w", f.runsT, f.ctrlT, errors.Join(err, ends.Error()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Control requests already in the topic were for instances before
	// this one (controlFrom); of what came before, only heartbeats recent
	// enough to keep an instance alive are read.
	heardFrom, err := admin.ListOffsetsAfterMilli(ctx, f.since.Add(-MaxLiveness-clockSlack).UnixMilli(), f.ctrlT)
	if err == nil {
		err = heardFrom.Error()
	}
	if err != nil {
		return fmt.Errorf("cannot read the lab's topic %s: %w", f.ctrlT, err)
	}
	f.controlFrom = map[int32]int64{}
	control := map[int32]kgo.Offset{}
	tableEnd := map[int32]int64{}
	var frameParts []int32
	ends.Each(func(o kadm.ListedOffset) {
		switch {
		case o.Topic == f.ctrlT:
			f.controlFrom[o.Partition] = o.Offset
			from, ok := heardFrom.Lookup(f.ctrlT, o.Partition)
			if !ok || from.Offset < 0 || from.Offset > o.Offset {
				from.Offset = o.Offset // nothing that recent: from the end
			}
			control[o.Partition] = kgo.NewOffset().At(from.Offset)
			if from.Offset < o.Offset {
				f.behind.Add(1)
			}
		case o.Topic == f.framesT:
			frameParts = append(frameParts, o.Partition)
		case o.Offset > 0:
			tableEnd[o.Partition] = o.Offset
		}
	})
	// The table first, whole: then a frame of a run it does not hold
	// was of a run since forgotten, and is not brought back (onRecord).
	for len(tableEnd) > 0 {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		fs := f.cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return fmt.Errorf("cannot read the lab's topic %s: %w", f.runsT, ctx.Err())
		}
		if fs.Empty() {
			break // compaction may have taken the last offsets: nothing more is coming
		}
		fs.EachRecord(func(rec *kgo.Record) {
			f.onRecord(rec, false)
			if rec.Offset+1 >= tableEnd[rec.Partition] {
				delete(tableEnd, rec.Partition)
			}
		})
	}
	at := kgo.NewOffset().AtStart()
	if from := f.framesFrom(); !from.IsZero() {
		at = kgo.NewOffset().AfterMilli(from.UnixMilli())
	}
	frames := map[int32]kgo.Offset{}
	for _, p := range frameParts {
		frames[p] = at
	}
	f.replaying = time.Now()
	f.cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{f.framesT: frames, f.ctrlT: control})
	f.started = true
	f.loops.Add(3)
	go f.consume()
	go f.heartbeat()
	go f.janitor()
	return nil
}

// replayWait bounds how long a starting instance waits to have read the
// control topic's past heartbeats before it judges any instance gone.
const replayWait = 10 * time.Second

// caughtUp reports whether this instance has read the heartbeats the
// control topic held when it started, or waited replayWait for them.
func (f *Fleet) caughtUp(now time.Time) bool {
	return f.behind.Load() <= 0 || now.Sub(f.replaying) > replayWait
}

// clockSlack allows for other instances' clocks: a frame's timestamp is
// its owner's.
const clockSlack = time.Minute

// framesFrom is the time of the oldest frame this instance, starting, can
// need, once it has read the runs table; zero for all of them. The frames
// topic keeps an hour of every run's frames, and reading it all could take
// long in a busy lab. A finished run is served for Retention after its
// end, from its final log, written at that end; a run in flight needs its
// frames from its start on; a queued one has none yet.
func (f *Fleet) framesFrom() time.Time {
	from := f.since.Add(-f.cfg.Retention)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.mirrors {
		switch {
		case e.run.Finished() || e.run.Status().State == runs.Queued:
		case e.started.IsZero():
			return time.Time{} // an owner that does not say
		case e.started.Before(from):
			from = e.started
		}
	}
	return from.Add(-clockSlack)
}

// Close ends this instance's part gracefully, once its registry has shut
// down: the runs' last records go out, then a goodbye, so that the others
// need not wait for its heartbeats to stop.
func (f *Fleet) Close(ctx context.Context) {
	done := make(chan struct{})
	go func() { f.pubs.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	if f.started {
		_ = f.cl.ProduceSync(ctx, f.message(message{Type: "gone", From: f.id})).FirstErr()
	}
	f.Kill()
}

// Kill stops at once, as a crash would: nothing more is published.
func (f *Fleet) Kill() {
	f.killed.Do(func() {
		f.cancel()
		f.cl.Close()
		f.loops.Wait()
		f.pubs.Wait()
	})
}

// Get finds another instance's run.
func (f *Fleet) Get(id string) (*runs.Run, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.mirrors[id]
	if !ok {
		return nil, false
	}
	return e.run, true
}

// List is every run of the other instances this one mirrors.
func (f *Fleet) List() []*runs.Run {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*runs.Run, 0, len(f.mirrors))
	for _, e := range f.mirrors {
		out = append(out, e.run)
	}
	return out
}

// Join finds another instance's presenter run by its join code.
func (f *Fleet) Join(code string) (*runs.Run, bool) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" {
		return nil, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.mirrors {
		if e.run.JoinCode() == code {
			return e.run, true
		}
	}
	return nil, false
}

// JoinTaken reports whether another instance's run holds code.
func (f *Fleet) JoinTaken(code string) bool {
	_, ok := f.Join(code)
	return ok
}

// Created publishes a new run of this instance for as long as it lives.
func (f *Fleet) Created(r *runs.Run) {
	f.pubs.Add(1)
	go f.publish(r)
}

// Expired removes a run this instance forgot from the runs table.
func (f *Fleet) Expired(r *runs.Run) {
	f.cl.TryProduce(f.ctx, f.stamp(&kgo.Record{Topic: f.runsT, Key: []byte(r.ID)}), nil)
}

// publish writes r's record to the runs table at each change of state and
// its frames while it changes, and its whole kept log at its end.
func (f *Fleet) publish(r *runs.Run) {
	defer f.pubs.Done()
	t := time.NewTicker(frameEvery)
	defer t.Stop()
	var cursor int64
	var last runs.Status
	first := true
	for {
		finished := r.Finished()
		st := r.Status()
		if finished {
			f.publishEnd(r, st)
			return
		}
		from := cursor
		if l := r.LastEvent(); l-from > maxFrameEvents {
			from = l - maxFrameEvents
		}
		evs, behind := r.EventsSince(from, maxFrameEvents)
		if behind {
			evs, _ = r.EventsSince(max(0, r.LastEvent()-maxFrameEvents), maxFrameEvents)
		}
		if len(evs) > 0 {
			cursor = evs[len(evs)-1].Seq
		}
		if first || st.State != last.State {
			f.produce(f.runsT, r.ID, record{Owner: f.id, TokenHash: r.TokenHash(), Status: st, Started: r.Started()})
		}
		if first || len(evs) > 0 || changed(st, last) {
			f.produce(f.framesT, r.ID, record{Owner: f.id, TokenHash: r.TokenHash(), Status: st, Started: r.Started(), Events: evs})
		}
		first, last = false, st
		select {
		case <-t.C:
		case <-r.Done:
		case <-f.ctx.Done():
			return
		}
	}
}

// publishEnd sends a finished run's whole kept log, then its final
// status with the last part, and only once those are written its final
// record in the table: a viewer elsewhere gets the events before the end.
func (f *Fleet) publishEnd(r *runs.Run, st runs.Status) {
	evs := r.Events()
	parts := max(1, (len(evs)+finalPart-1)/finalPart)
	now := time.Now()
	var recs []*kgo.Record
	for i := range parts {
		part := evs[i*finalPart : min(len(evs), (i+1)*finalPart)]
		recs = append(recs, f.record(f.framesT, r.ID, record{Owner: f.id, TokenHash: r.TokenHash(), Status: st, Finished: now, Events: part, Part: i, Parts: parts}))
	}
	ctx, cancel := context.WithTimeout(f.ctx, 10*time.Second)
	defer cancel()
	_ = f.cl.ProduceSync(ctx, recs...).FirstErr() // best effort: the table still says how it ended
	_ = f.cl.ProduceSync(ctx, f.record(f.runsT, r.ID, record{Owner: f.id, TokenHash: r.TokenHash(), Status: st, Finished: now})).FirstErr()
}

// changed reports news a viewer sees without new events.
func changed(a, b runs.Status) bool {
	pos := func(s runs.Status) int {
		if s.QueuePosition == nil {
			return -1
		}
		return *s.QueuePosition
	}
	return a.Progress != b.Progress || a.Paused != b.Paused || a.State != b.State || pos(a) != pos(b) || a.PaceMs != b.PaceMs
}

func (f *Fleet) record(topic, key string, v any) *kgo.Record {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs only
	}
	return f.stamp(&kgo.Record{Topic: topic, Key: []byte(key), Value: b})
}

// fromHeader names the instance that wrote a record, so that an instance
// skips its own without decoding them: it reads every record of the
// three topics, its own runs' frames included.
const fromHeader = "lab-instance"

func (f *Fleet) stamp(r *kgo.Record) *kgo.Record {
	r.Headers = append(r.Headers, kgo.RecordHeader{Key: fromHeader, Value: []byte(f.id)})
	return r
}

func (f *Fleet) mine(r *kgo.Record) bool {
	for _, h := range r.Headers {
		if h.Key == fromHeader {
			return string(h.Value) == f.id
		}
	}
	return false
}

// produce sends without waiting. TryProduce, not Produce: with the
// cluster unreachable and the client's buffer full, a record is dropped
// at once instead of blocking the caller (a run's publisher, the
// consumer answering a control); each is resent in a moment, or is news
// no one can read anyway.
func (f *Fleet) produce(topic, key string, v any) {
	f.cl.TryProduce(f.ctx, f.record(topic, key, v), nil)
}

func (f *Fleet) message(m message) *kgo.Record {
	key := m.Run
	if key == "" {
		key = m.From
	}
	return f.record(f.ctrlT, key, m)
}

// consume reads the three topics for as long as the fleet lives.
func (f *Fleet) consume() {
	defer f.loops.Done()
	for {
		fs := f.cl.PollFetches(f.ctx)
		if f.ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		fs.EachRecord(func(rec *kgo.Record) {
			switch rec.Topic {
			case f.runsT:
				f.onRecord(rec, false)
			case f.framesT:
				f.framesRead.Add(1)
				f.onRecord(rec, true)
			case f.ctrlT:
				f.onMessage(rec)
			}
		})
	}
}

func (f *Fleet) onRecord(rec *kgo.Record, frame bool) {
	if f.mine(rec) {
		return
	}
	id := string(rec.Key)
	if rec.Value == nil { // its owner forgot it
		f.mu.Lock()
		if e, ok := f.mirrors[id]; ok && !frame {
			delete(f.mirrors, id)
			e.run.Fail(runs.OwnerGone) // only a run still in flight changes: a watcher on it ends
		}
		f.mu.Unlock()
		return
	}
	var r record
	if json.Unmarshal(rec.Value, &r) != nil || r.Owner == f.id || r.Status.ID != id {
		return
	}
	final := r.Status.State == runs.Done || r.Status.State == runs.Failed
	f.mu.Lock()
	e, ok := f.mirrors[id]
	if !ok {
		if (final && !r.Finished.IsZero() && time.Since(r.Finished) > f.cfg.Retention) || (frame && rec.Timestamp.Before(f.since)) {
			f.mu.Unlock()
			return // kept no longer by its owner either
		}
		if _, known := f.due[r.Owner]; !known {
			f.due[r.Owner] = time.Now().Add(f.cfg.Liveness) // its time to be heard from
		}
		e = &entry{run: runs.NewMirror(r.Status, r.TokenHash, f), owner: r.Owner, framed: frame, started: r.Started, finished: r.Finished}
		if final && e.finished.IsZero() {
			e.finished = time.Now()
		}
		f.evictLocked()
		f.mirrors[id] = e
		f.mu.Unlock()
		if frame && r.Parts > 0 {
			e.run.MirroredFinal(r.Events, r.Part, r.Parts)
		} else if frame {
			e.run.Mirrored(r.Status, r.Events)
		}
		return
	}
	if final && e.finished.IsZero() {
		e.finished = r.Finished
		if e.finished.IsZero() {
			e.finished = time.Now()
		}
	}
	if e.started.IsZero() {
		e.started = r.Started
	}
	switch {
	case frame:
		e.framed, e.pending = true, nil
	case final && !e.run.Finished():
		// The table's end may come before the last frames: wait for them.
		st := r.Status
		e.pending, e.since = &st, time.Now()
		f.mu.Unlock()
		return
	case e.framed:
		f.mu.Unlock()
		return // frames are fresher than the table
	}
	f.mu.Unlock()
	switch {
	case frame && r.Parts > 0:
		e.run.MirroredFinal(r.Events, r.Part, r.Parts)
		if r.Part == r.Parts-1 {
			e.run.Mirrored(r.Status, nil)
		}
	case frame && !final:
		e.run.Mirrored(r.Status, r.Events)
	case !frame:
		e.run.Mirrored(r.Status, nil)
	}
}

// ownsLocked reports whether inst owns a kept mirror. f.mu is held.
func (f *Fleet) ownsLocked(inst string) bool {
	for _, e := range f.mirrors {
		if e.owner == inst {
			return true
		}
	}
	return false
}

// evictLocked makes room for one more mirror: the oldest finished one
// goes, else any (2,000 runs in flight elsewhere is past any class this
// lab was measured with). f.mu is held.
func (f *Fleet) evictLocked() {
	if len(f.mirrors) < maxMirrors {
		return
	}
	var oldest string
	var at time.Time
	for id, e := range f.mirrors {
		if !e.finished.IsZero() && (oldest == "" || e.finished.Before(at)) {
			oldest, at = id, e.finished
		}
	}
	if oldest == "" {
		for id := range f.mirrors {
			oldest = id
			break
		}
	}
	delete(f.mirrors, oldest)
}

func (f *Fleet) onMessage(rec *kgo.Record) {
	// Older than this instance: only who was alive, and until when, is
	// news (an instance heartbeating every 75 s must not be taken for
	// gone 6 s after this one started).
	old := rec.Offset < f.controlFrom[rec.Partition]
	if rec.Offset+1 == f.controlFrom[rec.Partition] {
		f.behind.Add(-1)
	}
	if f.mine(rec) {
		return
	}
	var m message
	if json.Unmarshal(rec.Value, &m) != nil || m.From == f.id || (old && m.Type != "alive" && m.Type != "gone") {
		return
	}
	switch m.Type {
	case "alive":
		liveness := f.cfg.Liveness
		if ms := m.LivenessMs; ms > 0 && ms <= MaxLiveness.Milliseconds() {
			liveness = max(time.Duration(ms)*time.Millisecond, MinLiveness)
		}
		// An old heartbeat counts from when it was sent, by the sender's
		// clock; but never for less than this instance's own timeout
		// from now, so that a clock behind does not end a live owner.
		due := time.Now().Add(liveness)
		if floor := time.Now().Add(f.cfg.Liveness); old && rec.Timestamp.Add(liveness).Before(floor) {
			due = floor
		} else if old {
			due = rec.Timestamp.Add(liveness)
		}
		f.mu.Lock()
		f.due[m.From] = due
		f.mu.Unlock()
	case "gone":
		f.mu.Lock()
		f.due[m.From] = time.Time{}
		f.mu.Unlock()
	case "answer":
		if m.To != f.id {
			return
		}
		f.mu.Lock()
		ch := f.waiters[m.ID]
		f.mu.Unlock()
		if ch != nil {
			select {
			case ch <- m:
			default:
			}
		}
	case "control":
		r, ok := f.local.Get(m.Run)
		if !ok || r.IsMirror() || m.Control == nil {
			return // another instance's run, or forgotten: that one answers
		}
		msg := signed(m.ID, m.Run, m.At, *m.Control)
		err := runs.ErrForbidden
		if r.Proven(m.Proof, msg) && time.Since(time.UnixMilli(m.At)).Abs() <= controlWindow {
			if !f.firstTime(m.Run, m.ID) {
				return // a replay: each control is applied once
			}
			err = r.ApplyProven(m.Proof, msg, *m.Control)
		}
		st := r.Status()
		ans := message{Type: "answer", ID: m.ID, From: f.id, To: m.From, Run: m.Run, Status: &st}
		ans.Kind, ans.Field, ans.Msg = runs.ErrorKind(err)
		f.cl.TryProduce(f.ctx, f.message(ans), nil)
	}
}

// signed is what a control's proof signs: its id and time (a replay is
// refused: the same id within controlWindow, any id past it), its run and
// the control.
func signed(id, run string, at int64, c runs.Control) []byte {
	b, _ := json.Marshal(struct {
		ID, Run string
		At      int64
		Control runs.Control
	}{id, run, at, c}) // plain fields only
	return b
}

// controlRetention is how long the control topic keeps its records.
const controlRetention = 10 * time.Minute

// controlWindow is how far a control's time may be from the owner's
// clock: a control takes at most controlWait to be answered, and the rest
// is for clocks.
const controlWindow = 2 * time.Minute

// maxSeen bounds the control ids an owner remembers for one run within
// 2 × controlWindow (some 40 controls a second); past it the run's
// controls go unanswered (504) until the oldest are forgotten.
const maxSeen = 10_000

// firstTime reports whether the control with this id was not applied to
// run before, and remembers it.
func (f *Fleet) firstTime(run, id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := f.seen[run]
	if ids == nil {
		ids = map[string]time.Time{}
		f.seen[run] = ids
	}
	if _, ok := ids[id]; ok || id == "" || len(ids) >= maxSeen {
		return false
	}
	ids[id] = time.Now()
	return true
}

// Control sends c for another instance's run to its owner and waits for
// the answer (runs.Owner).
func (f *Fleet) Control(ctx context.Context, runID, token string, c runs.Control) (runs.Status, error) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	id, at := hex.EncodeToString(b[:]), time.Now().UnixMilli()
	ch := make(chan message, 1)
	f.mu.Lock()
	f.waiters[id] = ch
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.waiters, id)
		f.mu.Unlock()
	}()
	sent := make(chan error, 1)
	f.cl.TryProduce(ctx, f.message(message{Type: "control", ID: id, From: f.id, Run: runID, Proof: runs.Proof(token, signed(id, runID, at, c)), At: at, Control: &c}), func(_ *kgo.Record, err error) { sent <- err })
	select {
	case err := <-sent:
		if err != nil {
			return runs.Status{}, runs.ErrNoAnswer
		}
	case <-ctx.Done():
		return runs.Status{}, runs.ErrNoAnswer
	}
	select {
	case m := <-ch:
		if err := runs.KindError(m.Kind, m.Field, m.Msg); err != nil {
			return runs.Status{}, err
		}
		if m.Status == nil {
			return runs.Status{}, runs.ErrNoAnswer
		}
		return *m.Status, nil
	case <-ctx.Done():
		return runs.Status{}, runs.ErrNoAnswer
	case <-f.ctx.Done():
		return runs.Status{}, runs.ErrNoAnswer
	}
}

func (f *Fleet) heartbeat() {
	defer f.loops.Done()
	t := time.NewTicker(f.cfg.Liveness / 4)
	defer t.Stop()
	for {
		f.cl.TryProduce(f.ctx, f.message(message{Type: "alive", From: f.id, LivenessMs: f.cfg.Liveness.Milliseconds()}), nil)
		select {
		case <-t.C:
		case <-f.ctx.Done():
			return
		}
	}
}

// janitor ends the runs of instances gone silent, lets finished runs
// whose last frames never came end, and forgets runs past retention.
func (f *Fleet) janitor() {
	defer f.loops.Done()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-f.ctx.Done():
			return
		}
		now := time.Now()
		type end struct {
			e  *entry
			st *runs.Status
		}
		var ends []end
		var lost []*entry
		f.mu.Lock()
		for id, e := range f.mirrors {
			switch {
			case e.pending != nil && now.Sub(e.since) > finishGrace:
				ends = append(ends, end{e, e.pending})
				e.pending = nil
			case !e.run.Finished() && now.After(f.due[e.owner]) && f.caughtUp(now):
				lost = append(lost, e)
				e.finished = now
			case !e.finished.IsZero() && now.Sub(e.finished) > f.cfg.Retention:
				delete(f.mirrors, id)
				if now.After(f.due[e.owner]) {
					// Its owner cannot forget it any more: do it for it.
					f.cl.TryProduce(f.ctx, f.stamp(&kgo.Record{Topic: f.runsT, Key: []byte(id)}), nil)
				}
			}
		}
		// A control older than twice controlWindow is refused by its
		// time, and its id need not be kept.
		for run, ids := range f.seen {
			for id, at := range ids {
				if now.Sub(at) > 2*controlWindow {
					delete(ids, id)
				}
			}
			if len(ids) == 0 {
				delete(f.seen, run)
			}
		}
		// Forget instances long silent whose runs are all forgotten: a
		// lab restarted every day for a year must not remember them all.
		for inst, at := range f.due {
			if now.Sub(at) > f.cfg.Retention && !f.ownsLocked(inst) {
				delete(f.due, inst)
			}
		}
		f.mu.Unlock()
		for _, x := range ends {
			x.e.run.Mirrored(*x.st, nil)
		}
		for _, e := range lost {
			e.run.Fail(runs.OwnerGone)
			// Said in the table too, so that an instance started later
			// reads the end and not a run in flight for ever.
			f.produce(f.runsT, e.run.ID, record{Owner: e.owner, TokenHash: e.run.TokenHash(), Status: e.run.Status(), Finished: now})
		}
	}
}
