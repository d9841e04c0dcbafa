package samples

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kafka-delivery-lab/lab/lessons/broker"
	"github.com/kafka-delivery-lab/lab/lessons/broker/brokertest"
)

// deposits is how many deposits each run of a sample sends and credits.
const deposits = 5

var (
	brk    *broker.Broker
	binDir string // the Go samples, built once per test binary

	builds sync.Map // package dir -> *build

	pyOnce sync.Once
	pyPath string
	pyErr  error
)

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	var err error
	brk, err = brokertest.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "samples: no broker:", err)
		return 1
	}
	defer brk.Close()
	if binDir, err = os.MkdirTemp("", "lab-samples-"); err != nil {
		fmt.Fprintln(os.Stderr, "samples:", err)
		return 1
	}
	defer os.RemoveAll(binDir)
	return m.Run()
}

// TestLayoutEmbedded checks that every sample the lessons refer to is
// embedded, non-empty, and that nothing else (no test file) is.
func TestLayoutEmbedded(t *testing.T) {
	layout := []string{
		"at-most-once/producer.py", "at-most-once/consumer.py",
		"at-least-once/producer.py", "at-least-once/consumer.py",
		"exactly-once/producer.py", "exactly-once/consumer.py",
		"exactly-once/producer_seed.py",
		"seed/at-most-once_producer.py", "seed/at-most-once_consumer.py",
		"seed/at-least-once_producer.py", "seed/at-least-once_consumer.py",
		"seed/exactly-once_consumer.py",
		"at-most-once/producer/main.go", "at-most-once/consumer/main.go",
		"at-least-once/producer/main.go", "at-least-once/consumer/main.go",
		"exactly-once/producer/main.go", "exactly-once/consumer/main.go",
	}
	for _, p := range layout {
		for _, name := range []string{p, "lessons/samples/" + p} {
			text, err := Read(name)
			if err != nil || strings.TrimSpace(text) == "" {
				t.Errorf("Read(%q) = %d bytes, %v; want the sample", name, len(text), err)
			}
		}
		if disk, err := os.ReadFile(p); err != nil {
			t.Errorf("%s: %v", p, err)
		} else if text, _ := Read(p); text != string(disk) {
			t.Errorf("%s: embedded text differs from the file", p)
		}
	}
	var embedded []string
	_ = fs.WalkDir(Files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			embedded = append(embedded, p)
		}
		return err
	})
	slices.Sort(embedded)
	want := slices.Sorted(slices.Values(layout))
	if !slices.Equal(embedded, want) {
		t.Errorf("embedded files = %q\nwant exactly the layout %q", embedded, want)
	}
	if got := slices.Sorted(slices.Values(Paths)); !slices.Equal(got, want) {
		t.Errorf("Paths = %q, want the layout %q", Paths, want)
	}
	if _, err := Read("samples_test.go"); err == nil {
		t.Error("Read(samples_test.go) succeeded: test files must not be embedded")
	}
}

// TestSamples runs each guarantee's producer and processor, in Go and in
// Python, against the broker and checks what they left in the topics.
func TestSamples(t *testing.T) {
	for _, lang := range []string{"go", "python"} {
		for _, g := range []string{"at-most-once", "at-least-once", "exactly-once"} {
			t.Run(lang+"/"+g, func(t *testing.T) {
				if lang == "python" && testing.Short() {
					t.Skip("-short: needs Python with kafka-python (.ci/python-deps installs it)")
				}
				t.Parallel()
				testGuarantee(t, lang, g)
			})
		}
	}
}

