package pipeline

// The kafka-go processor, at-most-once and at-least-once.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/deposit"
	"github.com/kafka-delivery-lab/lab/lessons/faultconn"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// commitOrder is where a kafka-go processor commits its offsets.
type commitOrder int

const (
	// commitFirst is at-most-once: commit the batch, then credit it. A
	// crash between the two loses the uncredited rest of the batch.
	commitFirst commitOrder = iota
	// creditFirst is at-least-once: credit the batch, then commit it. A
	// crash between the two credits the batch again after the restart.
	creditFirst
	// creditEach is the seed's at-least-once consumer: credit one record,
	// commit it, next. Correct, and slow: a commit round trip per deposit.
	creditEach
)

// kafkaGoProcessor is the at-most-once and at-least-once processor.
type kafkaGoProcessor struct {
	r        *Run
	instance string
	dialer   *faultconn.Dialer
	reader   messageSource
	// revoke is reader when the processor commits on revocation
	// (Recipe.CommitOnRevoke); nil with the group Reader.
	revoke *revokeReader
	writer *kafka.Writer
	tr     *kafka.Transport
	order  commitOrder
	events *trace.Batch
	// credited is the idempotent consumer's store (Recipe.Dedup): the
	// deposits the ledger credits, restored when the instance starts;
	// nil without dedup.
	credited *creditedSet
	// zombie is set once the instance woke from a stall: it finishes its
	// batch, whatever fault is armed, and ends.
	zombie bool
	// joins counts the generations the Reader has joined; fetchedIn[i]
	// is joins when the batch's record i was fetched (see current).
	joins     generations
	fetchedIn []int64
}

func newKafkaGoProcessor(r *Run, instance string) *kafkaGoProcessor {
	p := &kafkaGoProcessor{r: r, instance: instance, dialer: faultconn.NewDialer(faultconn.Config{}), events: r.Log.Batch()}
	dial, ttl := transportWaits(r)
	p.tr = &kafka.Transport{Dial: p.dialer.DialContext, DialTimeout: dial, MetadataTTL: ttl}
	acks, tries := kafkaGoAcks(r.recipe)
	if acks == kafka.RequireNone {
		// A custom run's acks=0 is its deposit producer's; the credits
		// are still written with an answer, so the processor knows.
		acks = kafka.RequireOne
	}
	isolation := kafka.ReadUncommitted
	if r.recipe.Isolation == lessons.ReadCommitted {
		isolation = kafka.ReadCommitted
	}
	commitEvery := time.Duration(0) // synchronous commits
	switch r.recipe.Commit {
	case lessons.CommitBefore:
		p.order = commitFirst
	case lessons.CommitEach:
		p.order = creditEach
	case lessons.CommitAuto:
		// enable_auto_commit=True in a loop that credits a batch before
		// it asks for the next: the client commits, on its timer, only
		// offsets of records already processed, so a crash repeats what
		// was credited since the last commit and loses nothing. kafka-go
		// has no auto-commit; CommitMessages with a CommitInterval hands
		// the offsets to a background committer, which is the same.
		p.order = creditFirst
		commitEvery = time.Duration(r.recipe.AutoCommitMs) * time.Millisecond
	default:
		p.order = creditFirst
	}
	st := r.sessionTimeout()
	dialer := &kafka.Dialer{DialFunc: p.dialer.DialContext, Timeout: 5 * time.Second}
	cfg := kafka.ReaderConfig{
		Brokers:           r.env.Brokers,
		GroupID:           r.Names.Group,
		Topic:             r.Names.Input,
		Dialer:            dialer,
		MinBytes:          1,
		MaxBytes:          4 << 20,
		MaxWait:           100 * time.Millisecond,
		QueueCapacity:     r.env.Tuning.Batch,
		SessionTimeout:    st,
		RebalanceTimeout:  st,
		HeartbeatInterval: r.heartbeatInterval(),
		JoinGroupBackoff:  100 * time.Millisecond,
		ReadBackoffMin:    10 * time.Millisecond,
		ReadBackoffMax:    100 * time.Millisecond,
		StartOffset:       kafka.FirstOffset,
		CommitInterval:    commitEvery,
		IsolationLevel:    isolation,
		Logger:            &p.joins,
	}
	if r.recipe.CommitOnRevoke && p.order == creditFirst && commitEvery == 0 {
		p.revoke = newRevokeReader(kafka.ConsumerGroupConfig{
			ID:                r.Names.Group,
			Brokers:           r.env.Brokers,
			Dialer:            dialer,
			Topics:            []string{r.Names.Input},
			HeartbeatInterval: r.heartbeatInterval(),
			SessionTimeout:    st,
			// The rebalance timeout is how long the coordinator waits
			// for every member to rejoin: the time a member has to
			// finish its record, commit and let go (Java's
			// max.poll.interval.ms). A member that takes longer is
			// dropped and its revocation commit refused; three
			// sessions leave room for a busy machine, and a dead
			// member is still dropped when its session expires.
			RebalanceTimeout: 3 * st,
			JoinGroupBackoff: 100 * time.Millisecond,
			StartOffset:      kafka.FirstOffset,
		}, kafka.ReaderConfig{
			Brokers:        r.env.Brokers,
			Dialer:         dialer,
			MinBytes:       1,
			MaxBytes:       4 << 20,
			MaxWait:        100 * time.Millisecond,
			QueueCapacity:  r.env.Tuning.Batch,
			ReadBackoffMin: 10 * time.Millisecond,
			ReadBackoffMax: 100 * time.Millisecond,
			IsolationLevel: isolation,
		}, p.generation)
		p.reader = p.revoke
	} else {
		p.reader = kafka.NewReader(cfg)
	}
	// On a replicated cluster the ledger's leader can move too (a broker
	// fenced on a busy machine): its writer outlasts an election as well.
	backoffMin, backoffMax := kafkaGoBackoff(r.env.Tuning)
	p.writer = &kafka.Writer{
		Addr:            kafka.TCP(r.env.Brokers...),
		Topic:           r.Names.Ledger,
		Balancer:        accountBalancer{},
		RequiredAcks:    acks,
		MaxAttempts:     tries,
		BatchSize:       r.env.Tuning.Batch,
		BatchTimeout:    time.Millisecond,
		WriteBackoffMin: backoffMin,
		WriteBackoffMax: backoffMax,
		ReadTimeout:     r.env.Tuning.RequestTimeout,
		WriteTimeout:    r.env.Tuning.RequestTimeout,
		Transport:       p.tr,
	}
	return p
}

