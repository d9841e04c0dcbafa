package clients

// TestClientMatrix runs every probe — each client against the broker — and
// compares what they observe with the committed matrix.json; -update
// rewrites it (date = today). With KAFKA_BROKERS set (CI's real-Kafka
// pass) the probes run against that cluster and the capability rows must
// come out as in the file, which was measured on the embedded broker: a
// difference is a broker-fidelity finding. Defaults are the clients' own and
// are compared on the embedded broker only.
//
// The tools: kafka-python (.ci/python-deps), confluent-kafka
// (.ci/fidelity-deps) and java 17+ with the kafka-clients jars
// (.ci/java-deps). Without -short a missing tool fails naming its script.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons/broker"
	"github.com/kafka-delivery-lab/lab/lessons/broker/brokertest"
)

var update = flag.Bool("update", false, "rewrite matrix.json with what the probes observe (measured = today)")

// probeTimeout bounds one external probe program (a JVM compiles and
// starts several clients).
const probeTimeout = 150 * time.Second

func TestClientMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs kafka-python, confluent-kafka and the Java client (.ci/python-deps, .ci/fidelity-deps, .ci/java-deps install them)")
	}
	tools := findTools(t)
	b, err := brokertest.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	external := b.Mode() != broker.Embedded
	if *update && external {
		t.Fatal("-update records the embedded broker: unset KAFKA_BROKERS")
	}

	today := time.Now().UTC().Format(time.DateOnly)
	got := &Matrix{Broker: brokerName(b)}
	probes := map[string]func(*probeEnv) map[string]Cell{
		"kafka-go":        probeKafkaGo,
		"franz-go":        probeFranzGo,
		"kafka-python":    func(e *probeEnv) map[string]Cell { return probeScript(e, tools.kafkaPython) },
		"confluent-kafka": func(e *probeEnv) map[string]Cell { return probeScript(e, tools.confluent) },
		"java":            func(e *probeEnv) map[string]Cell { return probeScript(e, tools.java) },
	}
	for _, id := range ClientIDs {
		var cells map[string]Cell
		var client Client
		t.Run(id, func(t *testing.T) {
			e := newProbeEnv(t, b, id)
			t0 := time.Now()
			cells = probes[id](e)
			client = e.client
			t.Logf("%s %s probes: %v", id, client.Version, time.Since(t0).Round(time.Millisecond))
		})
		client.Measured, client.Broker = today, got.Broker
		got.Clients = append(got.Clients, client)
		for _, r := range Rows {
			c, ok := cells[r.ID]
			if !ok {
				c = Cell{Value: "not measured", Evidence: "the probe stopped before this row"}
				c.OK = new(false)
			}
			c.Row, c.Client, c.Version, c.Measured = r.ID, id, client.Version, today
			got.Cells = append(got.Cells, c)
		}
	}
	for _, c := range got.Cells {
		t.Logf("%-22s %-15s %s %-28s %s", c.Row, c.Client, c.Mark(), c.Value, c.Evidence)
	}
	if t.Failed() {
		return
	}

	if *update {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(got); err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(buf.Bytes()); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("matrix.json", buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote matrix.json (%d cells)", len(got.Cells))
		return
	}

	want, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, r := range Rows {
		kinds[r.ID] = r.Kind
	}
	for _, g := range got.Cells {
		w := want.Cell(g.Row, g.Client)
		if external {
			// On Apache Kafka: the capability rows must come out as on
			// the embedded broker. Evidence may word an error differently.
			if kinds[g.Row] != Capability {
				continue
			}
			if g.Mark() != w.Mark() || g.Value != w.Value {
				t.Errorf("broker fidelity: %s × %s on %s: %s %q (%s); matrix.json (embedded broker): %s %q (%s)",
					g.Row, g.Client, got.Broker, g.Mark(), g.Value, g.Evidence, w.Mark(), w.Value, w.Evidence)
			} else if g.Evidence != w.Evidence {
				t.Logf("%s × %s: same outcome, other evidence on %s: %q (matrix.json: %q)", g.Row, g.Client, got.Broker, g.Evidence, w.Evidence)
			}
			continue
		}
		if g.Mark() != w.Mark() || g.Value != w.Value || g.Evidence != w.Evidence || g.Link != w.Link || g.Version != w.Version {
			t.Errorf("%s × %s: measured %s %q (%s) %s %s; matrix.json has %s %q (%s) %s %s: rerun with -update if the change is intended",
				g.Row, g.Client, g.Mark(), g.Value, g.Evidence, g.Link, g.Version, w.Mark(), w.Value, w.Evidence, w.Link, w.Version)
		}
	}
}

