package pipeline

// The at-least-once processor that commits on revocation: kafka-go's
// ConsumerGroup, one Generation at a time, instead of its Reader.

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// messageSource is what the kafka-go processor reads from and commits to:
// a group Reader, or a revokeReader.
type messageSource interface {
	FetchMessage(ctx context.Context) (kafka.Message, error)
	CommitMessages(ctx context.Context, msgs ...kafka.Message) error
	Close() error
}

// revokeReader reads the input topic as a member of the processor group
// through kafka-go's lower-level API: ConsumerGroup.Next hands it a
// Generation (its partitions and their committed offsets), it reads each
// partition with a Reader of its own, and commits with
// Generation.CommitOffsets. What the group Reader cannot do, it can: the
// group waits for every function a generation Started before this member
// rejoins, and one of them (hold) returns only once the processor has
// released it (releaseIfEnded), which it does between batches, after
// committing what it credited. So the revocation commit is sent in the
// ending generation, while the coordinator is still preparing the
// rebalance: Apache Kafka and kfake both accept an OffsetCommit of the
// current generation in PreparingRebalance (the Java consumer's
// onPartitionsRevoked commitSync relies on the same rule), and the
// partitions' next owner reads the committed offsets only once the
// rebalance completes, after that commit.
type revokeReader struct {
	cg    *kafka.ConsumerGroup
	err   error // the ConsumerGroup's configuration was refused
	topic string
	// partition configures the per-partition Readers: no GroupID.
	partition kafka.ReaderConfig
	// onGeneration is told of every generation this member gets.
	onGeneration func(*kafka.Generation)

	mu sync.Mutex
	// gen is the generation being read, until the processor releases
	// it after it ended; msgs carries its records, and release ends hold.
	gen     *kafka.Generation
	genDone <-chan struct{}
	msgs    chan kafka.Message
	release chan struct{}
	// refused is set when the coordinator refused a commit of gen: the
	// group has moved on, and gen's Readers read past offsets that were
	// not committed, so none of their records are handed out any more.
	refused bool
	// closing ends hold when the instance ends.
	closing   chan struct{}
	closeOnce sync.Once
}

// newRevokeReader joins group cfg.ID as it reads. A configuration kafka-go
// refuses is FetchMessage's error.
func newRevokeReader(cfg kafka.ConsumerGroupConfig, partition kafka.ReaderConfig, onGeneration func(*kafka.Generation)) *revokeReader {
	cg, err := kafka.NewConsumerGroup(cfg)
	return &revokeReader{cg: cg, err: err, topic: cfg.Topics[0], partition: partition, onGeneration: onGeneration, closing: make(chan struct{})}
}

// current is the generation being read: its end, and its records; it
// joins the next one when there is none.
func (rr *revokeReader) current(ctx context.Context) (<-chan struct{}, chan kafka.Message, error) {
	rr.mu.Lock()
	gen, done, msgs := rr.gen, rr.genDone, rr.msgs
	if rr.refused {
		msgs = nil // a receive that never happens: wait for done
	}
	rr.mu.Unlock()
	if gen != nil {
		return done, msgs, nil
	}
	for {
		g, err := rr.cg.Next(ctx)
		switch {
		case err == nil:
			return rr.begin(g)
		case ctx.Err() != nil:
			return nil, nil, ctx.Err()
		case errors.Is(err, kafka.ErrGroupClosed):
			return nil, nil, err
		}
		// Joining failed (the coordinator is loading, the group is
		// rebalancing): the ConsumerGroup backs off and joins again,
		// as the Reader does by itself.
	}
}

// begin starts reading generation g: one Reader per partition it was
// given, from the committed offset the generation carries, and hold.
func (rr *revokeReader) begin(g *kafka.Generation) (<-chan struct{}, chan kafka.Message, error) {
	done := make(chan struct{})
	release := make(chan struct{})
	msgs := make(chan kafka.Message)
	g.Start(func(gctx context.Context) {
		<-gctx.Done()
		close(done)
		select {
		case <-release:
		case <-rr.closing:
		}
	})
	for _, a := range g.Assignments[rr.topic] {
		cfg := rr.partition
		cfg.Topic, cfg.Partition = rr.topic, a.ID
		g.Start(func(gctx context.Context) { readPartition(gctx, cfg, a.Offset, msgs) })
	}
	rr.mu.Lock()
	rr.gen, rr.genDone, rr.msgs, rr.release = g, done, msgs, release
	rr.mu.Unlock()
	if rr.onGeneration != nil {
		rr.onGeneration(g)
	}
	return done, msgs, nil
}