func (p *kafkaGoProcessor) run(ctx context.Context) (err error) {
	defer func() {
		if errors.Is(err, errCrashed) || errors.Is(err, errZombie) {
			p.crash()
			return
		}
		p.writer.Close()
		p.tr.CloseIdleConnections()
		p.reader.Close()
	}()
	if p.r.recipe.Dedup {
		if err := p.restore(ctx); err != nil {
			return fmt.Errorf("restoring the deduplication store from %s: %w", p.r.Names.Ledger, err)
		}
	}
	for {
		if p.revoke != nil {
			// The last batch is credited and committed: a generation
			// that ended meanwhile can go, and the member rejoin.
			p.revoke.releaseIfEnded()
		}
		batch, err := p.collect(ctx)
		if err != nil {
			return err
		}
		if p.r.isJoiner(p.instance) && p.joined() > 0 {
			// kafka-go has no assignment callback; its first generation
			// is counted once it has joined and read its offsets.
			p.r.joined(p.instance)
		}
		if len(batch) == 0 {
			if p.r.caughtUp(ctx) {
				return nil
			}
			continue
		}
		sawEnd, err := p.handle(ctx, batch)
		if errors.Is(err, errRebalanced) {
			continue // the reader reads the batch again from the committed offset
		}
		if err != nil || p.r.finished(ctx, sawEnd) {
			return err
		}
	}
}

// restore fills the idempotent consumer's store from the ledger before
// the instance reads its first deposit.
func (p *kafkaGoProcessor) restore(ctx context.Context) error {
	if p.r.memoryOnlyStore {
		p.credited = newCreditedSet(p.r.Spec.Messages)
		return nil
	}
	t := time.Now()
	set, n, err := p.r.restoreCredited(ctx)
	if err != nil {
		return err
	}
	p.credited = set
	p.r.emit(trace.Event{Actor: trace.Processor, Kind: trace.Lifecycle, Instance: p.instance, Topic: p.r.Names.Ledger, Offset: -1,
		Detail: fmt.Sprintf("%s restored its deduplication store from the ledger: %d credits read in %s", p.instance, n, time.Since(t).Round(time.Microsecond))})
	return nil
}

