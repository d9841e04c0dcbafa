package lessons

// The lines that configure a custom run's pipeline in each client library
// (the sandbox's "the same settings in your client"), generated from the
// settings. TestClientLines compiles the Go, Python and Java.

import (
	"fmt"
	"strings"
)

// ClientLines is one library's configuration of a sandbox pipeline.
type ClientLines struct {
	Client string `json:"client"` // kafka-go, franz-go, kafka-python, java
	Lang   string `json:"lang"`   // go, python, java
	// Code is a sequence of statements: the producer of deposits and the
	// processor's consumer, the settings' lines commented with their knob.
	Code string `json:"code"`
}

// Lines generates every library's lines for s, in the sandbox's order.
func Lines(s Settings) []ClientLines {
	return []ClientLines{
		{"kafka-go", "go", KafkaGoLines(s)},
		{"franz-go", "go", FranzGoLines(s)},
		{"kafka-python", "python", KafkaPythonLines(s)},
		{"java", "java", JavaLines(s)},
	}
}

// lineWriter collects lines with one indent level per tab.
type lineWriter struct{ b strings.Builder }

func (w *lineWriter) f(format string, args ...any) { fmt.Fprintf(&w.b, format+"\n", args...) }

// KafkaGoLines configures s with github.com/segmentio/kafka-go. kafka-go
// has no idempotent or transactional producer and no transactional
// consumer: those lines say so instead.
func KafkaGoLines(s Settings) string {
	var w lineWriter
	acks := map[Acks]string{AcksNone: "kafka.RequireNone", AcksLeader: "kafka.RequireOne", AcksAll: "kafka.RequireAll"}[s.Acks]
	if s.Idempotent || s.Transactional {
		w.f("// kafka-go has no idempotent or transactional producer: this writer")
		w.f("// resends without a producer id. The lab runs franz-go for these settings.")
	}
	w.f("w := &kafka.Writer{")
	w.f("\tAddr:         kafka.TCP(\"localhost:9092\"),")
	w.f("\tTopic:        \"deposits\",")
	w.f("\tRequiredAcks: %s, // acks=%s", acks, s.Acks)
	w.f("\tMaxAttempts:  %d, // retries=%d: the first try counts", s.Retries+1, s.Retries)
	w.f("}")
	w.f("defer w.Close()")
	if s.CommitOnRevoke {
		kafkaGoGenerations(&w, s)
		return w.b.String()
	}
	w.f("r := kafka.NewReader(kafka.ReaderConfig{")
	w.f("\tBrokers: []string{\"localhost:9092\"},")
	w.f("\tGroupID: \"processor\",")
	w.f("\tTopic:   \"deposits\",")
	if s.Isolation == ReadCommitted {
		w.f("\tIsolationLevel: kafka.ReadCommitted,")
	} else {
		w.f("\tIsolationLevel: kafka.ReadUncommitted,")
	}
	if s.Commit == CommitAuto {
		w.f("\t// auto: CommitMessages hands offsets to a committer that runs every %d ms", s.AutoCommitMs)
		w.f("\tCommitInterval: %d * time.Millisecond,", s.AutoCommitMs)
	}
	w.f("})")
	w.f("defer r.Close()")
	kafkaGoLoop(&w, s)
	return w.b.String()
}

