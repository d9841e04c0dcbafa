package main

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons/pipeline"
	"github.com/kafka-delivery-lab/lab/lessons/runs"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

const (
	// frameEvery is how often a run's feed turns new events into a frame:
	// at most one frame per 50 ms per viewer, however fast the run.
	frameEvery = 50 * time.Millisecond
	// maxFrameEvents caps the events in one frame. A fast run makes far
	// more events than a browser can draw; the frame then carries the
	// latest ones and says how many it skipped (progress has the totals).
	maxFrameEvents = 300
	// keptFrames is how far a viewer may fall behind before it gets a
	// snapshot instead of the frames it missed.
	keptFrames = 64
)

// frame is one encoded websocket message, shared by every viewer.
type frame struct {
	n    int64
	data []byte
}

// feed turns one run's trace into frames, encoded once for all viewers.
// The run never waits for it: the feed polls the run's bounded log.
type feed struct {
	run *runs.Run

	mu      sync.Mutex
	frames  []frame // the last keptFrames frames, oldest first
	next    int64   // number of the next frame
	cursor  int64   // last event seq put in a frame
	done    bool    // the result frame is out
	wake    chan struct{}
	viewers int
	snap    []byte // cached snapshot, valid for frame number snapN
	snapN   int64
}

type eventsMsg struct {
	Type    string        `json:"type"`
	Events  []trace.Event `json:"events"`
	Skipped int64         `json:"skipped,omitempty"`
}

type progressMsg struct {
	Type string `json:"type"`
	pipeline.ProgressView
	State  runs.State `json:"state"`
	Paused bool       `json:"paused"`
	// QueuePosition: a queued run's runs ahead of it.
	QueuePosition *int `json:"queue_position,omitempty"`
}

type runMsg struct {
	Type   string        `json:"type"`
	Run    runs.Status   `json:"run"`
	Events []trace.Event `json:"events,omitempty"`
}

func newFeed(r *runs.Run, finished func(*feed)) *feed {
	f := &feed{run: r, wake: make(chan struct{})}
	go func() {
		f.loop()
		finished(f)
	}()
	return f
}

func (f *feed) loop() {
	t := time.NewTicker(frameEvery)
	defer t.Stop()
	var last pipeline.ProgressView
	lastPaused, lastState, lastPos := false, runs.State(""), -1
	for {
		select {
		case <-t.C:
		case <-f.run.Done:
		case <-f.run.Updated(): // another instance's run: its owner's frame came
		}
		finished := f.run.Finished()
		f.publishEvents(finished)
		st := f.run.Status()
		// A pause changes no count, and is news all the same: the pages
		// offer the time slider while a run is paused.
		// So is a queued run's move up the queue, and its start.
		pos := -1
		if st.QueuePosition != nil {
			pos = *st.QueuePosition
		}
		if p := st.Progress; p != last || st.Paused != lastPaused || st.State != lastState || pos != lastPos || finished {
			last, lastPaused, lastState, lastPos = p, st.Paused, st.State, pos
			f.append(mustJSON(progressMsg{Type: "progress", ProgressView: p, State: st.State, Paused: st.Paused, QueuePosition: st.QueuePosition}))
		}
		if finished {
			f.append(mustJSON(runMsg{Type: "result", Run: st}))
			f.mu.Lock()
			f.done = true
			f.mu.Unlock()
			f.signal()
			return
		}
	}
}

// publishEvents frames the events since the cursor. At the end of a run
// it drains everything the log still holds.
func (f *feed) publishEvents(all bool) {
	r := f.run
	for {
		// Too far behind to show everything: jump to the latest.
		from := f.cursor
		if last := r.LastEvent(); !all && last-from > maxFrameEvents {
			from = last - maxFrameEvents
		}
		evs, behind := r.EventsSince(from, maxFrameEvents)
		if behind { // the window moved on past from
			from = max(0, r.LastEvent()-maxFrameEvents)
			evs, _ = r.EventsSince(from, maxFrameEvents)
		}
		if len(evs) == 0 {
			return
		}
		skipped := from - f.cursor
		f.cursor = evs[len(evs)-1].Seq
		f.append(mustJSON(eventsMsg{Type: "events", Events: evs, Skipped: skipped}))
		if !all || f.cursor >= r.LastEvent() {
			return
		}
	}
}

func (f *feed) append(data []byte) {
	f.mu.Lock()
	f.frames = append(f.frames, frame{n: f.next, data: data})
	f.next++
	if len(f.frames) > keptFrames {
		f.frames = f.frames[len(f.frames)-keptFrames:]
	}
	f.mu.Unlock()
	f.signal()
}

func (f *feed) signal() {
	f.mu.Lock()
	close(f.wake)
	f.wake = make(chan struct{})
	f.mu.Unlock()
}

// since returns the frames numbered ≥ n, a channel closed when more
// arrive, and whether the viewer fell behind the kept frames (it must
// then take a snapshot) or has everything (done).
func (f *feed) since(n int64) (out []frame, wake <-chan struct{}, behind, done bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.frames) > 0 && n < f.frames[0].n {
		return nil, f.wake, true, false
	}
	for _, fr := range f.frames {
		if fr.n >= n {
			out = append(out, fr)
		}
	}
	return out, f.wake, false, f.done && len(out) == 0
}

// snapshot is the run so far and the frame number it is current to. It is
// encoded once per frame, however many viewers join at once.
func (f *feed) snapshot() ([]byte, int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.snap != nil && f.snapN == f.next {
		return f.snap, f.next
	}
	f.snap, f.snapN = mustJSON(runMsg{Type: "snapshot", Run: f.run.Status(), Events: f.run.Events()}), f.next
	return f.snap, f.next
}

// feeds holds the feeds of runs that have viewers.
type feeds struct {
	mu sync.Mutex
	m  map[string]*feed
}

// join returns the run's feed, starting one if needed.
func (fs *feeds) join(r *runs.Run) *feed {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.m == nil {
		fs.m = map[string]*feed{}
	}
	f, ok := fs.m[r.ID]
	if !ok {
		f = newFeed(r, fs.forgetIdle)
		fs.m[r.ID] = f
	}
	f.mu.Lock()
	f.viewers++
	f.mu.Unlock()
	return f
}

// leave drops a viewer.
func (fs *feeds) leave(f *feed) {
	f.mu.Lock()
	f.viewers--
	f.mu.Unlock()
	fs.forgetIdle(f)
}

// forgetIdle forgets a finished feed that nobody watches; a later viewer
// gets a fresh one, which sends the snapshot and the result at once.
func (fs *feeds) forgetIdle(f *feed) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f.mu.Lock()
	idle := f.viewers == 0 && f.done
	f.mu.Unlock()
	if idle && fs.m[f.run.ID] == f {
		delete(fs.m, f.run.ID)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs of strings and numbers
	}
	return b
}