// errRebalanced is a commit refused because the group moved on to a new
// generation (a heartbeat came late, say on a busy machine). Any consumer
// then carries on: it rejoins and reads again from the committed offset,
// so at-least-once credits the batch twice and at-most-once, which had not
// credited it yet, credits it once. kafka-go drops what it had fetched for
// the old generation.
var errRebalanced = errors.New("the consumer group rebalanced before the commit")

// collect returns the next batch: what arrives within linger of its first
// record, at most Tuning.Batch. Empty means nothing arrived for idle.
func (p *kafkaGoProcessor) collect(ctx context.Context) ([]kafka.Message, error) {
	first, err := fetch(ctx, p.reader, idle)
	if err != nil || first == nil {
		return nil, err
	}
	batch := []kafka.Message{*first}
	p.fetchedIn = append(p.fetchedIn[:0], p.joined())
	lc, cancel := context.WithTimeout(ctx, linger)
	defer cancel()
	for limit := p.r.batchLimit(); len(batch) < limit; {
		m, err := p.reader.FetchMessage(lc)
		if err != nil {
			break
		}
		batch = append(batch, m)
		p.fetchedIn = append(p.fetchedIn, p.joined())
	}
	// A crash or stall due in this batch must leave work on both sides of
	// it, so that it can strike mid-batch: wait for the record after it.
	if i, _ := p.faultIndex(batch); i == len(batch)-1 {
		m, err := p.reader.FetchMessage(ctx)
		switch {
		case err == nil:
			batch = append(batch, m)
			p.fetchedIn = append(p.fetchedIn, p.joined())
		case !errors.Is(err, errRevoked):
			return nil, err
		}
	}
	return batch, ctx.Err()
}

// fetch waits up to wait for the next record; nil when none came.
func fetch(ctx context.Context, rd messageSource, wait time.Duration) (*kafka.Message, error) {
	c, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	m, err := rd.FetchMessage(c)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errRevoked) || groupSettling(err) {
			return nil, nil
		}
		// A broker the reader cannot reach: kafka-go goes on dialling it,
		// and past its third failure hands each one to FetchMessage as
		// well. A killed partition leader (leader-crash) is replaced
		// within seconds; a broker gone for good is watchBroker's to
		// judge.
		var ne net.Error
		if errors.As(err, &ne) {
			return nil, nil
		}
		return nil, err
	}
	return &m, nil
}

// groupSettling reports whether a kafka-go Reader's error is its group
// still forming: the Reader hands the errors of joining to FetchMessage,
// and rejoins by itself. Seen on Apache Kafka with three instances joining
// a new group at once: NOT_COORDINATOR while the coordinator loads the
// group's __consumer_offsets partition.
func groupSettling(err error) bool {
	return errors.Is(err, kafka.NotCoordinatorForGroup) || errors.Is(err, kafka.GroupCoordinatorNotAvailable) ||
		errors.Is(err, kafka.GroupLoadInProgress) || errors.Is(err, kafka.RebalanceInProgress) ||
		errors.Is(err, kafka.UnknownMemberId) || errors.Is(err, kafka.IllegalGeneration)
}

// joined is how many generations of its group the Reader has joined so
// far; 0 for a processor that commits on revocation, which holds its
// generation until its batch is done.
func (p *kafkaGoProcessor) joined() int64 { return p.joins.n.Load() }

// generations follows a kafka-go Reader's generations from its log, the
// only place it tells them. It logs "subscribed to topics and partitions"
// once per generation, once it has stopped handing out the old one's
// records and started the new one's readers; then it starts the
// generation's commit loop, which ends only after its last commit, before
// the next generation is joined. (Stats().Rebalances is no count of
// generations: a partition reader adds to it when it loses its leader.)
type generations struct {
	n         atomic.Int64 // generations joined
	committed atomic.Int64 // n when the latest commit was taken
	live      atomic.Bool  // a generation's commit loop is running
}

