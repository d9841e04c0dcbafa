// Package trace records what every deposit went through during a run, as
// typed events, in bounded memory whatever the size of the run.
package trace

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons/deposit"
)

// Actor is the part of the pipeline an event comes from: one lane of the
// live trace.
type Actor string

const (
	Producer  Actor = "producer"
	Broker    Actor = "broker"
	Processor Actor = "processor"
	Ledger    Actor = "ledger"
	Auditor   Actor = "auditor"
	Nemesis   Actor = "nemesis" // the fault injector
)

// Kind is what happened.
type Kind string

const (
	Send      Kind = "send"
	Ack       Kind = "ack"
	Retry     Kind = "retry" // the client sent a struck deposit again
	Error     Kind = "error"
	Fetch     Kind = "fetch"
	Credit    Kind = "credit"
	Commit    Kind = "commit"
	TxnBegin  Kind = "txn-begin"
	TxnCommit Kind = "txn-commit"
	TxnAbort  Kind = "txn-abort"
	Crash     Kind = "crash"
	Restart   Kind = "restart"
	// Skip is an idempotent consumer (preset dedup) passing over a
	// delivery of a deposit it has already credited: no credit written.
	Skip Kind = "skip"
	// Notify is the processor repeating notifications, its effect outside
	// Kafka, for credits it made again: one event per batch, Deposit the
	// first and Attempt how many (the first notification of a deposit is
	// not traced).
	Notify Kind = "notify"
	// NotifyDropped is an idempotent receiver dropping a batch's repeated
	// notifications (as Notify): it has their deposit ids already.
	NotifyDropped Kind = "notify-dropped"
	// Fenced is the broker refusing a zombie processor's write or commit:
	// a newer instance took its place (Detail names the broker's error).
	Fenced Kind = "fenced"
	// Stall is a processor freezing mid-batch (processor-stall), and
	// Wake the frozen instance going on, unaware that it was replaced.
	Stall     Kind = "stall"
	Wake      Kind = "wake"
	FaultKind Kind = "fault"
	Audit     Kind = "audit"
	Lifecycle Kind = "run"
	// Record is a record of the ledger as the auditor read it back after
	// the run, in offset order, for runs small enough to be drawn: Aborted
	// marks one written in a transaction the broker aborted, which
	// read_committed readers never see. With actor Broker, it is a deposit
	// record of the input topic such a reader never sees: a transactional
	// producer's aborted batch (Aborted always set).
	Record Kind = "record"
	// Watermarks is the input topic's high watermark (Offset: the offset
	// its next record gets) and last stable offset (LSO: below it no
	// transaction is open; read_committed readers read no further), when
	// either moved, for runs small enough to be drawn.
	Watermarks Kind = "watermarks"
	// Assigned and Revoked are a processor instance gaining and losing
	// a partition of the input topic (Partition), as the lab sees it:
	// kafka-go's Reader tells its application nothing when the group
	// moves a partition, so the lab infers both from which instance
	// fetches from which partition (Run.observe); a processor that
	// commits on revocation reads a Generation's assignments instead.
	Assigned Kind = "assigned"
	Revoked  Kind = "revoked"
	// Replicas is the input partition's replica set as a cluster fault
	// sees it (Event.Replicas): which broker leads, which are in sync,
	// which the lab paused or killed. Emitted at each step of a cluster
	// fault, so the picture can draw the brokers, the death and the
	// election from typed fields instead of reading Detail.
	Replicas Kind = "replicas"
)

// ReplicaSet is a partition's replicas at one moment of a cluster fault.
type ReplicaSet struct {
	// Leader is the broker leading the partition; -1 while there is none
	// (the leader was killed and no follower has taken over yet).
	Leader int32 `json:"leader"`
	// ISR is the in-sync replica set as the cluster's metadata last
	// reported it. While the followers are paused nothing can be asked of
	// them, and the set is the one read before.
	ISR []int32 `json:"isr"`
	// Brokers is every replica with what the lab did to its process.
	Brokers []BrokerState `json:"brokers"`
}

// BrokerState is one replica's process: running, paused (SIGSTOP: alive,
// answering nothing) or killed (SIGKILL, not restarted yet).
type BrokerState struct {
	ID    int32  `json:"id"`
	State string `json:"state"`
}

