package pipeline

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/checker"
	"github.com/kafka-delivery-lab/lab/lessons/deposit"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// audit reads the input topic and the whole ledger back from the broker,
// read_committed and to their end offsets, and lets the checker judge. It
// shares nothing with the pipeline but the topic names and the producer's
// record of what it believed about each send. A ledger written in
// transactions is read read_uncommitted too, to count the credits of
// aborted transactions: there, but never seen by the checker.
func (r *Run) audit(ctx context.Context) (Result, error) {
	c := checker.New(r.Spec.Messages)
	for i, o := range r.outcomes {
		c.Sent(i+1, o)
	}
	var res Result
	// After a cluster fault, which deposits the input holds: one byte per
	// deposit, for those runs only.
	var inLog []bool
	if r.leaderCrash != nil {
		inLog = make([]bool, r.Spec.Messages)
	}
	err := readAll(ctx, r.env.Brokers, r.Names.Input, r.endOffset.Load(), kgo.ReadCommitted(), func(rec *kgo.Record) {
		if seq, ok := deposit.ParseID(string(rec.Key)); ok {
			res.InLog++
			if inLog != nil && seq <= len(inLog) {
				inLog[seq-1] = true
			}
		}
	})
	if err != nil {
		return res, fmt.Errorf("reading %s: %w", r.Names.Input, err)
	}
	for i, in := range inLog {
		if !in && r.outcomes[i] == checker.Acked {
			res.AckedNotInLog++
		}
	}
	ledgerEnd, err := r.writeEnd(ctx, r.Names.Ledger)
	if err != nil {
		return res, fmt.Errorf("closing %s: %w", r.Names.Ledger, err)
	}
	committed, committedN := map[int64][]byte{}, 0
	err = readAll(ctx, r.env.Brokers, r.Names.Ledger, ledgerEnd, kgo.ReadCommitted(), func(rec *kgo.Record) {
		amount := int64(0)
		if cr, err := deposit.DecodeCredit(rec.Value); err == nil {
			amount = cr.Amount
		}
		c.Credit(string(rec.Key), amount)
		committedN++
		if r.drawn() {
			committed[rec.Offset] = rec.Key
		}
	})
	if err != nil {
		return res, fmt.Errorf("reading %s: %w", r.Names.Ledger, err)
	}
	aborted := map[int64][]byte{}
	if r.recipe.Commit == lessons.CommitInTransaction {
		n, err := r.readAborted(ctx, ledgerEnd, committedN, committed, aborted)
		if err != nil {
			return res, fmt.Errorf("reading %s read_uncommitted: %w", r.Names.Ledger, err)
		}
		c.AbortedCredits(n)
	}
	if r.drawn() {
		r.drawLedger(committed, aborted)
	}
	res.Result = c.Result(r.claim)
	r.explain(res.Result)
	return res, nil
}

// readAborted reads the ledger read_uncommitted, as far as the end marker
// at offset end, and counts the credits that read_committed readers never
// see: those of aborted transactions. Both reads return the records in
// offset order, read_uncommitted every one, so the difference of the two
// counts is the aborted credits; committedN is read_committed's count. For
// a drawn run, committed holds read_committed's records by offset, and
// aborted is filled with the others.
func (r *Run) readAborted(ctx context.Context, end int64, committedN int, committed, aborted map[int64][]byte) (int, error) {
	all := 0
	err := readAll(ctx, r.env.Brokers, r.Names.Ledger, end, kgo.ReadUncommitted(), func(rec *kgo.Record) {
		all++
		if _, ok := committed[rec.Offset]; !ok && r.drawn() {
			aborted[rec.Offset] = rec.Key
		}
	})
	return all - committedN, err
}

// drawLedger puts a drawn run's ledger on the trace as the auditor read
// it: one record event per credit, in offset order, those of aborted
// transactions marked.
func (r *Run) drawLedger(committed, aborted map[int64][]byte) {
	offsets := slices.Collect(maps.Keys(committed))
	offsets = slices.AppendSeq(offsets, maps.Keys(aborted))
	slices.Sort(offsets)
	b := r.Log.Batch()
	for _, o := range offsets {
		key, ok := committed[o]
		if !ok {
			key = aborted[o]
		}
		seq, isDeposit := deposit.ParseID(string(key))
		if !isDeposit {
			continue // the end marker
		}
		b.Add(trace.Event{Actor: trace.Ledger, Kind: trace.Record, Topic: r.Names.Ledger, Offset: o, Deposit: seq, Aborted: !ok})
	}
	b.Emit()
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

// readAll consumes topic (partition 0) from its start as a reader of the
// given isolation level sees it, calling fn for every record before offset
// end, and returns once it has seen the record at end-1 or any later one.
// end is either a record the lab wrote last (the end marker: a
// read_committed reader may never return the control record or aborted
// data just before it, so the read finishes on the marker) or a log's end
// offset when every offset below it holds a record the reader returns.
func readAll(ctx context.Context, brokers []string, topic string, end int64, isolation kgo.IsolationLevel, fn func(*kgo.Record)) error {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.FetchIsolationLevel(isolation),
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
			if rec.Offset < end {
				fn(rec)
			}
			done = done || rec.Offset >= end-1
		})
		if done {
			return nil
		}
	}
}