// kafkaGoGenerations is commit_on_revoke in kafka-go: its Reader has no
// revocation callback, so the lines use the ConsumerGroup below it. The
// group does not rejoin until every function a Generation Started has
// returned, and a function's ctx ends when the generation does: the
// deferred commit is sent in the ending generation, before the partition
// moves.
func kafkaGoGenerations(w *lineWriter, s Settings) {
	iso := "kafka.ReadUncommitted"
	if s.Isolation == ReadCommitted {
		iso = "kafka.ReadCommitted"
	}
	w.f("group, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{")
	w.f("	ID:      \"processor\",")
	w.f("	Brokers: []string{\"localhost:9092\"},")
	w.f("	Topics:  []string{\"deposits\"},")
	w.f("})")
	w.f("if err != nil {")
	w.f("	return err")
	w.f("}")
	w.f("defer group.Close()")
	w.f("for {")
	w.f("	gen, err := group.Next(ctx)")
	w.f("	if err != nil {")
	w.f("		return err")
	w.f("	}")
	w.f("	for _, a := range gen.Assignments[\"deposits\"] {")
	w.f("		gen.Start(func(genCtx context.Context) { // genCtx ends when the group revokes the partition")
	w.f("			r := kafka.NewReader(kafka.ReaderConfig{")
	w.f("				Brokers:        []string{\"localhost:9092\"},")
	w.f("				Topic:          \"deposits\",")
	w.f("				Partition:      a.ID,")
	w.f("				IsolationLevel: %s,", iso)
	w.f("			})")
	w.f("			defer r.Close()")
	w.f("			if err := r.SetOffset(a.Offset); err != nil {")
	w.f("				return")
	w.f("			}")
	w.f("			next := a.Offset")
	w.f("			defer func() { // commit_on_revoke: what was credited, before the partition moves")
	w.f("				if next >= 0 {")
	w.f("					_ = gen.CommitOffsets(map[string]map[int]int64{\"deposits\": {a.ID: next}})")
	w.f("				}")
	w.f("			}()")
	w.f("			for {")
	w.f("				m, err := r.FetchMessage(genCtx)")
	w.f("				if err != nil {")
	w.f("					return // the generation ended: the partition is being revoked")
	w.f("				}")
	if s.Dedup {
		w.f("				if !credited[string(m.Key)] { // dedup: a deposit already in the ledger is skipped")
		w.f("					credited[string(m.Key)] = true")
		w.f("					if err := credit(ctx, m); err != nil {")
		w.f("						return")
		w.f("					}")
		w.f("				}")
	} else {
		w.f("				if err := credit(ctx, m); err != nil {")
		w.f("					return")
		w.f("				}")
	}
	w.f("				next = m.Offset + 1")
	w.f("				if err := gen.CommitOffsets(map[string]map[int]int64{\"deposits\": {a.ID: next}}); err != nil { // commit after processing")
	w.f("					return")
	w.f("				}")
	w.f("			}")
	w.f("		})")
	w.f("	}")
	w.f("}")
}

func kafkaGoLoop(w *lineWriter, s Settings) {
	w.f("for {")
	w.f("\tm, err := r.FetchMessage(ctx)")
	w.f("\tif err != nil {")
	w.f("\t\treturn err")
	w.f("\t}")
	switch s.Commit {
	case CommitBefore:
		w.f("\tif err := r.CommitMessages(ctx, m); err != nil { // commit before processing")
		w.f("\t\treturn err")
		w.f("\t}")
		kafkaGoCredit(w, s)
	case CommitInTransaction:
		w.f("\t// commit=transaction: kafka-go cannot send offsets to a transaction;")
		w.f("\t// the lab runs franz-go's GroupTransactSession for it.")
		kafkaGoCredit(w, s)
	default:
		kafkaGoCredit(w, s)
		w.f("\tif err := r.CommitMessages(ctx, m); err != nil { // commit after processing")
		w.f("\t\treturn err")
		w.f("\t}")
	}
	w.f("}")
}

func kafkaGoCredit(w *lineWriter, s Settings) {
	if s.Dedup {
		w.f("\tif credited[string(m.Key)] { // dedup: a deposit already in the ledger")
		w.f("\t\tcontinue")
		w.f("\t}")
		w.f("\tcredited[string(m.Key)] = true")
	}
	w.f("\tif err := credit(ctx, m); err != nil {")
	w.f("\t\treturn err")
	w.f("\t}")
}