// Anomalous reports whether events of kind k are always kept: they are what
// a learner needs to see to understand a run's outcome.
func (k Kind) Anomalous() bool {
	switch k {
	case Retry, Error, TxnAbort, Crash, Restart, Fenced, Stall, Wake, FaultKind, Audit, Lifecycle, Replicas:
		return true
	}
	return false
}

// Event is one step of one deposit (or of the pipeline, when ID is empty).
type Event struct {
	Seq   int64  `json:"seq"`
	TUs   int64  `json:"t_us"` // microseconds since the run started, monotonic
	Actor Actor  `json:"actor"`
	Kind  Kind   `json:"kind"`
	ID    string `json:"id,omitempty"` // deposit id
	// Deposit, when ID is empty, is the deposit's number, and readers of
	// the log get its ID filled in: most events of a large run are never
	// read, so the stages do not make 300,000 id strings per 100,000
	// deposits for them.
	Deposit   int    `json:"-"`
	Attempt   int    `json:"attempt,omitempty"`
	Instance  string `json:"instance,omitempty"` // processor instance: p-1, p-2…
	Topic     string `json:"topic,omitempty"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"` // -1 when not known
	// Fault and Phase type a fault's events (kinds fault and crash), so a
	// page never reads them out of Detail: which fault, and what it did.
	Fault string `json:"fault,omitempty"`
	Phase Phase  `json:"phase,omitempty"`
	// Generation is the consumer group generation the processor instance
	// belongs to, and Epoch its transactional producer's epoch, on the
	// transaction events of the exactly-once processor: a new instance
	// shows a newer generation and, having fenced the old one, a newer
	// epoch.
	Generation int32 `json:"generation,omitempty"`
	Epoch      int16 `json:"epoch,omitempty"`
	// BrokerError is the name of the error a Fenced event's broker
	// answered, as the protocol spells it (INVALID_PRODUCER_EPOCH, …).
	BrokerError string `json:"broker_error,omitempty"`
	// LSO is a Watermarks event's last stable offset.
	LSO *int64 `json:"lso,omitempty"`
	// Aborted marks a Record of an aborted transaction.
	Aborted bool `json:"aborted,omitempty"`
	// OnRevoke marks a Commit sent as the instance's generation ended,
	// before the group moved its partitions: the revocation commit.
	OnRevoke bool `json:"on_revoke,omitempty"`
	// Replicas is a Replicas event's replica set.
	Replicas *ReplicaSet `json:"replicas,omitempty"`
	Detail   string      `json:"detail,omitempty"`
}

// Phase is what a fault event reports.
type Phase string

const (
	// Armed: injected into a running run; it strikes at its next chance.
	Armed Phase = "armed"
	// Scheduled: planned for a deposit; it strikes once that is reached.
	Scheduled Phase = "scheduled"
	// Struck: it hit the deposit the event names (or, with no deposit,
	// the request or batch its Detail describes).
	Struck Phase = "struck"
)

// resolved is e as readers see it: with its deposit's ID.
func (e Event) resolved() Event {
	if e.ID == "" && e.Deposit > 0 {
		e.ID = deposit.ID(e.Deposit)
	}
	return e
}

// Bounds of a Log. A snapshot holds at most Head+Recent+Anomalies events.
const (
	// Head keeps a run's first events: for a small run, all of them.
	Head = 2000
	// Recent is the window live viewers read from; a viewer further behind
	// than this gets a snapshot instead.
	Recent = 4096
	// Anomalies bounds the always-kept events; past it they are counted.
	Anomalies = 4096
)

// Log is one run's bounded event log. Emit never blocks on readers: viewers
// poll it with Since on their own clock, so a stalled browser cannot slow a run.
type Log struct {
	start time.Time

	sampled  bool        // see Sample
	pastHead atomic.Bool // sampled and the head is full: batches keep a sample

	mu        sync.Mutex
	seq       int64
	head      []Event
	anomalies []Event
	dropped   int64   // anomalies past the bound
	recent    []Event // ring, recent[(seq-1) % Recent], grown up to Recent
}

// New returns an empty log whose clock starts now.
func New() *Log {
	return &Log{
		start: time.Now(),
	}
}

