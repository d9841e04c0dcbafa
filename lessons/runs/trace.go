package runs

import "github.com/kafka-delivery-lab/lab/lessons/trace"

// The run's trace, read-only: callers read what the run logged and can
// neither emit into its log nor reach the rest of its pipeline.

// Events returns what the run's log holds, in order: the first events,
// every kept anomaly and the recent window.
func (r *Run) Events() []trace.Event {
	if r.mirror != nil {
		return r.mirror.events()
	}
	events, _ := r.Pipeline.Log.Snapshot()
	return events
}

// LastEvent is the sequence number of the run's latest event.
func (r *Run) LastEvent() int64 {
	if r.mirror != nil {
		r.mirror.mu.Lock()
		defer r.mirror.mu.Unlock()
		return r.mirror.last()
	}
	return r.Pipeline.Log.Last()
}

// EventsSince returns up to max events after seq, in order. behind is true
// when events after seq have already left the log's recent window: the
// caller should take Events instead.
func (r *Run) EventsSince(seq int64, max int) (events []trace.Event, behind bool) {
	if r.mirror != nil {
		return r.mirror.since(seq, max)
	}
	return r.Pipeline.Log.Since(seq, max)
}