func testGuarantee(t *testing.T, lang, g string) {
	eos := g == "exactly-once"
	n := newNames(t, lang+"-"+g)
	createTopics(t, n.input, n.ledger)

	// The producer: N deposits acknowledged, and exactly those in the log.
	args := []string{"--bootstrap", brk.Addrs()[0], "--topic", n.input, "--count", strconv.Itoa(deposits)}
	if eos {
		args = append(args, "--transactional-id", n.producerTxn)
	}
	out := runOK(t, lang, g, "producer", args...)
	wantLines(t, "producer", out, "sent", deposits)
	checkDeposits(t, readTopic(t, n.input, eos, deposits))
	if eos {
		// N records and the transaction's commit marker.
		if end := endOffset(t, n.input); end != deposits+1 {
			t.Errorf("%s ends at offset %d, want %d: %d deposits + 1 commit marker", n.input, end, deposits+1, deposits)
		}
	}

	// The processor: credits each deposit once, and commits past them all.
	processor := func(idleFor time.Duration) string {
		args := []string{"--bootstrap", brk.Addrs()[0], "--topic", n.input, "--group", n.group,
			"--count", strconv.Itoa(deposits), "--idle", idle(lang, idleFor)}
		if eos {
			args = append(args, "--ledger", n.ledger, "--transactional-id", n.processorTxn)
		}
		return runOK(t, lang, g, "consumer", args...)
	}
	out = processor(10 * time.Second)
	wantLines(t, "processor", out, "credit", deposits)
	// Python and Go clients alike commit the offset after the last
	// deposit they processed (for exactly-once: before the commit marker).
	if committed := committedOffset(t, n.group, n.input); committed != deposits {
		t.Errorf("group %s committed offset %d on %s, want %d", n.group, committed, n.input, deposits)
	}
	if !eos {
		return
	}
	checkCredits(t, readTopic(t, n.ledger, true, deposits))

	// Offsets were committed with the credits: a new instance of the
	// processor (same group and transactional id) finds nothing to credit.
	out = processor(3 * time.Second) // ample to join the group and fetch
	wantLines(t, "second processor", out, "credit", 0)
	// Nothing more was written, not even credits of an aborted transaction.
	checkCredits(t, readTopic(t, n.ledger, false, deposits))
}

// TestSeedSnippetsCompile: every seed snippet is Python that compiles
// (python3 -m py_compile), as the seed material has it. It needs no
// kafka-python, so it runs with -short too.
func TestSeedSnippetsCompile(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("needs python3")
	}
	for _, p := range Seeds {
		if !slices.Contains(Paths, p) {
			t.Errorf("seed %s is not among the samples (Paths)", p)
		}
		// The bytecode goes to a temporary directory: no __pycache__ in the tree.
		cmd := exec.Command(py, "-m", "py_compile", p)
		cmd.Env = append(os.Environ(), "PYTHONPYCACHEPREFIX="+t.TempDir())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("python3 -m py_compile %s: %v\n%s", p, err, out)
		}
	}
}

// TestSeedExactlyOnceProducer shows what the seed's exactly-once producer
// gets wrong: without init_transactions() its begin_transaction() fails,
// while the corrected producer.py commits its deposits.
func TestSeedExactlyOnceProducer(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs Python with kafka-python (.ci/python-deps installs it)")
	}
	t.Parallel()
	n := newNames(t, "seed")
	createTopics(t, n.input)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stdout, stderr, err := run(ctx, t, "python", "exactly-once", "producer_seed",
		"--bootstrap", brk.Addrs()[0], "--topic", n.input)
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("producer_seed.py: got %v, want a non-zero exit\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	const want = "TransactionalId unique_transaction_id: Invalid transition attempted from state UNINITIALIZED to state IN_TRANSACTION"
	if !strings.Contains(stderr, want) {
		t.Errorf("producer_seed.py (%v) did not report %q\nstdout:\n%s\nstderr:\n%s", err, want, stdout, stderr)
	}
	if strings.Contains(stdout, "Message sent successfully") {
		t.Errorf("producer_seed.py claims success:\n%s", stdout)
	}

	out := runOK(t, "python", "exactly-once", "producer", "--bootstrap", brk.Addrs()[0],
		"--topic", n.input, "--count", strconv.Itoa(deposits), "--transactional-id", n.producerTxn)
	wantLines(t, "producer", out, "sent", deposits)
	if !strings.Contains(out, fmt.Sprintf("committed %d deposits", deposits)) {
		t.Errorf("producer.py did not commit:\n%s", out)
	}
	checkDeposits(t, readTopic(t, n.input, true, deposits))
}

