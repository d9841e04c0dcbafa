package clients

// What every client's probes share: the topics and fixtures the Go side
// sets up, the reference reads (franz-go and kadm) that check what a client
// did, and the cells built from them. A client's probe does the thing; the
// broker's state, read back here, says whether it worked.

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons/broker"
)

// probeEnv is one client's probe run: its own topics and groups under
// prefix, on broker b.
type probeEnv struct {
	t      *testing.T
	id     string
	b      *broker.Broker
	addr   string
	prefix string
	client Client
}

// The topics of one client's probes, each with one partition.
const (
	topicIdem = "idem" // the client writes n records with idempotence on
	topicTxn  = "txn"  // the client writes 3 aborted, then 3 committed records
	topicRC   = "rc"   // fixture: 3 aborted, then 3 committed (franz-go); the client reads read_committed
	topicIn   = "in"   // fixture: 3 plain records, the input of consume-transform-produce and of the KIP-848 consumer
	topicOut  = "out"  // the client's transactional output
)

// idemRecords is how many records the idempotence probe writes.
const idemRecords = 5

var (
	committedKeys = []string{"c-0", "c-1", "c-2"}
	abortedKeys   = []string{"a-0", "a-1", "a-2"}
	inputKeys     = []string{"i-0", "i-1", "i-2"}
)

func newProbeEnv(t *testing.T, b *broker.Broker, id string) *probeEnv {
	e := &probeEnv{t: t, id: id, b: b, addr: strings.Join(b.Addrs(), ","),
		prefix: fmt.Sprintf("clients.%s.%d", id, time.Now().UnixNano())}
	var topics []string
	for _, s := range []string{topicIdem, topicTxn, topicRC, topicIn, topicOut} {
		topics = append(topics, e.topic(s))
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = b.DeleteTopics(ctx, topics...)
	})
	if err := b.CreateTopics(t.Context(), topics...); err != nil {
		t.Fatal(err)
	}
	e.writeTxnFixture()
	e.produce(e.topic(topicIn), inputKeys...)
	return e
}

func (e *probeEnv) topic(s string) string { return e.prefix + "." + s }
func (e *probeEnv) group(s string) string { return e.prefix + ".group." + s }
func (e *probeEnv) txnID(s string) string { return e.prefix + ".txid." + s }

// sanitize replaces the run's own names in a message, so evidence compares
// across runs.
func (e *probeEnv) sanitize(s string) string {
	s = strings.ReplaceAll(s, e.prefix, "<prefix>")
	return strings.Join(strings.Fields(s), " ")
}

// writeTxnFixture writes the read_committed probes' topic with franz-go:
// a transaction of a-0..a-2 aborted, then one of c-0..c-2 committed. The
// log holds 8 offsets: 6 records and 2 markers.
func (e *probeEnv) writeTxnFixture() {
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.TransactionalID(e.txnID("fixture")),
		kgo.DefaultProduceTopic(e.topic(topicRC)))
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	ctx := e.t.Context()
	for _, txn := range []struct {
		keys   []string
		commit kgo.TransactionEndTry
	}{{abortedKeys, kgo.TryAbort}, {committedKeys, kgo.TryCommit}} {
		if err := cl.BeginTransaction(); err != nil {
			e.t.Fatal(err)
		}
		for _, k := range txn.keys {
			if err := cl.ProduceSync(ctx, &kgo.Record{Key: []byte(k), Value: []byte(k)}).FirstErr(); err != nil {
				e.t.Fatal(err)
			}
		}
		if err := cl.EndTransaction(ctx, txn.commit); err != nil {
			e.t.Fatal(err)
		}
	}
}

// produce writes plain records with the given keys.
func (e *probeEnv) produce(topic string, keys ...string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.DefaultProduceTopic(topic))
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	for _, k := range keys {
		if err := cl.ProduceSync(e.t.Context(), &kgo.Record{Key: []byte(k), Value: []byte(k)}).FirstErr(); err != nil {
			e.t.Fatal(err)
		}
	}
}