// readPartition hands msgs the records of one partition from offset until
// the generation ends. It returns only then: a function Started by a
// generation that returns ends the generation.
func readPartition(gctx context.Context, cfg kafka.ReaderConfig, offset int64, msgs chan<- kafka.Message) {
	rd := kafka.NewReader(cfg)
	defer rd.Close()
	if err := rd.SetOffset(offset); err != nil {
		<-gctx.Done()
		return
	}
	for {
		m, err := rd.FetchMessage(gctx)
		if err != nil {
			if gctx.Err() != nil {
				return
			}
			// A leader the Reader cannot reach yet; it keeps dialling.
			select {
			case <-gctx.Done():
				return
			case <-time.After(cfg.ReadBackoffMax):
			}
			continue
		}
		select {
		case msgs <- m:
		case <-gctx.Done():
			return
		}
	}
}

// errRevoked is FetchMessage's answer once the generation has ended: the
// processor finishes what it holds, commits it, and calls releaseIfEnded.
var errRevoked = errors.New("the group is revoking this member's partitions")

// FetchMessage returns the next record of the current generation, joining
// the next generation first if there is none. Once the generation has
// ended it returns errRevoked, and keeps the generation (and with it the
// group's rebalance) waiting until releaseIfEnded: a batch being
// collected is still credited and committed in it. Records of an ended
// generation that were fetched and not handed out are dropped: their
// partitions' next owner reads them from the committed offset.
func (rr *revokeReader) FetchMessage(ctx context.Context) (kafka.Message, error) {
	if rr.err != nil {
		return kafka.Message{}, rr.err
	}
	done, msgs, err := rr.current(ctx)
	if err != nil {
		return kafka.Message{}, err
	}
	select {
	case <-done:
		return kafka.Message{}, errRevoked
	default:
	}
	select {
	case m := <-msgs:
		return m, nil
	case <-done:
		return kafka.Message{}, errRevoked
	case <-ctx.Done():
		return kafka.Message{}, ctx.Err()
	}
}

// releaseIfEnded lets the current generation go if it has ended: hold
// returns, and the ConsumerGroup rejoins once the generation's Readers
// have stopped. The processor calls it between batches, when everything
// it credited is committed.
func (rr *revokeReader) releaseIfEnded() {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if rr.gen == nil {
		return
	}
	select {
	case <-rr.genDone:
		close(rr.release)
		rr.gen, rr.genDone, rr.msgs, rr.release, rr.refused = nil, nil, nil, nil, false
	default:
	}
}

// ended reports whether the generation the processor reads has ended:
// its partitions are being revoked, and a commit now is the revocation
// commit. It returns the generation's id.
func (rr *revokeReader) ended() (int32, bool) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if rr.gen == nil {
		return 0, false
	}
	select {
	case <-rr.genDone:
		return rr.gen.ID, true
	default:
		return rr.gen.ID, false
	}
}

// revoked is closed when the current generation ends; nil between
// generations.
func (rr *revokeReader) revoked() <-chan struct{} {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return rr.genDone
}

// CommitMessages commits, in the generation the records were fetched in,
// the offset after the last of msgs in each partition. The coordinator
// answers as it answers any member: ILLEGAL_GENERATION or
// UNKNOWN_MEMBER_ID once the group has moved on without this member.
func (rr *revokeReader) CommitMessages(ctx context.Context, msgs ...kafka.Message) error {
	rr.mu.Lock()
	gen := rr.gen
	rr.mu.Unlock()
	if gen == nil {
		return kafka.IllegalGeneration // released: the group has moved on
	}
	offsets := map[int]int64{}
	for _, m := range msgs {
		offsets[m.Partition] = max(offsets[m.Partition], m.Offset+1)
	}
	errc := make(chan error, 1)
	go func() { errc <- gen.CommitOffsets(map[string]map[int]int64{rr.topic: offsets}) }()
	select {
	case err := <-errc:
		if errors.Is(err, kafka.IllegalGeneration) || errors.Is(err, kafka.RebalanceInProgress) || errors.Is(err, kafka.UnknownMemberId) {
			rr.mu.Lock()
			if rr.gen == gen {
				rr.refused = true
			}
			rr.mu.Unlock()
		}
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close leaves the group (a LeaveGroup, unless the instance's connections
// were severed first, as in a crash) once the current generation's Readers
// have stopped.
func (rr *revokeReader) Close() error {
	if rr.err != nil {
		return nil
	}
	rr.closeOnce.Do(func() { close(rr.closing) })
	return rr.cg.Close()
}