// StartClock restarts the log's clock: a run that waited in a queue counts
// its events' time from when it started, not from when it was asked for.
// It must be called before the run emits anything or starts its goroutines.
func (l *Log) StartClock() { l.start = time.Now() }

// Emit stamps e with the next sequence number and the run's clock and keeps
// it within the log's bounds.
func (l *Log) Emit(e Event) {
	t := time.Since(l.start).Microseconds()
	l.mu.Lock()
	l.add(e, t)
	l.mu.Unlock()
}

func (l *Log) add(e Event, t int64) {
	l.seq++
	e.Seq, e.TUs = l.seq, t
	if len(l.head) < Head {
		l.head = append(l.head, e)
		l.pastHead.Store(l.sampled && len(l.head) == Head)
	} else if e.Kind.Anomalous() {
		if len(l.anomalies) < Anomalies {
			l.anomalies = append(l.anomalies, e)
		} else {
			l.dropped++
		}
	}
	// Grown as events come, so a kept small run holds only its own.
	if len(l.recent) < Recent {
		l.recent = append(l.recent, e)
	} else {
		l.recent[(e.Seq-1)%Recent] = e
	}
}

// Batch collects events that happen together, such as one per deposit of
// a batch handed to Kafka, and emits them in order under one clock reading
// and one lock. A Batch belongs to one goroutine.
//
// In a sampled log (Sample), once it holds Head events, a batch keeps only
// its first PerBatch routine events (anomalies always): a 100,000-deposit
// run makes some 400,000 events, a viewer is shown at most a few hundred
// per frame, and a run that large is drawn as counts, not one cell per
// deposit. Keeping them all cost the run 5% of its throughput.
type Batch struct {
	log    *Log
	events []Event
	kept   int // routine events of this batch kept past the head
}

// PerBatch is how many routine events of one batch are kept past the head.
const PerBatch = 16

// Batch returns an empty batch for l.
func (l *Log) Batch() *Batch { return &Batch{log: l} }

// Add appends e to the batch, unless it is a routine event past the
// batch's share.
func (b *Batch) Add(e Event) {
	if !e.Kind.Anomalous() && b.log.pastHead.Load() {
		if b.kept >= PerBatch {
			return
		}
		b.kept++
	}
	b.events = append(b.events, e)
}

// Emit emits the batch's events and empties it.
func (b *Batch) Emit() {
	if len(b.events) == 0 {
		return
	}
	l := b.log
	t := time.Since(l.start).Microseconds()
	l.mu.Lock()
	for i := range b.events {
		l.add(b.events[i], t)
	}
	l.mu.Unlock()
	clear(b.events) // drop the strings it holds
	b.events, b.kept = b.events[:0], 0
}

// Sample makes batches past the head keep a sample of their routine
// events (see Batch): for runs drawn as counts. Call it before any event.
func (l *Log) Sample() *Log {
	l.sampled = true
	return l
}

// Last is the sequence number of the latest event.
func (l *Log) Last() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seq
}

// Since returns up to max events after seq, in order. behind is true when
// events after seq have already left the recent window: the caller should
// take a Snapshot instead.
func (l *Log) Since(seq int64, max int) (events []Event, behind bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	oldest := l.seq - Recent + 1
	if seq+1 < oldest {
		return nil, true
	}
	for s := seq + 1; s <= l.seq && len(events) < max; s++ {
		events = append(events, l.recent[(s-1)%Recent].resolved())
	}
	return events, false
}

// Snapshot returns what the log holds, in order, and the sequence number it
// is complete up to: the first events, every kept anomaly, and the recent
// window.
func (l *Log) Snapshot() (events []Event, last int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := make(map[int64]bool, len(l.head)+len(l.anomalies)+Recent)
	add := func(e Event) {
		if e.Seq > 0 && !seen[e.Seq] {
			seen[e.Seq] = true
			events = append(events, e.resolved())
		}
	}
	for _, e := range l.head {
		add(e)
	}
	for _, e := range l.anomalies {
		add(e)
	}
	for s := max(1, l.seq-Recent+1); s <= l.seq; s++ {
		add(l.recent[(s-1)%Recent])
	}
	sort.Slice(events, func(i, j int) bool { return events[i].Seq < events[j].Seq })
	return events, l.seq
}
