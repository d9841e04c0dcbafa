package pipeline

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons/checker"
	"github.com/kafka-delivery-lab/lab/lessons/deposit"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// audit reads the input topic and the whole ledger back from the broker,
// read_committed and to their end offsets, and lets the checker judge. It
// shares nothing with the pipeline but the topic names and the producer's
// record of what it believed about each send.
func (r *Run) audit(ctx context.Context) (Result, error) {
	c := checker.New(r.Spec.Messages)
	for i, o := range r.outcomes {
		c.Sent(i+1, o)
	}
	var res Result
	err := readAll(ctx, r.env.Brokers, r.Names.Input, r.endOffset.Load(), func(rec *kgo.Record) {
		if _, ok := deposit.ParseID(string(rec.Key)); ok {
			res.InLog++
		}
	})
	if err != nil {
		return res, fmt.Errorf("reading %s: %w", r.Names.Input, err)
	}
	ledgerEnd, err := r.writeEnd(ctx, r.Names.Ledger)
	if err != nil {
		return res, fmt.Errorf("closing %s: %w", r.Names.Ledger, err)
	}
	err = readAll(ctx, r.env.Brokers, r.Names.Ledger, ledgerEnd, func(rec *kgo.Record) {
		amount := int64(0)
		if cr, err := deposit.DecodeCredit(rec.Value); err == nil {
			amount = cr.Amount
		}
		c.Credit(string(rec.Key), amount)
	})
	if err != nil {
		return res, fmt.Errorf("reading %s: %w", r.Names.Ledger, err)
	}
	res.Result = c.Result(r.claim)
	r.explain(res.Result)
	return res, nil
}

// explain puts one audit event per anomalous deposit on the trace (capped
// like the id lists), saying what happened to it.
func (r *Run) explain(res checker.Result) {
	say := func(ids []string, what string) {
		for _, id := range ids {
			r.emit(trace.Event{Actor: trace.Auditor, Kind: trace.Audit, ID: id, Offset: -1, Detail: what})
		}
	}
	say(res.LostIDs, "lost")
	say(res.DuplicatedIDs, "duplicated")
	say(res.RecoveredIDs, "recovered")
	say(res.UnexpectedIDs, "unexpected")
}

// readAll consumes topic (partition 0) from its start as a read_committed
// reader sees it, calling fn for every record before the end marker at
// offset end. Stopping at a record the lab wrote last, rather than at an end
// offset, is what makes the read finish: a read_committed reader never
// returns the control records or aborted data that may end a log.
func readAll(ctx context.Context, brokers []string, topic string, end int64, fn func(*kgo.Record)) error {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
	)
	if err != nil {
		return err
	}
	defer cl.Close()
	for {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fs.Err0(); err != nil {
			return err
		}
		done := false
		fs.EachRecord(func(rec *kgo.Record) {
			if rec.Offset >= end {
				done = true
				return
			}
			fn(rec)
		})
		if done {
			return nil
		}
	}
}