// TestPythonExactlyOnceRewindsAfterAbort makes the Python processor's first
// transaction fail, abortably, after its credits were sent: the embedded
// broker answers its first TxnOffsetCommit with ILLEGAL_GENERATION, as when
// the group has moved on (kafka-python: CommitFailedError, abortable). The
// processor must abort and rewind to the committed offsets; a loop that
// aborted and polled on would skip the batch. So: the abort happened, and
// every deposit is still credited exactly once (read_committed), in order,
// with the group's offset past the last one.
func TestPythonExactlyOnceRewindsAfterAbort(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs Python with kafka-python (.ci/python-deps installs it)")
	}
	cluster := brk.Embedded()
	if cluster == nil {
		t.Skip("needs the embedded broker: the failure is injected by answering a request in its place")
	}
	t.Parallel()
	n := newNames(t, "rewind")
	createTopics(t, n.input, n.ledger)

	out := runOK(t, "python", "exactly-once", "producer", "--bootstrap", brk.Addrs()[0],
		"--topic", n.input, "--count", strconv.Itoa(deposits), "--transactional-id", n.producerTxn)
	wantLines(t, "producer", out, "sent", deposits)

	var mu sync.Mutex
	failed := 0
	cluster.ControlKey(int16(kmsg.TxnOffsetCommit), func(req kmsg.Request) (kmsg.Response, error, bool) {
		r := req.(*kmsg.TxnOffsetCommitRequest)
		if r.Group != n.group {
			return nil, nil, false // another test's: the broker handles it
		}
		mu.Lock()
		defer mu.Unlock()
		failed++ // handled, so this control function is dropped: once only
		resp := r.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
		for _, rt := range r.Topics {
			st := kmsg.NewTxnOffsetCommitResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = 22 // ILLEGAL_GENERATION
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})

	out = runOK(t, "python", "exactly-once", "consumer", "--bootstrap", brk.Addrs()[0],
		"--topic", n.input, "--group", n.group, "--count", strconv.Itoa(deposits), "--idle", "10",
		"--ledger", n.ledger, "--transactional-id", n.processorTxn)
	mu.Lock()
	injected := failed
	mu.Unlock()
	if injected != 1 {
		t.Fatalf("the broker failed %d TxnOffsetCommit requests of group %s, want 1: the test injected nothing\noutput:\n%s", injected, n.group, out)
	}
	t.Logf("processor output:\n%s", out)
	if !strings.Contains(out, "aborted ") || !strings.Contains(out, "CommitFailedError") {
		t.Errorf("the processor did not report aborting its first transaction:\n%s", out)
	}
	// Credited once each, after the abort: a processor that did not rewind
	// would print none (its position was already past the batch) and idle out.
	wantLines(t, "processor", out, "credit", deposits)
	checkCredits(t, readTopic(t, n.ledger, true, deposits))
	if committed := committedOffset(t, n.group, n.input); committed != deposits {
		t.Errorf("group %s committed offset %d on %s, want %d", n.group, committed, n.input, deposits)
	}
}

// names are a test's topics, group and transactional ids: unique, so tests
// (and runs against a shared external cluster) never interfere.
type names struct {
	input, ledger, group, producerTxn, processorTxn string
}

func newNames(t *testing.T, what string) names {
	p := fmt.Sprintf("samples-%s-%d", what, time.Now().UnixNano())
	n := names{input: p + "-deposits", ledger: p + "-credits", group: p + "-processor",
		producerTxn: p + "-producer-txn", processorTxn: p + "-processor-txn"}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = brk.Admin().DeleteGroups(ctx, n.group)
		if err := brk.DeleteTopics(ctx, n.input, n.ledger); err != nil {
			t.Logf("deleting topics: %v", err)
		}
	})
	return n
}

func createTopics(t *testing.T, topics ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := brk.CreateTopics(ctx, topics...); err != nil {
		t.Fatalf("creating %v: %v", topics, err)
	}
}

