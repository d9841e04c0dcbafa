// Package pipeline runs the bank-deposit pipeline of one run against a real
// Kafka-protocol broker, with real clients and real faults:
//
//	producer --deposits--> [input topic] --> processor (consumer group) --credits--> [ledger topic] --> auditor
//
// kafka-go runs at-most-once and at-least-once; franz-go runs exactly-once.
// The auditor reads the topics back and hands them to the checker, which
// never trusts the pipeline's own counters.
package pipeline

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons"
)

// Spec is what one run does.
type Spec struct {
	RunID     string
	Guarantee lessons.GuaranteeID
	Preset    lessons.PresetID
	Fault     lessons.FaultID
	Messages  int
	// Notify is the sink of the processor's notifications; "" is plain.
	Notify lessons.NotifyID
	// Partitions of the input and ledger topics, and Processors, the
	// instances the processor group starts with; 0 means 1.
	Partitions int
	Processors int
	// Settings are a custom run's knobs (Preset lessons.Custom), whose
	// claim is Guarantee.
	Settings *lessons.Settings
	// Schedule, optional, adds planned faults to Fault: several of them at
	// the deposits it names (TestRandomFaults draws them from a seed).
	Schedule []Strike
}

// Names are a run's topics, group and transactional ids: unique per run so
// concurrent runs never see each other's deposits.
type Names struct {
	Input          string `json:"input"`
	Ledger         string `json:"ledger"`
	Group          string `json:"-"`
	ProducerTxnID  string `json:"-"`
	ProcessorTxnID string `json:"-"`
}

// ProcessorTxnIDFor is the transactional id of the exactly-once
// processor instances in slot: stable for one slot across restarts, so a
// replacement's InitProducerID fences the instance it replaces and aborts
// its open transaction, and different for instances running at the same
// time: of two live producers sharing an id, the one that called
// InitProducerID last fences the other, whose transaction is aborted and
// whose next transactional request fails. (When all of a group's
// instances shared one id, three instances on three partitions took
// turns fencing each other instead of sharing the work.) The offsets in
// each transaction carry the member's generation (KIP-447): that, not the
// transactional id, is what fences a member the group has replaced.
// Slot 1 keeps the run's one processor id.
func (n Names) ProcessorTxnIDFor(slot int) string {
	if slot <= 1 {
		return n.ProcessorTxnID
	}
	return n.ProcessorTxnID + "-" + strconv.Itoa(slot)
}

// NamesFor derives a run's names from its id, under the prefix "lab.".
func NamesFor(runID string) Names { return NamesUnder("lab.", runID) }

// NamesUnder derives a run's names from its id under prefix: on a shared
// cluster, one prefix the lab is granted for topics, groups and
// transactional ids alike.
func NamesUnder(prefix, runID string) Names {
	p := prefix + runID
	return Names{
		Input:          p + ".deposits",
		Ledger:         p + ".ledger",
		Group:          p + ".processor",
		ProducerTxnID:  p + ".producer",
		ProcessorTxnID: p + ".processor",
	}
}

// Tuning holds the timeouts that decide how fast a run recovers from a
// fault. The defaults suit a broker on loopback.
type Tuning struct {
	// SessionTimeout is how long the group waits for a crashed processor
	// before giving its partition to the new instance. Kafka's default
	// minimum is 6 s (group.min.session.timeout.ms); the embedded broker
	// and the CI broker allow 500 ms. It is the session of runs whose
	// faults change the group's members (Run.sessionTimeout).
	SessionTimeout time.Duration
	// QuietSessionTimeout, when longer, is the session of the other runs:
	// there nothing waits for the group to notice a member gone, and a
	// short session only risks a live member's expiring when its
	// heartbeats starve on a busy machine (a class of 300 on two cores):
	// the group then rebalances, an open transaction aborts and its
	// batch is credited and notified again, which a run without a group
	// fault does not claim. Heartbeats keep SessionTimeout's pace.
	QuietSessionTimeout time.Duration
	// Batch is how many deposits the processor takes per poll, and so per
	// commit or transaction.
	Batch int
	// TxnSize is how many deposits the exactly-once producer sends per
	// transaction when the run is not paced.
	TxnSize int
	// ProducerBackoff, when set, is the kafka-go writers' longest wait
	// between attempts (else 200 ms), the producer's and the processor's. A replicated cluster elects a new
	// leader 3-5 s after one dies, and kafka-go learns of it when its
	// metadata expires (6 s): with 2 s, at-least-once's 10 attempts span
	// about 11 s, as a Java producer's retries span its
	// delivery.timeout.ms.
	ProducerBackoff time.Duration
	// RequestTimeout, when set, bounds each of a kafka-go writer's
	// attempts and its metadata lookups (else kafka-go's 10 s each), the
	// producer's and the processor's.
	RequestTimeout time.Duration
}

// ClusterTuning suits the cluster the lab owns (-cluster). leader-crash
// pauses the group coordinator's broker for up to 2.6 s (it is a follower
// of the input): a session shorter than that expires as it resumes, and
// the group rebalances mid-run.
func ClusterTuning() Tuning {
	t := DefaultTuning()
	t.SessionTimeout = 6 * time.Second
	t.ProducerBackoff = 2 * time.Second
	// follower-down keeps a follower paused (SIGSTOP) for 10-15 s, and
	// kafka-go sends its metadata requests to any bootstrap broker: one
	// sent to the paused follower waits until it resumes, where kafka-go's
	// 10 s would fail the write (a timeout is not an error it retries; the
	// lookup of the topic's partitions is not retried at all).
	t.RequestTimeout = 30 * time.Second
	return t
}

// DefaultTuning suits the embedded broker.
func DefaultTuning() Tuning {
	return Tuning{SessionTimeout: time.Second, QuietSessionTimeout: 6 * time.Second, Batch: 500, TxnSize: 500}
}

// Progress counts what a run has done so far, for live display. The
// checker does not use it.
type Progress struct {
	Sent      atomic.Int64 `json:"-"`
	Acked     atomic.Int64 `json:"-"`
	Credited  atomic.Int64 `json:"-"`
	Committed atomic.Int64 `json:"-"` // the processor group's committed offset
}

// ProgressView is a copy of Progress for JSON.
type ProgressView struct {
	Sent      int64 `json:"sent"`
	Acked     int64 `json:"acked"`
	Credited  int64 `json:"credited"`
	Committed int64 `json:"committed"`
}

// View copies the counters.
func (p *Progress) View() ProgressView {
	return ProgressView{p.Sent.Load(), p.Acked.Load(), p.Credited.Load(), p.Committed.Load()}
}