func (g *generations) Printf(msg string, _ ...any) {
	switch {
	case strings.HasPrefix(msg, "subscribed to topics and partitions"):
		g.n.Add(1)
	case strings.HasPrefix(msg, "started commit for group"):
		g.live.Store(true)
	case strings.HasPrefix(msg, "stopped commit for group"):
		g.live.Store(false)
	case strings.HasPrefix(msg, "committed offsets for group"):
		g.committed.Store(g.n.Load())
	}
}

// rejoinWait bounds how long an at-most-once processor waits for its
// Reader to join the next generation before it commits (current).
const rejoinWait = 30 * time.Second

// current is the part of an at-most-once batch fetched in the generation
// the Reader is in, which it may commit and credit. kafka-go rejoins in
// the background and sends a commit in whatever generation it is in by
// then: a record fetched in an older one and committed in a newer one
// moves the offset after the partition's new owner read the old one (it
// reads the record again: credited twice) or before (it never does:
// lost), by a race. Left uncommitted and uncredited, such a record is read
// again by that owner, from the offset committed before it: credited once.
// While the Reader is between generations (no commit loop runs) it waits
// for the next one, so that a commit cannot wait in kafka-go for it.
func (p *kafkaGoProcessor) current(ctx context.Context, batch []kafka.Message) []kafka.Message {
	for deadline := time.Now().Add(rejoinWait); !p.joins.live.Load() && time.Now().Before(deadline) && ctx.Err() == nil; {
		time.Sleep(10 * time.Millisecond)
	}
	return p.fetchedSince(batch, p.joined(), "was fetched in an earlier generation of the group: it is left uncommitted, and the partition's owner now reads it again")
}

// fetchedSince is batch's records fetched in generation gen or later; the
// others go on the trace with why.
func (p *kafkaGoProcessor) fetchedSince(batch []kafka.Message, gen int64, why string) []kafka.Message {
	kept := batch[:0:0]
	var tags []int64
	for i, m := range batch {
		if p.fetchedIn[i] >= gen {
			kept, tags = append(kept, m), append(tags, p.fetchedIn[i])
			continue
		}
		p.events.Add(trace.Event{Actor: trace.Processor, Kind: trace.Error, ID: string(m.Key), Instance: p.instance,
			Topic: m.Topic, Partition: int32(m.Partition), Offset: m.Offset,
			Detail: fmt.Sprintf("the group rebalanced: offset %d %s, so %s does not credit it", m.Offset, why, p.instance)})
	}
	p.events.Emit()
	p.fetchedIn = append(p.fetchedIn[:0], tags...)
	return kept
}

// faultIndex is the index of the record after whose credit the processor
// must crash or stall, and which of the two, or -1.
func (p *kafkaGoProcessor) faultIndex(batch []kafka.Message) (int, lessons.FaultID) {
	if p.zombie || !p.r.nemesis.processArmed() {
		return -1, "" // nearly every batch: no key to parse
	}
	for i, m := range batch {
		seq, ok := deposit.ParseID(string(m.Key))
		switch {
		case !ok:
		case p.r.nemesis.crashDue(seq):
			return i, lessons.ProcessorCrash
		case p.r.nemesis.stallDue(seq):
			return i, lessons.ProcessorStall
		}
	}
	return -1, ""
}

