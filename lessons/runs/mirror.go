package runs

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/pipeline"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// A mirror is a run another lab instance owns, as this instance knows it
// from the lab's own Kafka topics (package fleet): its status and the
// events the owner published. It answers the same methods as a local run,
// so the handlers serve both alike; a control goes to the owner through
// Owner and comes back with the owner's answer.

// Owner reaches the instance that owns a mirrored run.
type Owner interface {
	// Control asks the owner to apply c (or, for action "cancel", to
	// cancel the run), and returns the run's status after it or the
	// owner's refusal, or ErrNoAnswer past ctx's deadline. token is the
	// one this instance checked against the run's TokenHash; it must not
	// leave the instance: the owner is sent a Proof of it.
	Control(ctx context.Context, runID, token string, c Control) (Status, error)
}

// ErrNoAnswer is returned when the instance that owns a run did not
// answer a control in time.
var ErrNoAnswer = errors.New("the lab instance running this run did not answer in time: try again in a moment")

// Observer is told of a registry's runs: package fleet publishes them for
// the other instances. Its methods must not block.
type Observer interface {
	Created(r *Run) // asked for: queued or started
	Expired(r *Run) // forgotten at the end of its retention
}

// Mirror bounds: a mirror keeps at most mirrorHead+mirrorAnomalies+
// mirrorRecent events, whatever the owner sends: as a run's own log
// (trace.Log), its first events, its anomalies — what a lesson is about —
// and the latest, in less room, for an instance keeps many mirrors.
const (
	mirrorHead      = 1024
	mirrorAnomalies = 1024
	mirrorRecent    = 3072
)

type mirror struct {
	owner     Owner
	tokenHash string

	mu        sync.Mutex
	status    Status
	head      []trace.Event // the run's first events
	anomalies []trace.Event // past the head, in order
	recent    []trace.Event // the latest, after the head, in order
	// trimmed is the seq of the last event dropped from recent: a reader
	// whose cursor is before it is behind.
	trimmed int64
	final   []trace.Event // the owner's final snapshot, arriving in parts
	updated chan struct{} // closed, and replaced, at each update
}

// NewMirror returns a mirror of a run another instance owns, with the
// status and the hash of its control token (TokenHash) it published.
func NewMirror(st Status, tokenHash string, owner Owner) *Run {
	r := &Run{ID: st.ID, Done: make(chan struct{}), mirror: &mirror{owner: owner, tokenHash: tokenHash, status: st, updated: make(chan struct{})}}
	r.joinCode = strings.TrimPrefix(st.Join, "/join/")
	if st.State == Done || st.State == Failed {
		close(r.Done)
	}
	return r
}

// IsMirror reports whether another instance owns r.
func (r *Run) IsMirror() bool { return r.mirror != nil }

// TokenHash is the SHA-256 of r's control token, in hex: what other
// instances are told, so that they refuse a wrong token themselves and
// never learn the token.
func (r *Run) TokenHash() string {
	if r.mirror != nil {
		return r.mirror.tokenHash
	}
	return hashToken(r.token)
}

func hashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Mirrored updates a mirror with what its owner published: its status and
// new events (in seq order, after those it has). It closes Done, after
// the events are in, once the status is final.
func (r *Run) Mirrored(st Status, events []trace.Event) {
	m := r.mirror
	final := st.State == Done || st.State == Failed
	m.mu.Lock()
	// An ended mirror stays ended: a late frame of an owner taken for
	// gone (its heartbeats held up) cannot make it run again, though its
	// own end, when it comes, is the one kept.
	if final || !r.Finished() {
		m.status = st
	}
	m.add(events)
	m.wakeLocked()
	m.mu.Unlock()
	if final {
		r.closeDone()
	}
}

// Updated is closed when a mirror next changes, so that its viewers'
// feed frames it at once rather than at its next tick: a remote viewer
// already waits for the owner's frame and Kafka. nil (never ready) for a
// local run.
func (r *Run) Updated() <-chan struct{} {
	if r.mirror == nil {
		return nil
	}
	r.mirror.mu.Lock()
	defer r.mirror.mu.Unlock()
	return r.mirror.updated
}

func (m *mirror) wakeLocked() {
	close(m.updated)
	m.updated = make(chan struct{})
}

// MirroredFinal takes one part of the owner's final snapshot of the run's
// events; the last part replaces what the mirror kept, so that a finished
// run's trace is the owner's whole kept log, not only what live frames
// carried.
func (r *Run) MirroredFinal(events []trace.Event, part, parts int) {
	m := r.mirror
	m.mu.Lock()
	defer m.mu.Unlock()
	if part == 0 {
		m.final = m.final[:0]
	}
	if len(m.final)+len(events) <= 4*(mirrorHead+mirrorAnomalies+mirrorRecent) {
		m.final = append(m.final, events...)
	}
	if part == parts-1 {
		m.head, m.anomalies, m.recent, m.trimmed = nil, nil, nil, 0
		m.add(m.final)
		m.final = nil
		m.wakeLocked()
	}
}