// idle formats a processor's --idle: a duration for Go, seconds for Python.
func idle(lang string, d time.Duration) string {
	if lang == "go" {
		return d.String()
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// runOK runs a sample and returns its standard output; it must exit 0.
func runOK(t *testing.T, lang, guarantee, role string, args ...string) string {
	t.Helper()
	if lang == "go" {
		goBinary(t, guarantee+"/"+role) // build first: time the run alone
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	stdout, stderr, err := run(ctx, t, lang, guarantee, role, args...)
	if err != nil {
		t.Fatalf("%s %s/%s: %v\nstdout:\n%s\nstderr:\n%s", lang, guarantee, role, err, stdout, stderr)
	}
	t.Logf("%s %s/%s ran in %v", lang, guarantee, role, time.Since(start).Round(time.Millisecond))
	return stdout
}

// run runs the sample role ("producer", "consumer", "producer_seed") of a
// guarantee in lang ("go" or "python").
func run(ctx context.Context, t *testing.T, lang, guarantee, role string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var cmd *exec.Cmd
	switch lang {
	case "go":
		cmd = exec.CommandContext(ctx, goBinary(t, guarantee+"/"+role), args...)
	case "python":
		script := filepath.Join(guarantee, role+".py")
		cmd = exec.CommandContext(ctx, python(t), append([]string{script}, args...)...)
		cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1")
	default:
		t.Fatalf("unknown language %q", lang)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (timed out: %v)", err, ctx.Err())
	}
	return o.String(), e.String(), err
}

type build struct {
	once sync.Once
	path string
	err  error
}

// goBinary builds the Go sample in dir (e.g. "exactly-once/consumer") once
// and returns the binary's path.
func goBinary(t *testing.T, dir string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(dir, &build{})
	b := v.(*build)
	b.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		b.path = filepath.Join(binDir, strings.ReplaceAll(dir, "/", "-"))
		out, err := exec.CommandContext(ctx, goTool(), "build", "-o", b.path, "./"+dir).CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build ./%s: %v\n%s", dir, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}

// python is LAB_PYTHON, or the venv python that .ci/python-deps sets up
// with the pinned kafka-python.
func python(t *testing.T) string {
	t.Helper()
	pyOnce.Do(func() {
		if p := os.Getenv("LAB_PYTHON"); p != "" {
			if pyPath, pyErr = exec.LookPath(p); pyErr != nil {
				pyErr = fmt.Errorf("LAB_PYTHON: %w", pyErr)
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", filepath.Join("..", "..", ".ci", "python-deps"))
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Run(); err != nil {
			pyErr = fmt.Errorf(".ci/python-deps: %v\n%s%s", err, o.String(), e.String())
			return
		}
		lines := strings.Split(strings.TrimSpace(o.String()), "\n")
		pyPath = strings.TrimSpace(lines[len(lines)-1])
		if _, err := os.Stat(pyPath); err != nil {
			pyErr = fmt.Errorf(".ci/python-deps printed %q as the python: %v", pyPath, err)
		}
	})
	if pyErr != nil {
		t.Fatalf("the Python samples need python with kafka-python 3 and it could not be set up "+
			"(set LAB_PYTHON to such a python, or make .ci/python-deps work: it needs python3 with venv and PyPI): %v", pyErr)
	}
	return pyPath
}

// wantLines checks that out has exactly one line "<verb> d-00000i ..." for
// each deposit i in 1..n, in order, and no other line starting with verb or
// "failed".
func wantLines(t *testing.T, who, out, verb string, n int) {
	t.Helper()
	var got []string
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && f[0] == verb:
			got = append(got, f[1])
		case len(f) >= 1 && f[0] == "failed":
			t.Errorf("%s reported a failure: %s", who, line)
		}
	}
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("d-%06d", i+1)
	}
	if !slices.Equal(got, want) && !(n == 0 && len(got) == 0) {
		t.Errorf("%s: %q lines for %q, want %q\noutput:\n%s", who, verb, got, want, out)
	}
}

// readTopic reads a single-partition topic from its start until it has want
// records, then briefly waits for any more.
func readTopic(t *testing.T, topic string, readCommitted bool, want int) []*kgo.Record {
	t.Helper()
	opts := []kgo.Opt{
		kgo.SeedBrokers(brk.Addrs()...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200 * time.Millisecond),
	}
	if readCommitted {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s (read_committed=%v): %d records after 15 s, want %d", topic, readCommitted, len(recs), want)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("reading %s[%d]: %v", tp, p, err) })
		recs = append(recs, fs.Records()...)
	}
	more, cancelMore := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancelMore()
	recs = append(recs, cl.PollFetches(more).Records()...)
	if len(recs) != want {
		t.Errorf("%s (read_committed=%v) holds %d records, want %d", topic, readCommitted, len(recs), want)
	}
	return recs
}

// checkDeposits checks the input topic: d-000001... in order, amount 1.
func checkDeposits(t *testing.T, recs []*kgo.Record) {
	t.Helper()
	for i, r := range recs {
		id := fmt.Sprintf("d-%06d", i+1)
		var d struct {
			ID     string `json:"id"`
			Amount int    `json:"amount"`
		}
		if err := json.Unmarshal(r.Value, &d); err != nil || string(r.Key) != id || d.ID != id || d.Amount != 1 {
			t.Errorf("deposit %d: key %q value %s (%v), want key %s value {\"id\":%q,\"amount\":1}", i, r.Key, r.Value, err, id, id)
		}
	}
}

// checkCredits checks the ledger: one credit per deposit, in order.
func checkCredits(t *testing.T, recs []*kgo.Record) {
	t.Helper()
	for i, r := range recs {
		id := fmt.Sprintf("d-%06d", i+1)
		var c struct {
			Deposit string `json:"deposit"`
			Amount  int    `json:"amount"`
		}
		if err := json.Unmarshal(r.Value, &c); err != nil || string(r.Key) != id || c.Deposit != id || c.Amount != 1 {
			t.Errorf("credit %d: key %q value %s (%v), want key %s value {\"deposit\":%q,\"amount\":1}", i, r.Key, r.Value, err, id, id)
		}
	}
}

func endOffset(t *testing.T, topic string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offs, err := brk.Admin().ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("end offset of %s: %v", topic, err)
	}
	o, ok := offs.Lookup(topic, 0)
	if !ok || o.Err != nil {
		t.Fatalf("end offset of %s: %v (found %v)", topic, o.Err, ok)
	}
	return o.Offset
}

func committedOffset(t *testing.T, group, topic string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offs, err := brk.Admin().FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("offsets of group %s: %v", group, err)
	}
	o, ok := offs.Lookup(topic, 0)
	if !ok || o.Err != nil {
		t.Fatalf("group %s has no committed offset on %s[0] (%v)", group, topic, o.Err)
	}
	return o.At
}

// TestSeedStringAcksNeverArrives backs a claim of the at-most-once lesson:
// kafka-python 3 cannot encode the seed's acks='1' (a string), so the send
// never reaches the broker and the record is dropped once
// delivery_timeout_ms runs out, while acks=1 (the number) is written.
func TestSeedStringAcksNeverArrives(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs Python with kafka-python (.ci/python-deps installs it)")
	}
	py := python(t)
	n := newNames(t, "acks")
	createTopics(t, n.input)
	script := `
import sys
from kafka import KafkaProducer
acks = sys.argv[3] if sys.argv[3] == "1" and sys.argv[4] == "str" else int(sys.argv[3])
p = KafkaProducer(bootstrap_servers=sys.argv[1], acks=acks, retries=0, enable_idempotence=False,
                  request_timeout_ms=1000, delivery_timeout_ms=3000, linger_ms=0)
try:
    p.send(sys.argv[2], key=b"d-000001", value=b"{}").get(timeout=10)
    print("written")
except Exception as e:
    print("failed:", type(e).__name__)
p.close(timeout=5)
`
	for _, tc := range []struct{ kind, want string }{{"str", "failed"}, {"int", "written"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		out, err := exec.CommandContext(ctx, py, "-c", script, brk.Addrs()[0], n.input, "1", tc.kind).CombinedOutput()
		cancel()
		if err != nil || !strings.Contains(string(out), tc.want) {
			t.Fatalf("acks=1 as %s: want %q, got %v\n%s", tc.kind, tc.want, err, out)
		}
	}
	if end := endOffset(t, n.input); end != 1 {
		t.Fatalf("the topic holds %d records, want only the one sent with acks=1 as a number", end)
	}
}

// Paths lists every sample, in the order the lessons show them.
var Paths = []string{
	"at-most-once/producer.py",
	"at-most-once/consumer.py",
	"at-most-once/producer/main.go",
	"at-most-once/consumer/main.go",
	"seed/at-most-once_producer.py",
	"seed/at-most-once_consumer.py",
	"at-least-once/producer.py",
	"at-least-once/consumer.py",
	"at-least-once/producer/main.go",
	"at-least-once/consumer/main.go",
	"seed/at-least-once_producer.py",
	"seed/at-least-once_consumer.py",
	"exactly-once/producer.py",
	"exactly-once/consumer.py",
	"exactly-once/producer/main.go",
	"exactly-once/consumer/main.go",
	"exactly-once/producer_seed.py",
	"seed/exactly-once_consumer.py",
}

// Seeds are the seed material's kafka-python snippets, verbatim but for
// exactly-once/producer_seed.py's command line: what the lessons' "mistakes"
// sections show beside the corrected samples.
var Seeds = []string{
	"seed/at-most-once_producer.py",
	"seed/at-most-once_consumer.py",
	"seed/at-least-once_producer.py",
	"seed/at-least-once_consumer.py",
	"exactly-once/producer_seed.py",
	"seed/exactly-once_consumer.py",
}