// brokerName says which broker the probes ran on, with the embedded one's
// module version.
func brokerName(b *broker.Broker) string {
	if b.Mode() != broker.Embedded {
		return "external cluster (KAFKA_BROKERS " + strings.Join(b.Addrs(), ",") + ")"
	}
	return "embedded kfake " + moduleVersion("github.com/twmb/franz-go/pkg/kfake")
}

// moduleVersion is the version of a module the test is built with, as
// go.mod requires it (a test binary carries no module list).
func moduleVersion(path string) string {
	b, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && f[0] == path {
			return f[1]
		}
	}
	return "unknown"
}

// tools are the external probe programs and how to start them.
type tools struct {
	kafkaPython, confluent, java []string // argv before the probe's own arguments
}

func findTools(t *testing.T) tools {
	t.Helper()
	venv := os.Getenv("LAB_VENV")
	if venv == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatalf("no home directory (%v): set LAB_VENV to the venv .ci/python-deps makes", err)
		}
		venv = filepath.Join(home, ".cache", "kafka-delivery-lab", "venv")
	}
	py := filepath.Join(venv, "bin", "python")
	if p := os.Getenv("LAB_PYTHON"); p != "" {
		py = p
	}
	importable := func(module, script string) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, py, "-c", "import "+module).CombinedOutput(); err != nil {
			t.Fatalf("%s cannot import %s (%v): run %s first\n%s", py, module, err, script, out)
		}
	}
	importable("kafka", ".ci/python-deps")
	importable("confluent_kafka", ".ci/fidelity-deps")

	java := "java"
	if h := os.Getenv("JAVA_HOME"); h != "" {
		java = filepath.Join(h, "bin", "java")
	}
	javaPath, err := exec.LookPath(java)
	if err != nil {
		t.Fatalf("java not found (%v): run .ci/java-deps first (needs Java 17+)", err)
	}
	home := os.Getenv("REAL_KAFKA_HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			t.Fatalf("no home directory (%v): set REAL_KAFKA_HOME to the cache of .ci/java-deps", err)
		}
		home = filepath.Join(h, ".cache", "kafka-delivery-lab", "kafka-"+kafkaClientsVersion)
	}
	libs := filepath.Join(home, "libs")
	if _, err := os.Stat(filepath.Join(libs, "kafka-clients-"+kafkaClientsVersion+".jar")); err != nil {
		t.Fatalf("%v: run .ci/java-deps first (caches the Apache Kafka %s jars)", err, kafkaClientsVersion)
	}
	return tools{
		kafkaPython: []string{py, filepath.Join("testdata", "probe_kafka_python.py")},
		confluent:   []string{py, filepath.Join("testdata", "probe_confluent_kafka.py")},
		java:        []string{javaPath, "-cp", filepath.Join(libs, "*"), filepath.Join("testdata", "ClientProbe.java")},
	}
}

// kafkaClientsVersion is .ci/real-kafka's KAFKA_VERSION: the Java client
// is the broker's own version.
const kafkaClientsVersion = "4.4.0"

// runProbe runs an external probe program and returns its stdout.
func runProbe(t *testing.T, argv []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], args...)...)
	cmd.WaitDelay = 2 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (gave up after %v)", err, probeTimeout)
		}
		t.Errorf("%s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(argv[len(argv)-1]), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}
