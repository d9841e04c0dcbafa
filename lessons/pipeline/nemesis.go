package pipeline

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/faultconn"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// nemesis injects a run's faults where they happen in production: on the
// producer's connections (network) and in the processor (process). A fault
// is armed first and strikes at the next opportunity, so the same mechanism
// serves a planned fault and one a presenter injects live.
type nemesis struct {
	log   *trace.Log
	input string

	network atomic.Int32 // faultconn.Action armed for the next Produce to the input topic
	// crashAfter, when > 0, makes the processor crash right after crediting
	// a deposit whose number is at least crashAfter, before its next commit.
	crashAfter atomic.Int64
}

func newNemesis(log *trace.Log, input string) *nemesis {
	return &nemesis{log: log, input: input}
}

// arm sets up fault f to strike at the next chance after deposit seq.
func (n *nemesis) arm(f lessons.FaultID, seq int) {
	switch f {
	case lessons.ProduceRequestLost:
		n.network.Store(int32(faultconn.DropRequest))
	case lessons.ProduceAckLost:
		n.network.Store(int32(faultconn.DropResponse))
	case lessons.ProcessorCrash:
		n.crashAfter.Store(int64(max(seq, 1)))
	}
}

// rule is the producer connections' faultconn.Rule: it fires an armed
// network fault once, on the next Produce that carries deposits.
func (n *nemesis) rule(p *faultconn.Produce) faultconn.Action {
	if len(p.Keys) == 0 || faultconn.Action(n.network.Load()) == faultconn.Pass {
		return faultconn.Pass
	}
	a := faultconn.Action(n.network.Swap(int32(faultconn.Pass)))
	return a
}

// onFault records what the wire did, per deposit, so the trace can say
// which deposits were hit.
func (n *nemesis) onFault(a faultconn.Action, p *faultconn.Produce) {
	what := "request lost before the broker saw it"
	f := lessons.ProduceRequestLost
	if a == faultconn.DropResponse {
		what = "broker appended, then the response was lost"
		f = lessons.ProduceAckLost
	}
	detail := fmt.Sprintf("%s: %s (%d deposits: %s); the connection was reset", f, what, len(p.Keys), keyRange(p.Keys))
	n.log.Emit(trace.Event{Actor: trace.Nemesis, Kind: trace.FaultKind, Topic: n.input, Offset: -1, Detail: detail})
	for _, k := range p.Keys {
		n.log.Emit(trace.Event{Actor: trace.Nemesis, Kind: trace.FaultKind, ID: k, Topic: n.input, Offset: -1, Detail: string(f)})
	}
}

// crashDue reports whether the processor must crash after crediting seq.
func (n *nemesis) crashDue(seq int) bool {
	at := n.crashAfter.Load()
	return at > 0 && int64(seq) >= at
}

// crashed disarms the crash: only one instance dies per arming.
func (n *nemesis) crashed() { n.crashAfter.Store(0) }

func keyRange(keys []string) string {
	if len(keys) <= 3 {
		return strings.Join(keys, ", ")
	}
	return keys[0] + " … " + keys[len(keys)-1]
}