// handle processes one batch in the guarantee's order. done is true once
// the end marker has been processed.
func (p *kafkaGoProcessor) handle(ctx context.Context, batch []kafka.Message) (done bool, err error) {
	for i, m := range batch {
		if i == 0 || m.Partition != batch[i-1].Partition {
			p.r.observe(p.instance, int32(m.Partition))
		}
		p.events.Add(fetchEvent(m.Key, p.instance, m.Topic, int32(m.Partition), m.Offset))
		done = done || string(m.Key) == endKey
	}
	p.events.Emit()
	faultAt, fault := p.faultIndex(batch)
	switch p.order {
	case commitFirst:
		// (A Reader: commit on revoke is for commit-after only.)
		if batch = p.current(ctx, batch); len(batch) == 0 {
			return false, nil
		}
		if err := p.commit(ctx, batch); err != nil {
			return false, err
		}
		// The generation that took the commit, by kafka-go's log: a newer
		// one than a record's if a rejoin raced the commit.
		if batch = p.fetchedSince(batch, p.joins.committed.Load(), "went out in a later generation's commit: the partition's owner may read it again"); len(batch) == 0 {
			return false, nil
		}
		done = slices.ContainsFunc(batch, func(m kafka.Message) bool { return string(m.Key) == endKey })
		faultAt, fault = p.faultIndex(batch)
		if _, err := p.credit(ctx, batch, faultAt, fault); err != nil || p.zombie {
			return false, cmp.Or(err, errZombie)
		}
		return done, nil
	case creditFirst:
		n, err := p.credit(ctx, batch, faultAt, fault)
		if err != nil {
			return false, err
		}
		if n < len(batch) {
			// The partitions were revoked mid-batch: commit what was
			// credited, and leave the rest to their next owner.
			done = slices.ContainsFunc(batch[:n], func(m kafka.Message) bool { return string(m.Key) == endKey })
			if n == 0 {
				return false, nil
			}
		}
		return done, p.commit(ctx, batch[:n])
	default:
		for i := range batch {
			at := -1
			if i == faultAt {
				at = 0
			}
			if _, err := p.credit(ctx, batch[i:i+1], at, fault); err != nil {
				return false, err
			}
			if err := p.commit(ctx, batch[i:i+1]); err != nil {
				return false, err
			}
		}
		return done, nil
	}
}

// credit writes one ledger record per deposit in batch; with faultAt ≥ 0
// it writes those up to faultAt and then crashes, or stalls and, once
// awake, writes the rest. n is how many records of batch it processed:
// all of them, unless the processor commits on revocation and its
// partitions were revoked first, when it stops at a record boundary.
func (p *kafkaGoProcessor) credit(ctx context.Context, batch []kafka.Message, faultAt int, fault lessons.FaultID) (n int, err error) {
	upTo := len(batch)
	if faultAt >= 0 {
		upTo = faultAt + 1
	}
	credits := make([]kafka.Message, 0, upTo)
	seqs := make([]int, 0, upTo)
	for i, m := range batch[:upTo] {
		if faultAt < 0 && p.revoking() {
			upTo = i
			break
		}
		seq, ok := deposit.ParseID(string(m.Key))
		if !ok {
			continue // the end marker
		}
		if err := p.r.Pacer.Stage(ctx); err != nil {
			return 0, err
		}
		if p.credited != nil {
			if p.credited.has(seq) {
				p.skip(m, seq)
				continue
			}
			p.credited.add(seq) // a second record of it in this batch is a repeat too
		}
		seqs = append(seqs, seq)
		credits = append(credits, kafka.Message{Key: m.Key,
			Value: deposit.Credit{Deposit: string(m.Key), Amount: deposit.Amount, Processor: p.instance}.Encode()})
	}
	if len(credits) > 0 {
		if err := p.writeCredits(ctx, credits); err != nil {
			return 0, fmt.Errorf("crediting the ledger: %w", err)
		}
	}
	p.r.credited(seqs, p.instance, p.events)
	p.r.notify(seqs, p.instance, p.events)
	rctx, cancel := p.untilRevoked(ctx)
	p.r.rebalanceIfDue(rctx, seqs, p.instance)
	cancel()
	switch {
	case faultAt < 0:
		return upTo, nil
	case fault == lessons.ProcessorCrash:
		p.r.crash(batch[faultAt].Key, p.instance, ", before its next commit")
		return 0, errCrashed
	}
	if err := p.r.stall(ctx, batch[faultAt].Key, p.instance, p.dialer); err != nil {
		return 0, err
	}
	p.zombie = true
	rest, err := p.credit(ctx, batch[faultAt+1:], -1, "")
	return faultAt + 1 + rest, err
}

// revoking reports whether the processor commits on revocation and the
// group is taking its partitions away: the generation it reads ended. A
// zombie, awake, does not know that.
func (p *kafkaGoProcessor) revoking() bool {
	if p.revoke == nil || p.zombie {
		return false
	}
	_, ended := p.revoke.ended()
	return ended
}

