package pipeline

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/deposit"
	"github.com/kafka-delivery-lab/lab/lessons/faultconn"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// nemesis injects a run's faults where they happen in production: on the
// producer's connections (network) and in the processor (process). A fault
// is armed first and strikes at the next opportunity, so the same mechanism
// serves a planned fault, one a presenter injects live, and a schedule of
// several (Spec.Schedule).
type nemesis struct {
	log   *trace.Log
	input string

	network atomic.Int32 // faultconn.Action armed for the next Produce to the input topic
	// crashAfter, when > 0, makes the processor crash right after crediting
	// a deposit whose number is at least crashAfter, before its next commit.
	// It is the lowest of the pending crash points.
	crashAfter atomic.Int64
	// joinAfter, when > 0, adds a processor instance to the group once a
	// deposit whose number is at least joinAfter is credited (rebalance):
	// the lowest of the pending join points, joins.
	joinAfter atomic.Int64

	// stallAfter is crashAfter for processor-stall: the processor freezes
	// instead of dying.
	stallAfter atomic.Int64

	mu      sync.Mutex
	crashes []int64  // pending crash points, ascending; crashes[0] == crashAfter
	stalls  []int64  // pending stall points, ascending; stalls[0] == stallAfter
	joins   []int64  // pending rebalance points, ascending; joins[0] == joinAfter
	planned []Strike // pending scheduled network strikes, by Seq
	struck  []Struck // what struck, by fault, in the order each first struck
	// resent are the deposits a network fault struck, by key, and the
	// attempt their next sending will be: the client's own retry shows
	// only as the same deposits in a later Produce request. It is watched
	// for until resentUntil: a producer that does not retry (acks=1,
	// one attempt) never sends them again.
	resent      map[string]int
	resentUntil time.Time
	timesStruck map[string]int // how often each struck deposit was struck
}

// retryWatch is how long after a network strike its deposits are watched
// for the client's retry: well past franz-go's and kafka-go's backoffs.
const retryWatch = 15 * time.Second

// Struck counts what one fault did in a run: how often it struck, and how
// many deposits the requests it struck carried (network faults).
type Struck struct {
	Fault    lessons.FaultID `json:"fault"`
	Strikes  int             `json:"strikes"`
	Deposits int             `json:"deposits,omitempty"`
}

// strike counts one strike of f on deposits deposits.
func (n *nemesis) strike(f lessons.FaultID, deposits int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := range n.struck {
		if n.struck[i].Fault == f {
			n.struck[i].Strikes++
			n.struck[i].Deposits += deposits
			return
		}
	}
	n.struck = append(n.struck, Struck{Fault: f, Strikes: 1, Deposits: deposits})
}

// strikes is what struck during the run.
func (n *nemesis) strikes() []Struck {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Struck{}, n.struck...)
}

func newNemesis(log *trace.Log, input string) *nemesis {
	return &nemesis{log: log, input: input}
}

// Strike is one planned fault of a schedule: Fault strikes at its first
// chance once deposit Seq is reached. A network fault strikes the first
// Produce request that carries deposit Seq or a later one; a processor crash
// strikes right after the processor credits deposit Seq or a later one.
type Strike struct {
	Seq   int             `json:"seq"`
	Fault lessons.FaultID `json:"fault"`
}

func (s Strike) String() string { return string(s.Fault) + "@" + deposit.ID(max(s.Seq, 1)) }

// FormatSchedule lists a schedule for traces and test failures.
func FormatSchedule(s []Strike) string {
	if len(s) == 0 {
		return "(empty)"
	}
	parts := make([]string, len(s))
	for i, st := range s {
		parts[i] = st.String()
	}
	return strings.Join(parts, ", ")
}

// plan arms every strike of a schedule. Strikes of faults the nemesis does
// not schedule (none) are ignored.
func (n *nemesis) plan(schedule []Strike) {
	if len(schedule) == 0 {
		return
	}
	n.log.Emit(trace.Event{Actor: trace.Nemesis, Kind: trace.FaultKind, Offset: -1, Phase: trace.Scheduled,
		Detail: "schedule: " + FormatSchedule(schedule) + "; each strikes at its first chance once its deposit is reached"})
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, s := range schedule {
		switch s.Fault {
		case lessons.ProduceRequestLost, lessons.ProduceAckLost:
			n.planned = append(n.planned, Strike{Seq: max(s.Seq, 1), Fault: s.Fault})
		case lessons.ProcessorCrash:
			n.armCrashLocked(s.Seq)
		case lessons.ProcessorStall:
			n.armStallLocked(s.Seq)
		case lessons.Rebalance:
			n.armJoinLocked(s.Seq)
		}
	}
	slices.SortStableFunc(n.planned, func(a, b Strike) int { return cmp.Compare(a.Seq, b.Seq) })
}

// arm sets up fault f to strike at the next chance after deposit seq.
func (n *nemesis) arm(f lessons.FaultID, seq int) {
	switch f {
	case lessons.ProduceRequestLost:
		n.network.Store(int32(faultconn.DropRequest))
	case lessons.ProduceAckLost:
		n.network.Store(int32(faultconn.DropResponse))
	case lessons.ProcessorCrash:
		n.mu.Lock()
		n.armCrashLocked(seq)
		n.mu.Unlock()
	case lessons.ProcessorStall:
		n.mu.Lock()
		n.armStallLocked(seq)
		n.mu.Unlock()
	case lessons.Rebalance:
		n.mu.Lock()
		n.armJoinLocked(seq)
		n.mu.Unlock()
	}
}

