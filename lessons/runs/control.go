package runs

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons"
)

// ErrForbidden refuses a control without the run's token. How to send the
// token is the transport's to say.
var ErrForbidden = errors.New("only the holder of this run's control token may drive it")

// ErrNotPaused refuses a step of a run that is not paused.
var ErrNotPaused = errors.New("step needs a paused run: pause it first")

// ErrFinished refuses a control of a run that has ended.
var ErrFinished = errors.New("the run has ended: start a new one to drive it")

// actionList words the actions a Control may name.
const actionList = "pause, resume, step, pace or fault"

// Control is one action on a running run (API.md, "Driving a run").
type Control struct {
	Action string          `json:"action"` // pause, resume, step, pace, fault
	PaceMs *int            `json:"pace_ms,omitempty"`
	Fault  lessons.FaultID `json:"fault,omitempty"`
	Token  string          `json:"token,omitempty"` // over the websocket only
}

// Apply checks token and performs c. It returns a *lessons.FieldError for a bad
// action, ErrForbidden, ErrFinished, ErrQueued, or ErrNoRoom for a pace
// that would make a light run a full-speed one when no slot is free.
func (r *Run) Apply(token string, c Control) error {
	if r.mirror != nil {
		if c.Action == "cancel" {
			return &lessons.FieldError{Field: "action", Msg: fmt.Sprintf("unknown action %q: use %s", c.Action, actionList)}
		}
		return r.mirror.control(r, token, c)
	}
	if !r.holds(token) {
		return ErrForbidden
	}
	return r.apply(c)
}

// Proof is what another instance sends a run's owner instead of the
// client's token: an HMAC-SHA256 of the control's message keyed with the
// token. The lab's topics then carry nothing that drives a run, neither
// the token nor anything that stands for it (the published TokenHash
// does not), and a proof is good for its own message only.
func Proof(token string, msg []byte) string {
	h := hmac.New(sha256.New, []byte(token))
	h.Write(msg)
	return hex.EncodeToString(h.Sum(nil))
}

// Proven reports whether proof is Proof(token, msg) for this run's token.
func (r *Run) Proven(proof string, msg []byte) bool {
	return r.mirror == nil && hmac.Equal([]byte(proof), []byte(Proof(r.token, msg)))
}

// ApplyProven performs c (or, for action "cancel", cancels the run) for
// another instance, whose message msg carries proof, Proof(token, msg).
// It returns what Apply and Cancel return. Refusing a message seen before
// is the transport's.
func (r *Run) ApplyProven(proof string, msg []byte, c Control) error {
	if !r.Proven(proof, msg) {
		return ErrForbidden
	}
	if c.Action == "cancel" {
		return r.cancelRun()
	}
	return r.apply(c)
}

// apply performs c for a holder of the run's token.
func (r *Run) apply(c Control) error {
	if r.Finished() {
		return ErrFinished
	}
	if r.QueuePosition() >= 0 {
		return ErrQueued
	}
	p := r.Pipeline.Pacer
	switch c.Action {
	case "pause":
		p.Pause()
	case "resume":
		p.Resume()
	case "step":
		if !p.Paused() {
			return ErrNotPaused
		}
		p.Step()
	case "pace":
		if err := lessons.CheckPace(c.PaceMs); err != nil {
			return err
		}
		if *c.PaceMs < LightPaceMs {
			if err := r.reg.speedUp(r); err != nil {
				return err
			}
		}
		p.SetPace(time.Duration(*c.PaceMs) * time.Millisecond)
	case "fault":
		if err := lessons.CheckInjectable(c.Fault); err != nil {
			return err
		}
		r.Pipeline.Inject(c.Fault)
	case "":
		return &lessons.FieldError{Field: "action", Msg: "action is required: " + actionList}
	default:
		return &lessons.FieldError{Field: "action", Msg: fmt.Sprintf("unknown action %q: use %s", c.Action, actionList)}
	}
	return nil
}

// holds reports whether token is the run's control token.
func (r *Run) holds(token string) bool {
	return subtle.ConstantTimeCompare([]byte(token), []byte(r.token)) == 1
}

// Token is the run's control token: given once, to whoever started it.
func (r *Run) Token() string { return r.token }

// JoinCode is the short code students use to watch a presenter's run, or
// "" for a run not started in presenter mode.
func (r *Run) JoinCode() string { return r.joinCode }

// JoinPath is where students join a presenter run ("/join/CODE"), or "".
func (r *Run) JoinPath() string {
	if r.joinCode == "" {
		return ""
	}
	return "/join/" + r.joinCode
}

// joinAlphabet leaves out letters easily misread on a projector (I, O).
const joinAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ"

func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newJoinCode() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	code := make([]byte, len(b))
	for i, x := range b {
		code[i] = joinAlphabet[int(x)%len(joinAlphabet)]
	}
	return string(code)
}

// Finished reports whether the run has ended (done or failed).
func (r *Run) Finished() bool {
	select {
	case <-r.Done:
		return true
	default:
		return false
	}
}