// untilRevoked is ctx, ended too when the partitions are revoked, for a
// processor that commits on revocation: the rebalance fault's wait for
// the joiner must not hold up the rebalance it waits for. cancel ends its
// watcher.
func (p *kafkaGoProcessor) untilRevoked(ctx context.Context) (_ context.Context, cancel context.CancelFunc) {
	var revoked <-chan struct{}
	if p.revoke != nil {
		revoked = p.revoke.revoked()
	}
	if revoked == nil {
		return ctx, func() {}
	}
	c, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-revoked:
			cancel()
		case <-c.Done():
		}
	}()
	return c, cancel
}

// generation is told of each generation a processor that commits on
// revocation joins: the partitions the group gave it, from their
// committed offsets.
func (p *kafkaGoProcessor) generation(g *kafka.Generation) {
	assigned := g.Assignments[p.r.Names.Input]
	// This member knows its partitions, unlike a Reader's application:
	// the picture shows them moving at the hand-over, even those with
	// nothing left to read.
	ids := make([]string, 0, len(assigned))
	for _, a := range assigned {
		p.r.observe(p.instance, int32(a.ID))
		ids = append(ids, strconv.Itoa(a.ID))
	}
	p.r.emit(trace.Event{Actor: trace.Processor, Kind: trace.Lifecycle, Instance: p.instance, Topic: p.r.Names.Input, Offset: -1, Generation: g.ID,
		Detail: fmt.Sprintf("%s is in generation %d of the group with partitions [%s], each from its committed offset", p.instance, g.ID, strings.Join(ids, " "))})
}

// skip passes over a delivery of deposit seq, which the ledger already
// credits: the idempotent consumer writes nothing, and the batch is
// committed as usual.
func (p *kafkaGoProcessor) skip(m kafka.Message, seq int) {
	p.r.deduplicated.Add(1)
	p.events.Add(trace.Event{Actor: trace.Processor, Kind: trace.Skip, Deposit: seq, Instance: p.instance,
		Topic: m.Topic, Partition: int32(m.Partition), Offset: m.Offset,
		Detail: "already credited (the deduplication store has it): skipped, no credit written"})
}

// coordinatorPatience bounds how long a commit waits for the group's
// coordinator to be ready. Apache Kafka answers NOT_COORDINATOR or
// COORDINATOR_LOAD_IN_PROGRESS while it loads a __consumer_offsets
// partition (seen with 20 new groups at once on one broker), and kafka-go
// gives up after three tries within 300 ms.
const coordinatorPatience = 15 * time.Second

