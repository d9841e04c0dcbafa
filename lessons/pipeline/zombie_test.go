package pipeline

import (
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// TestZombieIsFencedByTheBroker: under exactly-once, a processor that
// froze past its session timeout and woke is refused by the broker, with
// an error of the Kafka protocol that says a newer producer or member took
// its place, and the trace shows that error by name. The lab never decides
// to stop a zombie: if the broker let it commit, the ledger would hold the
// zombie's credits twice and this test would fail.
func TestZombieIsFencedByTheBroker(t *testing.T) {
	res, r := runTraced(t, lessons.ExactlyOnce, lessons.Strict, lessons.ProcessorStall, 200)
	r.zombies.mu.Lock()
	refusals := append([]*kerr.Error{}, r.zombies.refusals...)
	r.zombies.mu.Unlock()
	if len(refusals) == 0 {
		t.Fatal("the broker refused nothing the zombie did")
	}
	for _, ke := range refusals {
		// A code of the protocol, as the broker sent it: kerr maps every
		// code to one value.
		if kerr.ErrorForCode(ke.Code) != ke {
			t.Errorf("%v is no error code of the Kafka protocol", ke)
		}
		if !errors.Is(ke, kerr.InvalidProducerEpoch) && !errors.Is(ke, kerr.ProducerFenced) && !errors.Is(ke, kerr.InvalidProducerIDMapping) &&
			!errors.Is(ke, kerr.IllegalGeneration) && !errors.Is(ke, kerr.UnknownMemberID) {
			t.Errorf("%v says nothing about a newer instance", ke)
		}
	}
	events, _ := r.Log.Snapshot()
	var names []string
	for _, e := range events {
		if e.Kind == trace.Fenced {
			names = append(names, e.BrokerError)
		}
	}
	if len(names) == 0 || names[0] != refusals[0].Message {
		t.Errorf("fenced events name %v; the broker answered %v", names, refusals)
	}
	if res.Duplicated != 0 || res.Lost != 0 || res.AbortedCredits == 0 {
		t.Errorf("lost %d, duplicated %d, aborted credits %d: want the zombie's credits aborted and none counted", res.Lost, res.Duplicated, res.AbortedCredits)
	}
	t.Logf("refused with %v; takeover %.0f ms", names, res.TakeoverMs)
}

// TestStallStopsHeartbeats: the frozen instance really goes silent. The
// group hands its partition to the next instance only once the session
// timeout has passed since the frozen member's last heartbeat, which may
// have come up to a heartbeat interval (a quarter of it) before the
// freeze. With the freeze left out the takeover came after 303 ms on the
// embedded broker, and the exactly-once run never finished.
func TestStallStopsHeartbeats(t *testing.T) {
	for _, g := range []lessons.GuaranteeID{lessons.AtLeastOnce, lessons.ExactlyOnce} {
		t.Run(string(g), func(t *testing.T) {
			res, _ := runTraced(t, g, lessons.Strict, lessons.ProcessorStall, 200)
			st := float64(testEnv.Tuning.SessionTimeout.Milliseconds())
			if res.TakeoverMs < 0.7*st {
				t.Errorf("the next instance credited %.0f ms after the stall, before the session timeout of %.0f ms", res.TakeoverMs, st)
			}
			t.Logf("takeover %.0f ms (session timeout %.0f ms)", res.TakeoverMs, st)
		})
	}
}

// TestSideEffectsOutsideTheTransaction: exactly-once keeps the ledger
// exact through a crash, and the notifications, outside Kafka, go out
// twice; an idempotent receiver keyed by deposit id drops the repeats.
func TestSideEffectsOutsideTheTransaction(t *testing.T) {
	const n = 200
	for _, notify := range lessons.NotifyModes() {
		t.Run(string(notify), func(t *testing.T) {
			res, _ := runSpec(t, Spec{Guarantee: lessons.ExactlyOnce, Preset: lessons.Strict, Fault: lessons.ProcessorCrash, Messages: n, Notify: notify})
			if res.Lost != 0 || res.Duplicated != 0 || res.Balance != n {
				t.Fatalf("ledger: lost %d duplicated %d balance %d", res.Lost, res.Duplicated, res.Balance)
			}
			if res.Mismatch != "" {
				t.Errorf("the claim %+v: %s", res.Expected, res.Mismatch)
			}
			switch notify {
			case lessons.NotifyPlain:
				if res.SideEffectsDuplicated == 0 || res.SideEffects <= n {
					t.Errorf("side effects %d, duplicated %d: want repeats", res.SideEffects, res.SideEffectsDuplicated)
				}
			case lessons.NotifyIdempotent:
				if res.SideEffectsDuplicated != 0 || res.SideEffects != n || res.SideEffectsDropped == 0 {
					t.Errorf("side effects %d, duplicated %d, dropped %d: want %d, 0 and the repeats dropped", res.SideEffects, res.SideEffectsDuplicated, res.SideEffectsDropped, n)
				}
			}
			t.Logf("side effects %d, duplicated %d, dropped %d", res.SideEffects, res.SideEffectsDuplicated, res.SideEffectsDropped)
		})
	}
}
