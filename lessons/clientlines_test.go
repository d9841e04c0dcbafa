package lessons

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// linesSample is a set of settings that takes every value of every knob
// at least once and every commit with and without dedup (after also with
// and without commit_on_revoke), plus every level's start and reference:
// what TestClientLines compiles.
func linesSample() []Settings {
	var out []Settings
	for _, l := range Levels() {
		out = append(out, l.Start, l.Reference)
	}
	seen := map[string]bool{}
	EachValidSetting(func(s Settings) {
		// One per producer shape × commit × dedup × isolation.
		key := fmt.Sprint(s.Acks, s.Idempotent, s.Transactional, s.Commit, s.Dedup, s.CommitOnRevoke, s.Isolation, s.Retries > 0)
		if !seen[key] {
			seen[key] = true
			out = append(out, s)
		}
	})
	return out
}

// TestClientLines compiles what the sandbox shows for each library:
// kafka-go and franz-go lines with go vet in a package of this module,
// kafka-python's with py_compile in .ci/python-deps's venv, Java's with
// javac against .ci/java-deps's kafka-clients. A missing Python or Java
// fails naming its script, except under -short.
func TestClientLines(t *testing.T) {
	sample := linesSample()
	t.Logf("%d configurations", len(sample))
	t.Run("go", func(t *testing.T) {
		dir, err := os.MkdirTemp(".", "clientlines-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		var b bytes.Buffer
		b.WriteString(goPrelude)
		for i, s := range sample {
			fmt.Fprintf(&b, "// %+v\nfunc kafkaGo%d(ctx context.Context) error {\n\tcredited := map[string]bool{}\n\t_ = credited\n%s}\n\n", s, i, indent(KafkaGoLines(s), "\t"))
			fmt.Fprintf(&b, "// %+v\nfunc franzGo%d(ctx context.Context) error {\n\tcredited := map[string]bool{}\n\t_ = credited\n%s}\n\n", s, i, indent(FranzGoLines(s), "\t"))
		}
		if err := os.WriteFile(filepath.Join(dir, "lines.go"), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		command(t, "go", "vet", "./"+dir)
	})
	t.Run("python", func(t *testing.T) {
		py := venvPython(t)
		var b bytes.Buffer
		b.WriteString("from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer\nfrom kafka.structs import OffsetAndMetadata, TopicPartition\n\n\n")
		for i, s := range sample {
			fmt.Fprintf(&b, "def pipeline%d(credit_of):\n    credited = set()\n%s\n\n", i, indent(KafkaPythonLines(s), "    "))
		}
		f := filepath.Join(t.TempDir(), "lines.py")
		if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		command(t, py, "-m", "py_compile", f)
	})
	t.Run("java", func(t *testing.T) {
		libs := javaLibs(t)
		var b bytes.Buffer
		b.WriteString(javaPrelude)
		for i, s := range sample {
			fmt.Fprintf(&b, "    // %+v\n    static void pipeline%d() throws Exception {\n        Set<String> credited = new HashSet<>();\n%s    }\n\n", s, i, indent(JavaLines(s), "        "))
		}
		b.WriteString("}\n")
		dir := t.TempDir()
		f := filepath.Join(dir, "Lines.java")
		if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		command(t, "javac", "-d", dir, "-cp", filepath.Join(libs, "*"), f)
	})
}

func indent(code, by string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(code, "\n") {
		if l != "" {
			b.WriteString(by + l)
		}
	}
	return b.String()
}

func command(t *testing.T, argv ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
}

func venvPython(t *testing.T) string {
	venv := os.Getenv("LAB_VENV")
	if venv == "" {
		home, _ := os.UserHomeDir()
		venv = filepath.Join(home, ".cache", "kafka-delivery-lab", "venv")
	}
	py := filepath.Join(venv, "bin", "python")
	if _, err := os.Stat(py); err != nil {
		if testing.Short() {
			t.Skip("-short: no kafka-python venv (.ci/python-deps makes it)")
		}
		t.Fatalf("%v: run .ci/python-deps first", err)
	}
	return py
}

// javaLibs is .ci/java-deps's directory of the Apache Kafka 4.4.0 jars.
// -short skips: starting javac and java takes tens of seconds on two cores.
func javaLibs(t *testing.T) string {
	if testing.Short() {
		t.Skip("-short: compiles and runs Java (.ci/java-deps)")
	}
	home := os.Getenv("REAL_KAFKA_HOME")
	if home == "" {
		h, _ := os.UserHomeDir()
		home = filepath.Join(h, ".cache", "kafka-delivery-lab", "kafka-4.4.0")
	}
	libs := filepath.Join(home, "libs")
	_, jarErr := os.Stat(filepath.Join(libs, "kafka-clients-4.4.0.jar"))
	_, javacErr := exec.LookPath("javac")
	if jarErr != nil || javacErr != nil {
		t.Fatalf("javac or kafka-clients missing (%v, %v): run .ci/java-deps first (needs a JDK 17+)", jarErr, javacErr)
	}
	return libs
}

const goPrelude = `package lines

import (
	"context"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"
)

var _ = time.Millisecond

func credit(context.Context, kafka.Message) error { return nil }

func creditOf(rec *kgo.Record) *kgo.Record { return &kgo.Record{Key: rec.Key} }

`

const javaPrelude = `import java.time.Duration;
import java.util.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.*;

class Lines {
    static String creditOf(ConsumerRecord<String, String> r) { return r.value(); }

    static Map<TopicPartition, OffsetAndMetadata> nextOffsets(ConsumerRecords<String, String> records) {
        Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
        for (ConsumerRecord<String, String> r : records) {
            out.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
        }
        return out;
    }

`

// TestProducerRulesAreJavas asks the Java client's ProducerConfig, with no
// broker, about every producer shape the sandbox can be sent: the sandbox
// accepts exactly what Java accepts (within its ranges), and refuses the
// rest quoting Java's own message.
func TestProducerRulesAreJavas(t *testing.T) {
	libs := javaLibs(t)
	type shape struct {
		acks      Acks
		retries   int
		idem, txn bool
		inFlight  int
	}
	var shapes []shape
	var in bytes.Buffer
	for _, acks := range acksValues {
		for _, retries := range []int{0, 1, MaxRetries} {
			for _, idem := range []bool{false, true} {
				for _, txn := range []bool{false, true} {
					for _, inFlight := range []int{1, MaxInFlight} {
						shapes = append(shapes, shape{acks, retries, idem, txn, inFlight})
						fmt.Fprintf(&in, "%s %d %t %d %t\n", acks, retries, idem, inFlight, txn)
					}
				}
			}
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "java", "-cp", filepath.Join(libs, "*"), filepath.Join("testdata", "ProducerRules.java"))
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ProducerRules.java: %v", err)
	}
	answers := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(answers) != len(shapes) {
		t.Fatalf("%d answers for %d shapes:\n%s", len(answers), len(shapes), out)
	}
	refused := 0
	for i, sh := range shapes {
		s := Settings{Acks: sh.acks, Retries: sh.retries, Idempotent: sh.idem, Transactional: sh.txn, MaxInFlight: sh.inFlight, Commit: CommitAfter}
		err := checkSettings(&s)
		java, msg, _ := strings.Cut(answers[i], " ")
		switch {
		case java == "ok" && err != nil:
			t.Errorf("%+v: Java accepts, the sandbox refuses: %s", sh, err.Msg)
		case java != "ok" && err == nil:
			t.Errorf("%+v: Java refuses (%s), the sandbox accepts", sh, msg)
		case java != "ok" && !strings.Contains(err.Msg, msg):
			t.Errorf("%+v: the sandbox's %q does not quote Java's %q", sh, err.Msg, msg)
		}
		if err != nil {
			refused++
		}
	}
	t.Logf("%d producer shapes, %d refused by both", len(shapes), refused)
}