// commitMessages commits batch, waiting out a coordinator that is not
// ready yet: the same commit in the same generation, so retrying it is
// safe.
func (p *kafkaGoProcessor) commitMessages(ctx context.Context, batch []kafka.Message) error {
	wait, deadline := 50*time.Millisecond, time.Now().Add(coordinatorPatience)
	for {
		err := p.reader.CommitMessages(ctx, batch...)
		notReady := errors.Is(err, kafka.NotCoordinatorForGroup) || errors.Is(err, kafka.GroupCoordinatorNotAvailable) || errors.Is(err, kafka.GroupLoadInProgress)
		if !notReady || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

func (p *kafkaGoProcessor) commit(ctx context.Context, batch []kafka.Message) error {
	if p.zombie {
		return p.commitAsZombie(ctx, batch)
	}
	gen, onRevoke := int32(0), false
	if p.revoke != nil {
		gen, onRevoke = p.revoke.ended()
	}
	if err := p.commitMessages(ctx, batch); err != nil {
		// net.ErrClosed: kafka-go closed the generation's connection to
		// the coordinator under the commit (its heartbeats failed while a
		// cluster fault paused the coordinator's broker); the next
		// generation reads the batch again, as after a rebalance.
		if errors.Is(err, kafka.IllegalGeneration) || errors.Is(err, kafka.RebalanceInProgress) || errors.Is(err, kafka.UnknownMemberId) || errors.Is(err, net.ErrClosed) {
			first := batch[0]
			p.r.emit(trace.Event{Actor: trace.Processor, Kind: trace.Error, ID: string(first.Key), Instance: p.instance,
				Topic: first.Topic, Partition: int32(first.Partition), Offset: first.Offset,
				Detail: fmt.Sprintf("commit refused (%v): the group rebalanced, so the records from offset %d will be read again", err, first.Offset)})
			return errRebalanced
		}
		return fmt.Errorf("committing offsets: %w", err)
	}
	// One commit event per partition, at the last record of it in the
	// batch (kafka-go interleaves partitions): each partition's committed
	// offset is its own.
	last := map[int]int{}
	for i, m := range batch {
		last[m.Partition] = i
	}
	for i, m := range batch {
		if last[m.Partition] != i {
			continue
		}
		p.r.committedAt(int32(m.Partition), m.Offset+1)
		e := trace.Event{Actor: trace.Processor, Kind: trace.Commit, ID: string(m.Key), Instance: p.instance,
			Topic: m.Topic, Partition: int32(m.Partition), Offset: m.Offset + 1, Generation: gen}
		if onRevoke {
			// Sent in the ending generation, while the coordinator
			// prepares the rebalance: it took the commit, and the
			// partition's next owner starts after this record.
			e.OnRevoke = true
			e.Detail = fmt.Sprintf("committed on revoke: generation %d is ending, and %s commits what it credited before it gives partition %d up", gen, p.instance, m.Partition)
		}
		p.r.emit(e)
	}
	return nil
}

// zombieCommitWait bounds a woken zombie's commit: kafka-go hands a
// commit to the reader's current generation, and once the reader has
// noticed that its generation ended, the commit waits for the next one.
const zombieCommitWait = 10 * time.Second

// commitAsZombie commits batch as an instance that woke from a stall does,
// unaware that the group dropped it, and ends it: the group's coordinator
// refuses a member it no longer has, after its credits are written.
func (p *kafkaGoProcessor) commitAsZombie(ctx context.Context, batch []kafka.Message) error {
	cctx, cancel := context.WithTimeout(ctx, zombieCommitWait)
	defer cancel()
	err := p.reader.CommitMessages(cctx, batch...)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var code kafka.Error
	if errors.As(err, &code) {
		if ke := brokerFencing(kerr.ErrorForCode(int16(code))); ke != nil {
			p.r.fenced(p.instance, "offset commit", ke)
			return errZombie
		}
	}
	last := batch[len(batch)-1]
	detail := "the zombie's commit went through: the reader had rejoined the group"
	if err != nil {
		detail = "the zombie's commit failed without a fencing error: " + err.Error()
	}
	p.r.emit(trace.Event{Actor: trace.Processor, Kind: trace.Error, ID: string(last.Key), Instance: p.instance,
		Topic: last.Topic, Partition: int32(last.Partition), Offset: last.Offset + 1, Detail: detail})
	return errZombie
}

// crash kills this instance the way a dead process goes: its connections
// reset, no LeaveGroup, no final commit.
func (p *kafkaGoProcessor) crash() {
	p.dialer.Sever()
	closeBounded(func() { p.writer.Close(); p.tr.CloseIdleConnections() })
	closeBounded(func() { p.reader.Close() })
}

// leaderlessWait bounds how long the processor waits for the ledger's
// partition to have a leader again (an election on a replicated cluster:
// 3-5 s measured, longer on a busy machine).
const leaderlessWait = 30 * time.Second

// writeCredits writes credits to the ledger, and writes them again while
// kafka-go finds no leader for the ledger's partition: its writer spends
// its attempts within a second or two, an election takes longer, and
// then the client sent nothing, so writing again cannot credit twice.
func (p *kafkaGoProcessor) writeCredits(ctx context.Context, credits []kafka.Message) error {
	giveUp := time.Now().Add(leaderlessWait)
	for {
		err := p.writer.WriteMessages(ctx, credits...)
		if err == nil || !leaderless(err) || time.Now().After(giveUp) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// leaderless reports whether every write in err failed before it was
// sent, for want of a partition leader: nothing of it reached a broker.
func leaderless(err error) bool {
	var we kafka.WriteErrors
	if !errors.As(err, &we) {
		return errors.Is(err, protocol.ErrNoLeader)
	}
	for _, e := range we {
		if !errors.Is(e, protocol.ErrNoLeader) {
			return false
		}
	}
	return len(we) > 0
}
