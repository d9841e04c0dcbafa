package clients

// The two Go clients, probed in process.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	issueKafkaGoEOS           = "https://github.com/segmentio/kafka-go/issues/233"
	issueKafkaGoReadCommitted = "https://github.com/segmentio/kafka-go/issues/1332"
)

// groupWait bounds a group consumer's wait for its first records (a join
// and a rebalance).
const groupWait = 30 * time.Second

func probeKafkaGo(e *probeEnv) map[string]Cell {
	e.client = Client{ID: "kafka-go", Name: "kafka-go", Language: "Go", Version: moduleVersion("github.com/segmentio/kafka-go")}
	ctx := e.t.Context()
	cells := map[string]Cell{}

	// Idempotent producer: kafka.Writer has no option for it; write with
	// the strongest it offers (acks=all) and look at the records.
	w := &kafka.Writer{Addr: kafka.TCP(e.addr), Topic: e.topic(topicIdem), RequiredAcks: kafka.RequireAll, BatchTimeout: 10 * time.Millisecond}
	var msgs []kafka.Message
	for i := range idemRecords {
		msgs = append(msgs, kafka.Message{Key: fmt.Appendf(nil, "k-%d", i), Value: []byte("v")})
	}
	werr := w.WriteMessages(ctx, msgs...)
	w.Close()
	cells["idempotent-producer"] = e.checkIdempotent("kafka.Writer{RequiredAcks: RequireAll} (it has no idempotence option)", errString(werr), issueKafkaGoEOS)

	// Transactional producer: the low-level InitProducerID answers, but
	// neither Writer nor Client.Produce sends a producer id or a
	// transactional id, so no record can be written in the transaction.
	cl := &kafka.Client{Addr: kafka.TCP(e.addr), Timeout: 20 * time.Second}
	init, err := cl.InitProducerID(ctx, &kafka.InitProducerIDRequest{TransactionalID: e.txnID("txn"), TransactionTimeoutMs: 30000, ProducerID: -1, ProducerEpoch: -1})
	if err == nil && init.Error != nil {
		err = init.Error
	}
	if err != nil {
		cells["transactional-producer"] = e.failed("InitProducerID: "+err.Error(), issueKafkaGoEOS)
	} else {
		cells["transactional-producer"] = Cell{OK: no(), Value: "no (low-level calls only)", Link: issueKafkaGoEOS,
			Evidence: "Client.InitProducerID with a transactional.id answers, but Writer and Client.Produce carry no producer id or transactional.id: records cannot join the transaction"}
	}

	// read_committed: a partition Reader with IsolationLevel ReadCommitted
	// reads the fixture until nothing more comes.
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{e.addr}, Topic: e.topic(topicRC), Partition: 0,
		IsolationLevel: kafka.ReadCommitted, MaxWait: 200 * time.Millisecond})
	var got []string
	for {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		m, err := r.ReadMessage(rctx)
		cancel()
		if err != nil {
			break
		}
		k := string(m.Key)
		switch {
		case k == "":
			k = "<empty>"
		case !printable(k):
			k = "<control>" // a transaction marker's binary key
		}
		got = append(got, k)
	}
	r.Close()
	cells["read-committed"] = e.readCommittedCell(got, "", issueKafkaGoReadCommitted)

	// Offsets in a transaction (KIP-447): the low-level calls commit the
	// offsets, but the outputs cannot be written in the same transaction.
	cells["txn-offset-commit"] = e.checkTxnOffsetCommit(
		"InitProducerID, AddOffsetsToTxn, TxnOffsetCommit(offset 3), EndTxn(commit) by hand; the outputs cannot be written transactionally",
		errString(kafkaGoTxnOffsets(ctx, e, cl)), issueKafkaGoEOS)

	// KIP-848: ReaderConfig has no group protocol option; a group Reader
	// joins with the classic protocol.
	gr := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{e.addr}, Topic: e.topic(topicIn), GroupID: e.group("kip-848"),
		StartOffset: kafka.FirstOffset, MaxWait: 200 * time.Millisecond, HeartbeatInterval: 500 * time.Millisecond})
	gctx, cancel := context.WithTimeout(ctx, groupWait)
	_, rerr := gr.ReadMessage(gctx)
	cancel()
	gr.Close()
	read := 1
	if rerr != nil {
		read = 0
	}
	cells["kip-848"] = e.checkKIP848("ReaderConfig has no group protocol option; a Reader with GroupID", read, errString(rerr), "")

	// Defaults: a zero Writer, as its Stats report it.
	st := (&kafka.Writer{}).Stats()
	cells["acks"] = acksCell(fmt.Sprint(st.RequiredAcks), "kafka.Writer{}.Stats().RequiredAcks")
	cells["retries"] = Cell{OK: new(st.MaxAttempts > 1), Value: fmt.Sprintf("%d attempts", st.MaxAttempts),
		Evidence: fmt.Sprintf("kafka.Writer{}.Stats().MaxAttempts = %d", st.MaxAttempts)}
	idem := "on"
	if !*cells["idempotent-producer"].OK {
		idem = "producer id -1 on each: no idempotence"
	}
	cells["idempotence"] = Cell{OK: no(), Value: "off (no option)", Link: issueKafkaGoEOS,
		Evidence: "kafka.Writer has no idempotence option; the records of the idempotent-producer probe: " + idem}

	// Auto-commit: a group Reader's ReadMessage commits by itself; read
	// one record and look at the group's offset before closing.
	ar := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{e.addr}, Topic: e.topic(topicIn), GroupID: e.group("auto-commit"),
		StartOffset: kafka.FirstOffset, MaxWait: 200 * time.Millisecond, HeartbeatInterval: 500 * time.Millisecond})
	actx, cancel := context.WithTimeout(ctx, groupWait)
	_, aerr := ar.ReadMessage(actx)
	cancel()
	off := e.committedOffset(e.group("auto-commit"), e.topic(topicIn))
	cfg := ar.Config()
	ar.Close()
	if aerr != nil {
		cells["auto-commit"] = e.failed("ReadMessage: "+aerr.Error(), "")
	} else {
		cells["auto-commit"] = Cell{OK: new(off < 0), Value: map[bool]string{true: "on", false: "off"}[off >= 0],
			Evidence: fmt.Sprintf("a Reader with GroupID, one ReadMessage and no commit call: the group's committed offset is %d", off)}
	}
	cells["auto-commit-interval"] = intervalCell(fmt.Sprintf("%v (synchronous)", cfg.CommitInterval),
		fmt.Sprintf("Reader.Config().CommitInterval = %v: ReadMessage commits each message before it returns", cfg.CommitInterval))
	iso := "read_uncommitted"
	if cfg.IsolationLevel == kafka.ReadCommitted {
		iso = "read_committed"
	}
	cells["isolation-level"] = isolationCell(iso, fmt.Sprintf("Reader.Config().IsolationLevel (%d)", cfg.IsolationLevel))
	return cells
}

