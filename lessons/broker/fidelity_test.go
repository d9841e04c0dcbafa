package broker

// Fidelity: the embedded broker checked by clients that share no code with
// the lab or with kfake — kcat and confluent-kafka, both on librdkafka. If
// these pass, a learner's own kcat or Python script gets the same answers
// from the embedded broker as from Apache Kafka. With KAFKA_BROKERS set, the
// same checks also run against that cluster, as a baseline (they pass on
// Apache Kafka 4.4.0 from .ci/real-kafka).
//
// The tools come from .ci/fidelity-deps (CI runs it first). A missing tool
// fails the test, never skips it: a skipped fidelity check looks green.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const fidelityDeps = ".ci/fidelity-deps"

// fidelityTimeout bounds every external command.
const fidelityTimeout = 45 * time.Second

func TestFidelityLibrdkafka(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs kcat and confluent-kafka (.ci/fidelity-deps installs them)")
	}
	kcat := fidelityKcat(t)
	py := fidelityPython(t)

	targets := fidelityTargets(t)

	for _, b := range targets {
		t.Run(string(b.Mode()), func(t *testing.T) {
			addr := strings.Join(b.Addrs(), ",")
			t.Run("kcat idempotent produce, group consume, commits", func(t *testing.T) {
				fidelityKcatProduceConsume(t, b, kcat, addr)
			})
			t.Run("confluent-kafka transactions, read_committed", func(t *testing.T) {
				fidelityTransactions(t, b, py, addr)
			})
		})
	}
}

// fidelityTopic is a fresh topic name, deleted when the test ends.
func fidelityTopic(t *testing.T, b *Broker, kind string) string {
	topic := fmt.Sprintf("fidelity.%s.%d", kind, time.Now().UnixNano())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = b.DeleteTopics(ctx, topic)
	})
	return topic
}

// fidelityKcatProduceConsume: (a) kcat produces N keyed records with
// acks=all and idempotence to a 3-partition topic; the log holds exactly
// N records, each written by an idempotent producer (a producer id, as
// InitProducerId handed out). (b) kcat consumes them in a consumer group and
// commits; the group's committed offsets, read back with kadm, are the
// partitions' end offsets, and the group run again reads nothing.
func fidelityKcatProduceConsume(t *testing.T, b *Broker, kcat, addr string) {
	const n, partitions = 30, 3
	topic := fidelityTopic(t, b, "kcat")
	group := topic + ".group"
	ctx := t.Context()
	if resp, err := b.Admin().CreateTopics(ctx, partitions, 1, nil, topic); err != nil || resp.Error() != nil {
		t.Fatalf("create %s: %v %v", topic, err, resp.Error())
	}

	var in strings.Builder
	want := make([]string, n)
	for i := range n {
		want[i] = fmt.Sprintf("d-%06d", i)
		fmt.Fprintf(&in, "%s:{\"id\":%q,\"amount\":1}\n", want[i], want[i])
	}
	t0 := time.Now()
	runTool(t, in.String(), kcat, "-P", "-b", addr, "-t", topic, "-K:",
		"-X", "acks=all", "-X", "enable.idempotence=true", "-X", "linger.ms=5")
	t.Logf("kcat -P %d records: %v", n, time.Since(t0).Round(time.Millisecond))

	ends, err := b.Admin().ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != n {
		t.Fatalf("after kcat -P of %d records the partitions' end offsets add up to %d", n, total)
	}

	// Read the log with franz-go: every record is there once, with its key,
	// and carries the idempotent producer's id (kcat really was idempotent).
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []string
	pids := map[int64]bool{}
	pollCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for len(got) < n && pollCtx.Err() == nil {
		fs := cl.PollFetches(pollCtx)
		fs.EachRecord(func(r *kgo.Record) {
			got = append(got, string(r.Key))
			pids[r.ProducerID] = true
		})
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("franz-go read back %d keys %v, want the %d kcat produced", len(got), got, n)
	}
	if pids[-1] || len(pids) != 1 {
		t.Fatalf("producer ids on kcat's records: %v; want one id >= 0 (enable.idempotence=true)", pids)
	}

	// (b) A kcat consumer group reads everything and commits on close.
	t0 = time.Now()
	groupConsume := func(extra ...string) []string {
		args := append([]string{"-G", group, "-b", addr, "-e", "-f", "%p %o %k\n",
			"-X", "auto.offset.reset=earliest", "-X", "enable.auto.commit=true",
			"-X", "auto.commit.interval.ms=100", "-X", "session.timeout.ms=6000"}, extra...)
		out := runTool(t, "", kcat, append(args, topic)...)
		var keys []string
		for line := range strings.Lines(out) {
			if f := strings.Fields(line); len(f) == 3 {
				keys = append(keys, f[2])
			}
		}
		slices.Sort(keys)
		return keys
	}
	consumed := groupConsume("-c", strconv.Itoa(n))
	t.Logf("kcat -G consumed %d: %v", len(consumed), time.Since(t0).Round(time.Millisecond))
	if !slices.Equal(consumed, want) {
		t.Fatalf("kcat -G consumed %d records %v, want each of the %d once", len(consumed), consumed, n)
	}

	committed, err := b.Admin().FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	for p := range int32(partitions) {
		end, _ := ends.Lookup(topic, p)
		c, ok := committed.Lookup(topic, p)
		if !ok || c.Err != nil || c.At != end.Offset {
			t.Errorf("group %s partition %d: committed %+v (found %v), want offset %d (the end)", group, p, c, ok, end.Offset)
		}
	}

	// The same group again resumes from its commits: nothing left to read.
	t0 = time.Now()
	if again := groupConsume(); len(again) != 0 {
		t.Errorf("kcat -G in the same group again read %d records %v, want none (it resumes from the committed offsets)", len(again), again)
	}
	t.Logf("kcat -G again: %v", time.Since(t0).Round(time.Millisecond))
}