// armStallLocked adds a stall point; the processor checks the lowest.
func (n *nemesis) armStallLocked(seq int) {
	at := int64(max(seq, 1))
	i, _ := slices.BinarySearch(n.stalls, at)
	n.stalls = slices.Insert(n.stalls, i, at)
	n.stallAfter.Store(n.stalls[0])
}

// processArmed reports whether a crash or a stall is pending.
func (n *nemesis) processArmed() bool { return n.crashAfter.Load() > 0 || n.stallAfter.Load() > 0 }

// stallDue reports whether the processor must freeze after crediting seq.
func (n *nemesis) stallDue(seq int) bool {
	at := n.stallAfter.Load()
	return at > 0 && int64(seq) >= at
}

// stalled consumes the stall point that struck: one instance freezes per
// arming; the next pending point is armed for the instances after it.
func (n *nemesis) stalled() {
	n.strike(lessons.ProcessorStall, 0)
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.stalls) > 0 {
		n.stalls = n.stalls[1:]
	}
	if len(n.stalls) > 0 {
		n.stallAfter.Store(n.stalls[0])
	} else {
		n.stallAfter.Store(0)
	}
}

// armCrashLocked adds a crash point; the processor checks the lowest.
func (n *nemesis) armCrashLocked(seq int) {
	at := int64(max(seq, 1))
	i, _ := slices.BinarySearch(n.crashes, at)
	n.crashes = slices.Insert(n.crashes, i, at)
	n.crashAfter.Store(n.crashes[0])
}

// rule is the producer connections' faultconn.Rule: it fires an armed
// network fault once, on the next Produce that carries deposits, or else
// the next scheduled one whose deposit the Produce has reached.
// armed reports whether a network fault may strike now; when not, the
// producer's connections skip reading record keys.
func (n *nemesis) armed() bool {
	if faultconn.Action(n.network.Load()) != faultconn.Pass {
		return true
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.resent) > 0 && time.Now().After(n.resentUntil) {
		clear(n.resent) // no retry came: the producer gave them up
	}
	return len(n.planned) > 0 || len(n.resent) > 0
}

// retried puts a retry event on the trace for each struck deposit this
// Produce request carries again, and stops watching for it.
func (n *nemesis) retried(p *faultconn.Produce) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.resent) == 0 {
		return
	}
	b := n.log.Batch()
	for _, k := range p.Keys {
		if attempt, ok := n.resent[k]; ok {
			delete(n.resent, k)
			b.Add(trace.Event{Actor: trace.Producer, Kind: trace.Retry, ID: k, Attempt: attempt, Topic: n.input, Offset: -1,
				Detail: "the client sent it again"})
		}
	}
	b.Emit()
}

func (n *nemesis) rule(p *faultconn.Produce) faultconn.Action {
	if len(p.Keys) == 0 {
		return faultconn.Pass
	}
	n.retried(p)
	if faultconn.Action(n.network.Load()) != faultconn.Pass {
		if a := faultconn.Action(n.network.Swap(int32(faultconn.Pass))); a != faultconn.Pass {
			return a
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.planned) == 0 {
		return faultconn.Pass
	}
	last := 0
	for _, k := range p.Keys {
		if seq, ok := deposit.ParseID(k); ok {
			last = max(last, seq)
		}
	}
	if last < n.planned[0].Seq {
		return faultconn.Pass
	}
	s := n.planned[0]
	n.planned = n.planned[1:]
	if s.Fault == lessons.ProduceAckLost {
		return faultconn.DropResponse
	}
	return faultconn.DropRequest
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
	n.strike(f, len(p.Keys))
	n.mu.Lock()
	if n.resent == nil {
		n.resent, n.timesStruck = map[string]int{}, map[string]int{}
	}
	for _, k := range p.Keys {
		n.timesStruck[k]++
		n.resent[k] = n.timesStruck[k] + 1
	}
	n.resentUntil = time.Now().Add(retryWatch)
	n.mu.Unlock()
	detail := fmt.Sprintf("%s: %s (%d deposits: %s); the connection was reset", f, what, len(p.Keys), keyRange(p.Keys))
	n.log.Emit(trace.Event{Actor: trace.Nemesis, Kind: trace.FaultKind, Topic: n.input, Offset: -1, Fault: string(f), Phase: trace.Struck, Detail: detail})
	for _, k := range p.Keys {
		n.log.Emit(trace.Event{Actor: trace.Nemesis, Kind: trace.FaultKind, ID: k, Topic: n.input, Offset: -1, Fault: string(f), Phase: trace.Struck, Detail: string(f)})
	}
}

// crashDue reports whether the processor must crash after crediting seq.
func (n *nemesis) crashDue(seq int) bool {
	at := n.crashAfter.Load()
	return at > 0 && int64(seq) >= at
}

// crashed consumes the crash point that struck: only one instance dies per
// arming. The next pending point, if any, is armed for the instance that
// takes over.
func (n *nemesis) crashed() {
	n.strike(lessons.ProcessorCrash, 0)
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.crashes) > 0 {
		n.crashes = n.crashes[1:]
	}
	if len(n.crashes) > 0 {
		n.crashAfter.Store(n.crashes[0])
	} else {
		n.crashAfter.Store(0)
	}
}

func keyRange(keys []string) string {
	if len(keys) <= 3 {
		return strings.Join(keys, ", ")
	}
	return keys[0] + " … " + keys[len(keys)-1]
}
