package runs

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/pipeline"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// askedOwner counts the controls that reached the owner.
type askedOwner struct {
	asked int
	err   error
	// sent is the token and the control's own token field of every
	// control the owner was asked.
	sent []string
}

func (o *askedOwner) Control(_ context.Context, id, token string, c Control) (Status, error) {
	o.asked++
	o.sent = append(o.sent, token, c.Token)
	return Status{ID: id, State: Running, Paused: c.Action == "pause"}, o.err
}

// TestMirrorRefusesHere: a wrong token and a finished run are refused by
// the instance that holds the mirror, without asking the owner; the
// owner's answer, refusal or status, is what the caller gets.
func TestMirrorRefusesHere(t *testing.T) {
	owner := &askedOwner{}
	r := NewMirror(Status{ID: "r-x", State: Running}, hashToken("secret"), owner)
	if err := r.Apply("wrong", Control{Action: "pause"}); !errors.Is(err, ErrForbidden) || owner.asked != 0 {
		t.Errorf("wrong token: %v, owner asked %d times", err, owner.asked)
	}
	if err := r.Apply("secret", Control{Action: "pause"}); err != nil || !r.Status().Paused || owner.asked != 1 {
		t.Errorf("pause: %v, paused %v", err, r.Status().Paused)
	}
	owner.err = ErrNotPaused
	if err := r.Apply("secret", Control{Action: "step"}); !errors.Is(err, ErrNotPaused) {
		t.Errorf("the owner's refusal: %v", err)
	}
	owner.err = nil
	if err := r.Apply("secret", Control{Action: "resume", Token: "secret"}); err != nil {
		t.Errorf("resume with the token in the control, as over a websocket: %v", err)
	}
	if owner.sent[len(owner.sent)-1] != "" {
		t.Errorf("the control's own token field went on to the owner: %q", owner.sent)
	}
	r.Mirrored(Status{ID: "r-x", State: Done}, nil)
	if err := r.Cancel("secret"); !errors.Is(err, ErrFinished) || owner.asked != 3 {
		t.Errorf("cancel of a finished run: %v, owner asked %d times", err, owner.asked)
	}
	if !r.Finished() || r.QueuePosition() != -1 {
		t.Error("a done mirror is not finished")
	}
	r.Mirrored(Status{ID: "r-x", State: Running}, nil)
	if r.Status().State != Done {
		t.Errorf("a late frame made an ended mirror %s", r.Status().State)
	}
}

// TestMirrorKeepsABoundedLog: whatever its owner sends, a mirror keeps
// the run's first events and a recent window, and a reader behind the
// window is told so.
func TestMirrorKeepsABoundedLog(t *testing.T) {
	r := NewMirror(Status{ID: "r-x", State: Running}, "", &askedOwner{})
	var seq int64
	for range 20 {
		var evs []trace.Event
		for range 1000 {
			seq++
			evs = append(evs, trace.Event{Seq: seq})
		}
		r.Mirrored(Status{ID: "r-x", State: Running}, evs)
	}
	if n := len(r.Events()); n != mirrorHead+mirrorRecent {
		t.Errorf("kept %d events, want %d", n, mirrorHead+mirrorRecent)
	}
	// An anomaly past the head is kept when the window moves on.
	seq++
	r.Mirrored(Status{ID: "r-x", State: Running}, []trace.Event{{Seq: seq, Kind: trace.Fenced}})
	anomaly := seq
	var evs []trace.Event
	for range 2 * mirrorRecent {
		seq++
		evs = append(evs, trace.Event{Seq: seq})
	}
	r.Mirrored(Status{ID: "r-x", State: Running}, evs)
	kept := r.Events()
	if len(kept) != mirrorHead+1+mirrorRecent || kept[mirrorHead].Seq != anomaly || !slices.IsSortedFunc(kept, func(a, b trace.Event) int { return int(a.Seq - b.Seq) }) {
		t.Errorf("kept %d events, the anomaly %v at the head's end", len(kept), kept[mirrorHead])
	}
	if r.LastEvent() != seq {
		t.Errorf("last %d, want %d", r.LastEvent(), seq)
	}
	if _, behind := r.EventsSince(mirrorHead+10, 10); !behind {
		t.Error("a reader past the head and before the window is not behind")
	}
	if evs, behind := r.EventsSince(seq-5, 10); behind || len(evs) != 5 || evs[0].Seq != seq-4 {
		t.Errorf("since the end: %d events, behind %v", len(evs), behind)
	}
	// The owner's final log replaces what live frames carried.
	r.MirroredFinal([]trace.Event{{Seq: 1}, {Seq: 2}}, 0, 2)
	r.MirroredFinal([]trace.Event{{Seq: 9}}, 1, 2)
	if evs := r.Events(); len(evs) != 3 || evs[2].Seq != 9 {
		t.Errorf("after the final log: %v", evs)
	}
}

// TestRefusalsTravel: every refusal an owner may answer a control with
// comes back as the same error on the instance that asked.
func TestRefusalsTravel(t *testing.T) {
	for _, err := range []error{ErrForbidden, ErrFinished, ErrNotPaused, ErrQueued, ErrNoRoom, pipeline.ErrNeedsCluster,
		&lessons.FieldError{Field: "action", Msg: "unknown action"}} {
		got := KindError(ErrorKind(err))
		var fe *lessons.FieldError
		if !errors.Is(got, err) && !(errors.As(got, &fe) && fe.Field == "action" && fe.Msg == "unknown action") {
			t.Errorf("%v came back as %v", err, got)
		}
	}
	if KindError(ErrorKind(nil)) != nil {
		t.Error("no error came back as one")
	}
}

// TestForwardedControls: the owner drives its run for another instance
// that proves the token with an HMAC of the very message it sends, and
// refuses any other proof: the published hash, the token itself, a proof
// of another message.
func TestForwardedControls(t *testing.T) {
	g := newRegistry(t, Config{})
	r := mustStart(t, g, lesson("a"))
	msg := []byte(`{"ID":"1","Run":"r","Control":{"action":"step"}}`)
	for _, proof := range []string{"", r.Token(), r.TokenHash(), Proof("wrong", msg), Proof(r.Token(), []byte("another message"))} {
		if err := r.ApplyProven(proof, msg, Control{Action: "resume"}); !errors.Is(err, ErrForbidden) {
			t.Errorf("proof %q: %v, want forbidden", proof, err)
		}
	}
	if err := r.ApplyProven(Proof(r.Token(), msg), msg, Control{Action: "step"}); err != nil {
		t.Errorf("step a paused run: %v", err)
	}
	if err := r.ApplyProven(Proof(r.Token(), []byte("c")), []byte("c"), Control{Action: "cancel"}); err != nil {
		t.Errorf("cancel: %v", err)
	}
	if st := wait(t, r); st.State != Failed {
		t.Errorf("cancelled run ended %s", st.State)
	}
	if err := r.ApplyProven(Proof(r.Token(), []byte("c")), []byte("c"), Control{Action: "cancel"}); !errors.Is(err, ErrFinished) {
		t.Errorf("cancel of an ended run: %v", err)
	}
}