// kafkaGoTxnOffsets commits the group txn-offsets' offset 3 on the input
// inside a transaction, with kafka-go's low-level calls.
func kafkaGoTxnOffsets(ctx context.Context, e *probeEnv, cl *kafka.Client) error {
	txid, group := e.txnID("txn-offsets"), e.group("txn-offsets")
	init, err := cl.InitProducerID(ctx, &kafka.InitProducerIDRequest{TransactionalID: txid, TransactionTimeoutMs: 30000, ProducerID: -1, ProducerEpoch: -1})
	if err == nil {
		err = init.Error
	}
	if err != nil {
		return fmt.Errorf("InitProducerID: %w", err)
	}
	pid, epoch := init.Producer.ProducerID, init.Producer.ProducerEpoch
	add, err := cl.AddOffsetsToTxn(ctx, &kafka.AddOffsetsToTxnRequest{TransactionalID: txid, ProducerID: pid, ProducerEpoch: epoch, GroupID: group})
	if err == nil {
		err = add.Error
	}
	if err != nil {
		return fmt.Errorf("AddOffsetsToTxn: %w", err)
	}
	commit, err := cl.TxnOffsetCommit(ctx, &kafka.TxnOffsetCommitRequest{TransactionalID: txid, GroupID: group,
		ProducerID: pid, ProducerEpoch: epoch, GenerationID: -1,
		Topics: map[string][]kafka.TxnOffsetCommit{e.topic(topicIn): {{Partition: 0, Offset: 3}}}})
	if err != nil {
		return fmt.Errorf("TxnOffsetCommit: %w", err)
	}
	for _, ps := range commit.Topics {
		for _, p := range ps {
			if p.Error != nil {
				return fmt.Errorf("TxnOffsetCommit: %w", p.Error)
			}
		}
	}
	end, err := cl.EndTxn(ctx, &kafka.EndTxnRequest{TransactionalID: txid, ProducerID: pid, ProducerEpoch: epoch, Committed: true})
	if err == nil {
		err = end.Error
	}
	if err != nil {
		return fmt.Errorf("EndTxn: %w", err)
	}
	return nil
}