func (m *mirror) add(events []trace.Event) {
	last := m.last()
	for _, e := range events {
		if e.Seq <= last {
			continue
		}
		last = e.Seq
		if len(m.head) < mirrorHead {
			m.head = append(m.head, e)
			continue
		}
		if e.Kind.Anomalous() && len(m.anomalies) < mirrorAnomalies {
			m.anomalies = append(m.anomalies, e)
		}
		m.recent = append(m.recent, e)
	}
	if over := len(m.recent) - mirrorRecent; over > 0 {
		m.trimmed = m.recent[over-1].Seq
		m.recent = append(m.recent[:0:0], m.recent[over:]...)
	}
}

func (m *mirror) last() int64 {
	if n := len(m.recent); n > 0 {
		return m.recent[n-1].Seq
	}
	if n := len(m.head); n > 0 {
		return m.head[n-1].Seq
	}
	return 0
}

// Fail ends a mirror whose owner stopped: its status says why.
func (r *Run) Fail(end *Ending) {
	m := r.mirror
	m.mu.Lock()
	if m.status.State != Done && m.status.State != Failed {
		msg := end.Msg
		m.status.State, m.status.Error, m.status.ErrorKey, m.status.QueuePosition, m.status.Paused = Failed, &msg, end.Key, nil, false
		m.wakeLocked()
	}
	m.mu.Unlock()
	r.closeDone()
}

func (r *Run) closeDone() {
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.Done:
	default:
		close(r.Done)
	}
}

func (m *mirror) snapshot() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status
}

func (m *mirror) events() []trace.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]trace.Event, 0, len(m.head)+len(m.anomalies)+len(m.recent))
	out = append(out, m.head...)
	// The anomalies before the recent window, then the window.
	from := int64(0)
	if len(m.recent) > 0 {
		from = m.recent[0].Seq
	}
	for _, e := range m.anomalies {
		if from == 0 || e.Seq < from {
			out = append(out, e)
		}
	}
	return append(out, m.recent...)
}

func (m *mirror) since(seq int64, max int) ([]trace.Event, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if seq < m.trimmed {
		return nil, true
	}
	var out []trace.Event
	for _, part := range [][]trace.Event{m.head, m.recent} {
		i := sort.Search(len(part), func(i int) bool { return part[i].Seq > seq })
		for ; i < len(part) && len(out) < max; i++ {
			out = append(out, part[i])
		}
	}
	return out, false
}

// control checks token and the run's state here, then asks the owner.
func (m *mirror) control(r *Run, token string, c Control) error {
	if subtle.ConstantTimeCompare([]byte(hashToken(token)), []byte(m.tokenHash)) != 1 {
		return ErrForbidden
	}
	if r.Finished() {
		return ErrFinished
	}
	ctx, cancel := context.WithTimeout(context.Background(), controlWait)
	defer cancel()
	c.Token = ""
	st, err := m.owner.Control(ctx, r.ID, token, c)
	if err != nil {
		return err
	}
	r.Mirrored(st, nil)
	return nil
}

// controlWait bounds a control of a mirrored run: the request to its
// owner and the owner's answer, both through Kafka.
const controlWait = 5 * time.Second

// Refusal kinds: how an owner's refusal of a control travels to the
// instance that asked (ErrorKind and KindError).
var kinds = map[string]error{
	"forbidden": ErrForbidden, "finished": ErrFinished, "not_paused": ErrNotPaused,
	"queued": ErrQueued, "no_room": ErrNoRoom, "needs_cluster": pipeline.ErrNeedsCluster,
}

// ErrorKind names err for the instance that asked for a control: a kind,
// and for a bad field its field and sentence.
func ErrorKind(err error) (kind, field, msg string) {
	if err == nil {
		return "", "", ""
	}
	var fe *lessons.FieldError
	if errors.As(err, &fe) {
		return "field", fe.Field, fe.Msg
	}
	for k, e := range kinds {
		if errors.Is(err, e) {
			return k, "", ""
		}
	}
	return "other", "", err.Error()
}

// KindError is the error ErrorKind named.
func KindError(kind, field, msg string) error {
	switch kind {
	case "":
		return nil
	case "field":
		return &lessons.FieldError{Field: field, Msg: msg}
	}
	if e, ok := kinds[kind]; ok {
		return e
	}
	return errors.New(msg)
}
