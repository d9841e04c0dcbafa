package pipeline

import (
	"cmp"
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
	inputEnds := r.inputEnds()
	visible := map[logPos]bool{} // a drawn run's input records read_committed readers see
	// After a cluster fault, which deposits the input holds: one byte per
	// deposit, for those runs only.
	var inLog []bool
	if r.leaderCrash != nil {
		inLog = make([]bool, r.Spec.Messages)
	}
	err := readAll(ctx, r.env.Brokers, r.Names.Input, inputEnds, kgo.ReadCommitted(), func(rec *kgo.Record) {
		if seq, ok := deposit.ParseID(string(rec.Key)); ok {
			res.InLog++
			if inLog != nil && seq <= len(inLog) {
				inLog[seq-1] = true
			}
		}
		if r.drawn() {
			visible[logPos{rec.Partition, rec.Offset}] = true
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
	if r.drawn() {
		if err := r.drawAbortedInput(ctx, inputEnds, visible); err != nil {
			return res, fmt.Errorf("reading %s read_uncommitted: %w", r.Names.Input, err)
		}
	}
	ledgerEnd, err := r.writeEnds(ctx, r.Names.Ledger)
	if err != nil {
		return res, fmt.Errorf("closing %s: %w", r.Names.Ledger, err)
	}
	committed, committedN := map[logPos][]byte{}, 0
	err = readAll(ctx, r.env.Brokers, r.Names.Ledger, ledgerEnd, kgo.ReadCommitted(), func(rec *kgo.Record) {
		amount := int64(0)
		if cr, err := deposit.DecodeCredit(rec.Value); err == nil {
			amount = cr.Amount
		}
		c.Credit(string(rec.Key), amount)
		committedN++
		if r.drawn() {
			committed[logPos{rec.Partition, rec.Offset}] = rec.Key
		}
	})
	if err != nil {
		return res, fmt.Errorf("reading %s: %w", r.Names.Ledger, err)
	}
	aborted := map[logPos][]byte{}
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
func (r *Run) readAborted(ctx context.Context, ends []int64, committedN int, committed, aborted map[logPos][]byte) (int, error) {
	all := 0
	err := readAll(ctx, r.env.Brokers, r.Names.Ledger, ends, kgo.ReadUncommitted(), func(rec *kgo.Record) {
		all++
		if at := (logPos{rec.Partition, rec.Offset}); r.drawn() {
			if _, ok := committed[at]; !ok {
				aborted[at] = rec.Key
			}
		}
	})
	return all - committedN, err
}

// logPos is a record's place in a topic.
type logPos struct {
	partition int32
	offset    int64
}

// drawLedger puts a drawn run's ledger on the trace as the auditor read
// it: one record event per credit, by partition in offset order, those of
// aborted transactions marked.
func (r *Run) drawLedger(committed, aborted map[logPos][]byte) {
	offsets := slices.Collect(maps.Keys(committed))
	offsets = slices.AppendSeq(offsets, maps.Keys(aborted))
	slices.SortFunc(offsets, func(a, b logPos) int {
		return cmp.Or(cmp.Compare(a.partition, b.partition), cmp.Compare(a.offset, b.offset))
	})
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
		b.Add(trace.Event{Actor: trace.Ledger, Kind: trace.Record, Topic: r.Names.Ledger, Partition: o.partition, Offset: o.offset, Deposit: seq, Aborted: !ok})
	}
	b.Emit()
}

// drawAbortedInput puts on a drawn run's trace the deposit records of the
// input topic that read_committed readers never see: a transactional
// producer's aborted batches. They stay in the log, each at its offset,
// until retention deletes them; a read_committed processor skips them
// (the broker's aborted-transaction index tells it which), a
// read_uncommitted one does not. Control records (commit and abort markers)
// are returned by neither read. visible holds the offsets read_committed
// returned; a drawn run's input is a few hundred records, so reading it
// once more costs little.
func (r *Run) drawAbortedInput(ctx context.Context, ends []int64, visible map[logPos]bool) error {
	b := r.Log.Batch()
	err := readAll(ctx, r.env.Brokers, r.Names.Input, ends, kgo.ReadUncommitted(), func(rec *kgo.Record) {
		if seq, ok := deposit.ParseID(string(rec.Key)); ok && !visible[logPos{rec.Partition, rec.Offset}] {
			b.Add(trace.Event{Actor: trace.Broker, Kind: trace.Record, Topic: r.Names.Input, Partition: rec.Partition, Offset: rec.Offset, Deposit: seq, Aborted: true})
		}
	})
	b.Emit()
	return err
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

// readAll consumes every partition of topic from its start as a reader of
// the given isolation level sees it, calling fn for every record before
// its partition's offset in ends (by partition), and returns once it has
// seen, in every partition, the record at that offset -1 or any later one.
// Each end is either a record the lab wrote last (the end marker: a
// read_committed reader may never return the control record or aborted
// data just before it, so the read finishes on the marker) or a log's end
// offset when every offset below it holds a record the reader returns. A
// partition whose end is 0 has nothing before it, and is not read. Within
// a partition fn sees the records in offset order.
func readAll(ctx context.Context, brokers []string, topic string, ends []int64, isolation kgo.IsolationLevel, fn func(*kgo.Record)) error {
	parts := map[int32]kgo.Offset{}
	for p, end := range ends {
		if end > 0 {
			parts[int32(p)] = kgo.NewOffset().AtStart()
		}
	}
	if len(parts) == 0 {
		return nil
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.FetchIsolationLevel(isolation),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts}),
	)
	if err != nil {
		return err
	}
	defer cl.Close()
	for len(parts) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fs.Err0(); err != nil {
			return err
		}
		fs.EachRecord(func(rec *kgo.Record) {
			end := ends[rec.Partition]
			if rec.Offset < end {
				fn(rec)
			}
			if rec.Offset >= end-1 {
				delete(parts, rec.Partition)
			}
		})
	}
	return nil
}