func probeFranzGo(e *probeEnv) map[string]Cell {
	e.client = Client{ID: "franz-go", Name: "franz-go (kgo)", Language: "Go", Version: moduleVersion("github.com/twmb/franz-go")}
	ctx := e.t.Context()
	cells := map[string]Cell{}

	// Idempotent producer: a client with the defaults.
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.DefaultProduceTopic(e.topic(topicIdem)))
	if err != nil {
		e.t.Fatal(err)
	}
	var perr error
	for i := range idemRecords {
		perr = errors.Join(perr, cl.ProduceSync(ctx, &kgo.Record{Key: fmt.Appendf(nil, "k-%d", i), Value: []byte("v")}).FirstErr())
	}
	cells["idempotent-producer"] = e.checkIdempotent("kgo.NewClient defaults", errString(perr), "")

	// Defaults, as the running client reports them (OptValue).
	acks := "?"
	switch cl.OptValue(kgo.RequiredAcks) {
	case kgo.AllISRAcks():
		acks = "all"
	case kgo.LeaderAck():
		acks = "1"
	case kgo.NoAck():
		acks = "0"
	}
	cells["acks"] = acksCell(acks, "Client.OptValue(kgo.RequiredAcks)")
	retries := fmt.Sprint(cl.OptValue(kgo.RecordRetries))
	if retries == fmt.Sprint(math.MaxInt64) {
		retries = "9223372036854775807"
	}
	cells["retries"] = retriesCell(retries, "Client.OptValue(kgo.RecordRetries)")
	disabled, _ := cl.OptValue(kgo.DisableIdempotentWrite).(bool)
	cells["idempotence"] = boolCell(fmt.Sprint(!disabled), "!Client.OptValue(kgo.DisableIdempotentWrite)", true)
	cl.Close()

	gcl, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.ConsumerGroup(e.group("defaults")), kgo.ConsumeTopics(e.topic(topicIn)))
	if err != nil {
		e.t.Fatal(err)
	}
	noAuto, _ := gcl.OptValue(kgo.DisableAutoCommit).(bool)
	cells["auto-commit"] = boolCell(fmt.Sprint(!noAuto), "a group client: !Client.OptValue(kgo.DisableAutoCommit)", false)
	cells["auto-commit-interval"] = intervalCell(fmt.Sprint(gcl.OptValue(kgo.AutoCommitInterval)), "Client.OptValue(kgo.AutoCommitInterval)")
	iso := "read_uncommitted"
	if gcl.OptValue(kgo.FetchIsolationLevel) == kgo.ReadCommitted() {
		iso = "read_committed"
	}
	cells["isolation-level"] = isolationCell(iso, "Client.OptValue(kgo.FetchIsolationLevel)")
	gcl.Close()

	// Transactional producer.
	cells["transactional-producer"] = e.checkTransactional(errString(franzGoTransactions(ctx, e)), "")

	// read_committed.
	got, _ := e.read(e.topic(topicRC), true)
	cells["read-committed"] = e.readCommittedCell(got, "", "")

	// Offsets in a transaction: a GroupTransactSession.
	cells["txn-offset-commit"] = e.checkTxnOffsetCommit("kgo.GroupTransactSession: poll, produce, End(TryCommit)",
		errString(franzGoConsumeTransformProduce(ctx, e)), "")

	// KIP-848: ServerSideBalancer.
	n, kerr := franzGoKIP848(ctx, e)
	cells["kip-848"] = e.checkKIP848("kgo.ServerSideBalancer()", n, errString(kerr), "")
	return cells
}

func franzGoTransactions(ctx context.Context, e *probeEnv) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.TransactionalID(e.txnID("txn")), kgo.DefaultProduceTopic(e.topic(topicTxn)))
	if err != nil {
		return err
	}
	defer cl.Close()
	for _, txn := range []struct {
		keys []string
		end  kgo.TransactionEndTry
	}{{abortedKeys, kgo.TryAbort}, {committedKeys, kgo.TryCommit}} {
		if err := cl.BeginTransaction(); err != nil {
			return err
		}
		for _, k := range txn.keys {
			if err := cl.ProduceSync(ctx, &kgo.Record{Key: []byte(k), Value: []byte(k)}).FirstErr(); err != nil {
				return err
			}
		}
		if err := cl.EndTransaction(ctx, txn.end); err != nil {
			return err
		}
	}
	return nil
}

func franzGoConsumeTransformProduce(ctx context.Context, e *probeEnv) error {
	s, err := kgo.NewGroupTransactSession(kgo.SeedBrokers(e.addr), kgo.TransactionalID(e.txnID("txn-offsets")),
		kgo.ConsumerGroup(e.group("txn-offsets")), kgo.ConsumeTopics(e.topic(topicIn)),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.DefaultProduceTopic(e.topic(topicOut)))
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Begin(); err != nil {
		return err
	}
	var in []*kgo.Record
	pctx, cancel := context.WithTimeout(ctx, groupWait)
	defer cancel()
	for len(in) < len(inputKeys) && pctx.Err() == nil {
		fs := s.PollFetches(pctx)
		fs.EachRecord(func(r *kgo.Record) { in = append(in, r) })
	}
	if len(in) < len(inputKeys) {
		return fmt.Errorf("read %d of %d input records within %v", len(in), len(inputKeys), groupWait)
	}
	for _, r := range in {
		out := "o-" + string(r.Key)[2:]
		if err := s.ProduceSync(ctx, &kgo.Record{Key: []byte(out), Value: r.Value}).FirstErr(); err != nil {
			return err
		}
	}
	committed, err := s.End(ctx, kgo.TryCommit)
	if err == nil && !committed {
		err = errors.New("End(TryCommit) did not commit")
	}
	return err
}

func franzGoKIP848(ctx context.Context, e *probeEnv) (int, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.ConsumerGroup(e.group("kip-848")), kgo.ConsumeTopics(e.topic(topicIn)),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.ServerSideBalancer())
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	pctx, cancel := context.WithTimeout(ctx, groupWait)
	defer cancel()
	n := 0
	for n == 0 && pctx.Err() == nil {
		n += cl.PollFetches(pctx).NumRecords()
	}
	if n == 0 {
		return 0, fmt.Errorf("no record within %v", groupWait)
	}
	return n, nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			return false
		}
	}
	return true
}