// read is the reference read of a topic's partition 0 from the start:
// the keys (records without a key are listed by their value), and the
// producer id of each record.
func (e *probeEnv) read(topic string, committed bool) (keys []string, pids []int64) {
	iso := kgo.ReadUncommitted()
	if committed {
		iso = kgo.ReadCommitted()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.FetchIsolationLevel(iso),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	// Until nothing more comes for a second.
	for {
		ctx, cancel := context.WithTimeout(e.t.Context(), time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		n := 0
		fs.EachRecord(func(r *kgo.Record) {
			n++
			k := string(r.Key)
			if k == "" {
				k = string(r.Value)
			}
			keys = append(keys, k)
			pids = append(pids, r.ProducerID)
		})
		if n == 0 {
			return keys, pids
		}
	}
}

// committedOffset is group's committed offset on topic's partition 0, or -1.
func (e *probeEnv) committedOffset(group, topic string) int64 {
	os, err := e.b.Admin().FetchOffsets(e.t.Context(), group)
	if err != nil {
		e.t.Fatal(err)
	}
	if o, ok := os.Lookup(topic, 0); ok && o.Err == nil {
		return o.At
	}
	return -1
}

// groupType is the group's type as ListGroups reports it: classic or
// consumer (KIP-848).
func (e *probeEnv) groupType(group string) string {
	gs, err := e.b.Admin().ListGroups(e.t.Context())
	if err != nil {
		e.t.Fatal(err)
	}
	g, ok := gs[group]
	if !ok {
		return "no such group"
	}
	if g.GroupType == "" {
		return "unknown"
	}
	return g.GroupType
}

func yes() *bool { return new(true) }
func no() *bool  { return new(false) }

// failed is the cell of a capability the client's probe could not do:
// the error it returned is the evidence.
func (e *probeEnv) failed(err string, link string) Cell {
	return Cell{OK: no(), Value: "no", Evidence: e.sanitize(err), Link: link}
}

// checkIdempotent: the client wrote idemRecords records to the idem topic
// with idempotence asked for (how: said in how); the log must hold each
// once, each with a producer id.
func (e *probeEnv) checkIdempotent(how string, err string, link string) Cell {
	if err != "" {
		return e.failed(err, link)
	}
	keys, pids := e.read(e.topic(topicIdem), false)
	withID := 0
	for _, p := range pids {
		if p >= 0 {
			withID++
		}
	}
	ev := fmt.Sprintf("%s: %d records in the log, %d with a producer id", how, len(keys), withID)
	if len(keys) == idemRecords && withID == idemRecords {
		return Cell{OK: yes(), Value: "yes", Evidence: ev}
	}
	return Cell{OK: no(), Value: "no", Evidence: ev + " (producer id -1: written without idempotence)", Link: link}
}

// checkTransactional: the client wrote a-0..a-2 in an aborted transaction
// and c-0..c-2 in a committed one to the txn topic; read_committed must
// read the 3 committed, read_uncommitted all 6.
func (e *probeEnv) checkTransactional(err string, link string) Cell {
	if err != "" {
		return e.failed(err, link)
	}
	rc, _ := e.read(e.topic(topicTxn), true)
	ru, _ := e.read(e.topic(topicTxn), false)
	ev := fmt.Sprintf("3 aborted + 3 committed written; read back read_committed %d %v, read_uncommitted %d", len(rc), rc, len(ru))
	if slices.Equal(rc, committedKeys) && len(ru) == 6 {
		return Cell{OK: yes(), Value: "yes", Evidence: ev}
	}
	return Cell{OK: no(), Value: "no", Evidence: ev, Link: link}
}

// readCommittedCell: what the client returned reading the fixture (3
// aborted, then 3 committed) with read_committed. Keys empty in the
// client's answer (control records) are listed as "<empty>".
func (e *probeEnv) readCommittedCell(got []string, err string, link string) Cell {
	if err != "" {
		return e.failed(err, link)
	}
	aborted, empty := 0, 0
	for _, k := range got {
		switch {
		case slices.Contains(abortedKeys, k):
			aborted++
		case k == "" || k == "<empty>" || k == "<control>":
			empty++
		}
	}
	value := fmt.Sprintf("%d of 3", len(got))
	if len(got) != 3 {
		value = fmt.Sprintf("%d, not 3", len(got))
	}
	ev := fmt.Sprintf("from 3 aborted + 3 committed records it returned %d: %d aborted, %d control records (markers): %s",
		len(got), aborted, empty, strings.Join(got, ","))
	if slices.Equal(got, committedKeys) {
		return Cell{OK: yes(), Value: value, Evidence: ev}
	}
	return Cell{OK: no(), Value: value, Evidence: ev, Link: link}
}

// checkTxnOffsetCommit: the client, a member of group txn-offsets, read
// the 3 input records and wrote o-0..o-2 to the out topic in one
// transaction with its consumed offsets (KIP-447): the group's committed
// offset must be 3, and read_committed must read the 3 outputs.
func (e *probeEnv) checkTxnOffsetCommit(how string, err string, link string) Cell {
	if err != "" {
		return e.failed(err, link)
	}
	off := e.committedOffset(e.group("txn-offsets"), e.topic(topicIn))
	out, _ := e.read(e.topic(topicOut), true)
	ev := fmt.Sprintf("%s: group offset %d, read_committed output %d %v", how, off, len(out), out)
	if off == 3 && len(out) == 3 {
		return Cell{OK: yes(), Value: "yes", Evidence: ev}
	}
	return Cell{OK: no(), Value: "no", Evidence: ev, Link: link}
}

// checkKIP848: the client consumed the input in group kip-848 asking for
// the consumer protocol (how); the group must be of type consumer.
func (e *probeEnv) checkKIP848(how string, read int, err string, link string) Cell {
	if err != "" {
		return e.failed(err, link)
	}
	typ := e.groupType(e.group("kip-848"))
	ev := fmt.Sprintf("%s: records read %v; ListGroups: group type %s", how, read > 0, typ)
	if typ == "consumer" && read > 0 {
		return Cell{OK: yes(), Value: "yes", Evidence: ev}
	}
	return Cell{OK: no(), Value: "no (" + typ + ")", Evidence: ev, Link: link}
}

// Default cells. how says where the value was read from the running
// client.

func acksCell(value, how string) Cell {
	v := value
	switch value {
	case "-1", "all":
		return Cell{OK: yes(), Value: "all (-1)", Evidence: how + " = " + value}
	case "0":
		v = "0 (none)"
	}
	return Cell{OK: no(), Value: v, Evidence: how + " = " + value}
}

func retriesCell(value, how string) Cell {
	v := value
	switch value {
	case "inf", "2147483647", "9223372036854775807":
		v = "unlimited (" + value + ")"
	}
	n, err := strconv.ParseFloat(value, 64)
	ok := err == nil && n > 0
	return Cell{OK: new(ok), Value: v, Evidence: how + " = " + value}
}

func boolCell(value, how string, want bool) Cell {
	on := strings.EqualFold(value, "true")
	v := "off"
	if on {
		v = "on"
	}
	return Cell{OK: new(on == want), Value: v, Evidence: how + " = " + value}
}

func intervalCell(value, how string) Cell {
	return Cell{Value: value, Evidence: how}
}

func isolationCell(value, how string) Cell {
	return Cell{OK: new(value == "read_committed"), Value: value, Evidence: how + " = " + value}
}