// FranzGoLines configures s with github.com/twmb/franz-go/pkg/kgo.
func FranzGoLines(s Settings) string {
	var w lineWriter
	acks := map[Acks]string{AcksNone: "kgo.NoAck()", AcksLeader: "kgo.LeaderAck()", AcksAll: "kgo.AllISRAcks()"}[s.Acks]
	w.f("producer, err := kgo.NewClient(")
	w.f("\tkgo.SeedBrokers(\"localhost:9092\"),")
	w.f("\tkgo.DefaultProduceTopic(\"deposits\"),")
	w.f("\tkgo.RequiredAcks(%s), // acks=%s", acks, s.Acks)
	w.f("\tkgo.RecordRetries(%d), // retries=%d", s.Retries, s.Retries)
	if !s.Idempotent {
		w.f("\tkgo.DisableIdempotentWrite(), // idempotent=false")
		w.f("\tkgo.MaxProduceRequestsInflightPerBroker(%d), // max_in_flight=%d", s.MaxInFlight, s.MaxInFlight)
	} else {
		w.f("\t// idempotent=true is franz-go's default; it keeps up to 5 requests in flight")
	}
	if s.Transactional {
		w.f("\tkgo.TransactionalID(\"producer-1\"), // transactional=true")
	}
	w.f(")")
	w.f("if err != nil {")
	w.f("\treturn err")
	w.f("}")
	w.f("defer producer.Close()")
	opts := []string{
		"kgo.SeedBrokers(\"localhost:9092\")",
		"kgo.ConsumerGroup(\"processor\")",
		"kgo.ConsumeTopics(\"deposits\")",
		"kgo.DefaultProduceTopic(\"ledger\")",
	}
	if s.Isolation == ReadCommitted {
		opts = append(opts, "kgo.FetchIsolationLevel(kgo.ReadCommitted())")
	} else {
		opts = append(opts, "kgo.FetchIsolationLevel(kgo.ReadUncommitted())")
	}
	switch s.Commit {
	case CommitInTransaction:
		opts = append(opts, "kgo.TransactionalID(\"processor-1\")")
		w.f("// commit=transaction: credits and offsets in one transaction")
		w.f("processor, err := kgo.NewGroupTransactSession(")
	case CommitAuto:
		opts = append(opts, fmt.Sprintf("kgo.AutoCommitInterval(%d * time.Millisecond)", s.AutoCommitMs), "kgo.AutoCommitMarks()")
		w.f("processor, err := kgo.NewClient(")
	default:
		opts = append(opts, "kgo.DisableAutoCommit()")
		w.f("processor, err := kgo.NewClient(")
	}
	for _, o := range opts {
		w.f("\t%s,", o)
	}
	if s.CommitOnRevoke {
		// Without BlockRebalanceOnPoll the callback can run while a poll's
		// records are half credited, and CommitUncommittedOffsets commits
		// every polled record: the rest would be lost.
		w.f("\tkgo.BlockRebalanceOnPoll(), // the group waits for AllowRebalance: a poll's records are credited first")
		w.f("\tkgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, _ map[string][]int32) {")
		w.f("\t\t_ = cl.CommitUncommittedOffsets(ctx) // commit_on_revoke: what was credited, before the partitions move")
		w.f("\t}),")
	}
	w.f(")")
	w.f("if err != nil {")
	w.f("\treturn err")
	w.f("}")
	w.f("defer processor.Close()")
	franzGoLoop(&w, s)
	return w.b.String()
}

