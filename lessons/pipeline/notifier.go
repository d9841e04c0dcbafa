package pipeline

// The processor's effect outside Kafka: one notification per credit.

import (
	"fmt"
	"sync/atomic"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/deposit"
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

// notify delivers instance's notification of deposit seq and reports
// whether it was a repeat: a plain receiver acts on a repeat again, an
// idempotent one, which has the deposit id, drops it.
func (n *notifier) notify(seq int) (repeat bool) {
	if seq < 1 || seq > len(n.received) {
		return false
	}
	if n.received[seq-1].Add(1) == 1 {
		n.acted.Add(1)
		return false
	}
	if n.idempotent {
		n.dropped.Add(1)
	} else {
		n.acted.Add(1)
	}
	return true
}

// repeated puts on b one event for the repeats of a batch, whose first is
// deposit first: an event per notification would double a drawn run's
// trace, and the first notification of a deposit is routine.
func (n *notifier) repeated(first, count int, instance string, b *trace.Batch) {
	if count == 0 {
		return
	}
	e := trace.Event{Actor: trace.Processor, Kind: trace.Notify, Deposit: first, Instance: instance, Offset: -1, Attempt: count,
		Detail: fmt.Sprintf("%d notifications repeated, from %s: the customers are told again", count, deposit.ID(first))}
	if n.idempotent {
		e.Kind = trace.NotifyDropped
		e.Detail = fmt.Sprintf("%d notifications repeated, from %s: the idempotent receiver has their deposit ids and drops them", count, deposit.ID(first))
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
// credited, and emits the repeats with what b holds.
func (r *Run) notify(seqs []int, instance string, b *trace.Batch) {
	first, count := 0, 0
	for _, seq := range seqs {
		if r.notifier.notify(seq) {
			if count == 0 {
				first = seq
			}
			count++
		}
	}
	r.notifier.repeated(first, count, instance, b)
	b.Emit()
}
