package pipeline

// The processor's effect outside Kafka: one notification per credit.

import (
	"sync/atomic"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// notifier is the sink of the processor's notifications, a stand-in for
// the e-mail or push message a bank sends when it credits a deposit. It is
// inside the lab, keyed by deposit id, and part of no transaction: what it
// has acted on stays acted on, whatever Kafka aborts. The processor
// notifies at the moment an application would, after crediting a deposit
// and before committing its offset.
type notifier struct {
	idempotent bool
	// received counts, per deposit (index seq-1), the notifications that
	// reached the sink. Fixed size: 4 bytes per deposit of the run.
	received []atomic.Int32
	acted    atomic.Int64 // notifications acted on (sent to the customer)
	dropped  atomic.Int64 // repeats an idempotent receiver dropped
}

func newNotifier(mode lessons.NotifyID, deposits int) *notifier {
	return &notifier{idempotent: mode == lessons.NotifyIdempotent, received: make([]atomic.Int32, deposits)}
}

// notify delivers instance's notification of deposit seq, and puts it on
// b: a repeat is acted on again by a plain receiver, and dropped by an
// idempotent one, which has the deposit id.
func (n *notifier) notify(seq int, instance string, b *trace.Batch) {
	if seq < 1 || seq > len(n.received) {
		return
	}
	times := n.received[seq-1].Add(1)
	e := trace.Event{Actor: trace.Processor, Kind: trace.Notify, Deposit: seq, Instance: instance, Offset: -1, Attempt: int(times)}
	switch {
	case times > 1 && n.idempotent:
		n.dropped.Add(1)
		e.Kind = trace.NotifyDropped
		e.Detail = "notification repeated: the idempotent receiver already has this deposit id and drops it"
	case times > 1:
		n.acted.Add(1)
		e.Detail = "notification repeated: the customer is told again"
	default:
		n.acted.Add(1)
	}
	b.Add(e)
}

// duplicated counts the deposits the sink acted on more than once.
func (n *notifier) duplicated() int {
	if n.idempotent {
		return 0
	}
	d := 0
	for i := range n.received {
		if n.received[i].Load() > 1 {
			d++
		}
	}
	return d
}

// notify sends the notifications of deposits seqs, which instance has just
// credited, and emits them with what b holds.
func (r *Run) notify(seqs []int, instance string, b *trace.Batch) {
	for _, seq := range seqs {
		r.notifier.notify(seq, instance, b)
	}
	b.Emit()
}