func franzGoLoop(w *lineWriter, s Settings) {
	w.f("for {")
	w.f("\tfetches := processor.PollFetches(ctx)")
	w.f("\tif err := fetches.Err0(); err != nil {")
	w.f("\t\treturn err")
	w.f("\t}")
	w.f("\trecs := fetches.Records()")
	credit := func() {
		w.f("\tfor _, rec := range recs {")
		if s.Dedup {
			w.f("\t\tif credited[string(rec.Key)] { // dedup: a deposit already in the ledger")
			w.f("\t\t\tcontinue")
			w.f("\t\t}")
			w.f("\t\tcredited[string(rec.Key)] = true")
		}
		if s.Commit == CommitInTransaction {
			w.f("\t\tprocessor.Produce(ctx, creditOf(rec), nil)")
		} else {
			w.f("\t\tif err := processor.ProduceSync(ctx, creditOf(rec)).FirstErr(); err != nil {")
			w.f("\t\t\treturn err")
			w.f("\t\t}")
		}
		w.f("\t}")
	}
	switch s.Commit {
	case CommitBefore:
		w.f("\tif err := processor.CommitRecords(ctx, recs...); err != nil { // commit before processing")
		w.f("\t\treturn err")
		w.f("\t}")
		credit()
	case CommitAfter:
		credit()
		w.f("\tif err := processor.CommitRecords(ctx, recs...); err != nil { // commit after processing")
		w.f("\t\treturn err")
		w.f("\t}")
		if s.CommitOnRevoke {
			w.f("\tprocessor.AllowRebalance()")
		}
	case CommitAuto:
		credit()
		w.f("\tprocessor.MarkCommitRecords(recs...) // the timer commits what is marked")
	case CommitInTransaction:
		w.f("\tif err := processor.Begin(); err != nil {")
		w.f("\t\treturn err")
		w.f("\t}")
		credit()
		w.f("\tif _, err := processor.End(ctx, kgo.TryCommit); err != nil {")
		w.f("\t\treturn err")
		w.f("\t}")
	}
	w.f("}")
}