// fidelityTransactions: (c) confluent-kafka commits one transaction of 3
// records and aborts one of 3; a read_committed consumer reads exactly the
// 3 committed, a read_uncommitted one all 6, and the log also holds the two
// transaction markers.
func fidelityTransactions(t *testing.T, b *Broker, py, addr string) {
	topic := fidelityTopic(t, b, "txn")
	ctx := t.Context()
	if err := b.CreateTopics(ctx, topic); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	out := runTool(t, "", py, filepath.Join("testdata", "fidelity_txn.py"), addr, topic)
	t.Logf("confluent-kafka transactions: %v", time.Since(t0).Round(time.Millisecond))
	var res struct {
		Delivered       []string `json:"delivered"`
		Offsets         []int64  `json:"offsets"`
		Failed          []string `json:"failed"`
		ReadCommitted   []string `json:"read_committed"`
		ReadUncommitted []string `json:"read_uncommitted"`
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("fidelity_txn.py printed no JSON result (%v):\n%s", err, out)
	}
	committed := []string{"c-0", "c-1", "c-2"}
	all := []string{"c-0", "c-1", "c-2", "a-0", "a-1", "a-2"}
	if len(res.Failed) > 0 || !slices.Equal(res.Delivered, all) {
		t.Fatalf("delivery reports: delivered %v, failed %v; want all 6 delivered", res.Delivered, res.Failed)
	}
	// Offsets 0-2 committed records, 3 the commit marker, 4-6 aborted records.
	if !slices.Equal(res.Offsets, []int64{0, 1, 2, 4, 5, 6}) {
		t.Errorf("offsets of the 6 records: %v, want [0 1 2 4 5 6] (the commit marker at 3)", res.Offsets)
	}
	if !slices.Equal(res.ReadCommitted, committed) {
		t.Errorf("read_committed consumer read %v, want exactly %v", res.ReadCommitted, committed)
	}
	if !slices.Equal(res.ReadUncommitted, all) {
		t.Errorf("read_uncommitted consumer read %v, want all of %v", res.ReadUncommitted, all)
	}
	ends, err := b.Admin().ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	if end, _ := ends.Lookup(topic, 0); end.Offset != 8 {
		t.Errorf("end offset %d, want 8: 6 records and 2 transaction markers", end.Offset)
	}
}

// runTool runs a command with fidelityTimeout, stdin from in, and fails the
// test with its output if it fails. It returns stdout.
func runTool(t *testing.T, in, name string, args ...string) string {
	t.Helper()
	return runToolTimeout(t, fidelityTimeout, in, name, args...)
}

// runToolTimeout is runTool with its own timeout.
func runToolTimeout(t *testing.T, timeout time.Duration, in, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = 2 * time.Second
	cmd.Stdin = strings.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (gave up after %v)", err, timeout)
		}
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(name), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Logf("%s stderr:\n%s", filepath.Base(name), s)
	}
	return stdout.String()
}

func fidelityKcat(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatalf("kcat not found (%v): run %s first (installs the Debian package kcat)", err, fidelityDeps)
	}
	return p
}

// fidelityPython is the venv python from .ci/fidelity-deps, with
// confluent-kafka importable.
func fidelityPython(t *testing.T) string {
	t.Helper()
	venv := os.Getenv("LAB_VENV")
	if venv == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatalf("no home directory (%v): set LAB_VENV to the venv made by %s", err, fidelityDeps)
		}
		venv = filepath.Join(home, ".cache", "kafka-delivery-lab", "venv")
	}
	py := filepath.Join(venv, "bin", "python")
	ctx, cancel := context.WithTimeout(t.Context(), fidelityTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, py, "-c", "import confluent_kafka").CombinedOutput(); err != nil {
		t.Fatalf("%s cannot import confluent_kafka (%v): run %s first\n%s", py, err, fidelityDeps, out)
	}
	return py
}

// fidelityTargets are the brokers a fidelity test runs against: a fresh
// embedded broker and, when KAFKA_BROKERS names one, that cluster.
func fidelityTargets(t *testing.T) []*Broker {
	t.Helper()
	embedded, err := StartEmbedded(EmbeddedOptions{Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(embedded.Close)
	targets := []*Broker{embedded}
	if addrs := os.Getenv("KAFKA_BROKERS"); addrs != "" {
		external, err := Connect(strings.Split(addrs, ","))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(external.Close)
		targets = append(targets, external)
	}
	return targets
}