// KafkaPythonLines configures s with kafka-python 3.
func KafkaPythonLines(s Settings) string {
	var w lineWriter
	acks := map[Acks]string{AcksNone: "0", AcksLeader: "1", AcksAll: "'all'"}[s.Acks]
	w.f("producer = KafkaProducer(")
	w.f("    bootstrap_servers='localhost:9092',")
	w.f("    acks=%s,", acks)
	w.f("    retries=%d,", s.Retries)
	w.f("    enable_idempotence=%s,", pyBool(s.Idempotent))
	w.f("    max_in_flight_requests_per_connection=%d,", s.MaxInFlight)
	if s.Transactional {
		w.f("    transactional_id='producer-1',")
	}
	w.f(")")
	if s.Transactional {
		w.f("producer.init_transactions()")
	}
	w.f("consumer = KafkaConsumer(")
	if !s.CommitOnRevoke {
		w.f("    'deposits',")
	}
	w.f("    bootstrap_servers='localhost:9092',")
	w.f("    group_id='processor',")
	w.f("    isolation_level='%s',", s.Isolation)
	if s.Commit == CommitAuto {
		w.f("    enable_auto_commit=True,")
		w.f("    auto_commit_interval_ms=%d,", s.AutoCommitMs)
	} else {
		w.f("    enable_auto_commit=False,")
	}
	w.f(")")
	if s.Commit == CommitInTransaction {
		w.f("ledger = KafkaProducer(bootstrap_servers='localhost:9092', transactional_id='processor-1')")
		w.f("ledger.init_transactions()")
	} else {
		w.f("ledger = KafkaProducer(bootstrap_servers='localhost:9092')")
	}
	if s.CommitOnRevoke {
		// The iterator polls, and so rebalances, only once the message it
		// returned last was credited: commit() commits exactly those.
		w.f("class CommitOnRevoke(ConsumerRebalanceListener):  # commit_on_revoke")
		w.f("    def on_partitions_revoked(self, revoked):")
		w.f("        ledger.flush()")
		w.f("        consumer.commit()  # what was credited, before the partitions move")
		w.f("")
		w.f("    def on_partitions_assigned(self, assigned):")
		w.f("        pass")
		w.f("consumer.subscribe(['deposits'], listener=CommitOnRevoke())")
	}
	w.f("for message in consumer:")
	credit := func() {
		if s.Dedup {
			w.f("    if message.key in credited:  # dedup: a deposit already in the ledger")
			w.f("        continue")
			w.f("    credited.add(message.key)")
		}
		w.f("    ledger.send('ledger', key=message.key, value=credit_of(message))")
	}
	switch s.Commit {
	case CommitBefore:
		w.f("    consumer.commit()  # commit before processing")
		credit()
	case CommitAfter:
		credit()
		w.f("    ledger.flush()")
		w.f("    consumer.commit()  # commit after processing")
	case CommitAuto:
		credit()
	case CommitInTransaction:
		w.f("    ledger.begin_transaction()")
		credit()
		w.f("    offsets = {TopicPartition(message.topic, message.partition): OffsetAndMetadata(message.offset + 1, '', -1)}")
		w.f("    ledger.send_offsets_to_transaction(offsets, consumer.group_metadata())")
		w.f("    ledger.commit_transaction()")
	}
	return w.b.String()
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// JavaLines configures s with the Apache Kafka Java client.
func JavaLines(s Settings) string {
	var w lineWriter
	w.f("Properties p = new Properties();")
	w.f("p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, \"localhost:9092\");")
	w.f("p.put(ProducerConfig.ACKS_CONFIG, \"%s\");", s.Acks)
	w.f("p.put(ProducerConfig.RETRIES_CONFIG, %d);", s.Retries)
	w.f("p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, %t);", s.Idempotent)
	w.f("p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, %d);", s.MaxInFlight)
	if s.Transactional {
		w.f("p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, \"producer-1\");")
	}
	w.f("KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());")
	if s.Transactional {
		w.f("producer.initTransactions();")
	}
	w.f("Properties c = new Properties();")
	w.f("c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, \"localhost:9092\");")
	w.f("c.put(ConsumerConfig.GROUP_ID_CONFIG, \"processor\");")
	w.f("c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, \"%s\");", s.Isolation)
	w.f("c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, %t);", s.Commit == CommitAuto)
	if s.Commit == CommitAuto {
		w.f("c.put(ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG, %d);", s.AutoCommitMs)
	}
	w.f("KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer());")
	if !s.CommitOnRevoke {
		w.f("consumer.subscribe(List.of(\"deposits\"));")
	}
	w.f("Properties l = new Properties();")
	w.f("l.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, \"localhost:9092\");")
	if s.Commit == CommitInTransaction {
		w.f("l.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, \"processor-1\");")
	}
	w.f("KafkaProducer<String, String> ledger = new KafkaProducer<>(l, new StringSerializer(), new StringSerializer());")
	if s.Commit == CommitInTransaction {
		w.f("ledger.initTransactions();")
	}
	if s.CommitOnRevoke {
		// poll() runs the callback, so the records it returned last
		// were credited: commitSync() commits exactly those.
		w.f("consumer.subscribe(List.of(\"deposits\"), new ConsumerRebalanceListener() { // commit_on_revoke")
		w.f("    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {")
		w.f("        ledger.flush();")
		w.f("        consumer.commitSync(); // what was credited, before the partitions move")
		w.f("    }")
		w.f("")
		w.f("    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {}")
		w.f("});")
	}
	w.f("while (true) {")
	w.f("    ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(100));")
	credit := func() {
		w.f("    for (ConsumerRecord<String, String> r : records) {")
		if s.Dedup {
			w.f("        if (!credited.add(r.key())) continue; // dedup: a deposit already in the ledger")
		}
		w.f("        ledger.send(new ProducerRecord<>(\"ledger\", r.key(), creditOf(r)));")
		w.f("    }")
	}
	switch s.Commit {
	case CommitBefore:
		w.f("    consumer.commitSync(); // commit before processing")
		credit()
	case CommitAfter:
		credit()
		w.f("    ledger.flush();")
		w.f("    consumer.commitSync(); // commit after processing")
	case CommitAuto:
		credit()
	case CommitInTransaction:
		w.f("    ledger.beginTransaction();")
		credit()
		w.f("    ledger.sendOffsetsToTransaction(nextOffsets(records), consumer.groupMetadata());")
		w.f("    ledger.commitTransaction();")
	}
	w.f("}")
	return w.b.String()
}
