package cluster

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPomIsTheCIScriptsPom: the app resolves the jars from its own copy of
// .ci/real-kafka.d/pom.xml, so that both find one cache under one
// fingerprint; a change to one must be made to the other.
func TestPomIsTheCIScriptsPom(t *testing.T) {
	ci, err := os.ReadFile("../../.ci/real-kafka.d/pom.xml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ci, pom) {
		t.Fatal("lessons/cluster/pom.xml differs from .ci/real-kafka.d/pom.xml: copy it over")
	}
	script, err := os.ReadFile("../../.ci/real-kafka")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"KAFKA_VERSION=" + KafkaVersion, "LOG4J_VERSION=" + log4jVersion, "DEPENDENCY_PLUGIN=" + dependencyPlugin} {
		if !strings.Contains(string(script), v) {
			t.Errorf(".ci/real-kafka does not set %s: the two would cache different jars", v)
		}
	}
}

// TestNoJavaIsOneSentence: without Java the cluster says what it needs.
func TestNoJavaIsOneSentence(t *testing.T) {
	_, err := Start(context.Background(), Options{Getenv: func(k string) string {
		if k == "JAVA_HOME" {
			return t.TempDir()
		}
		return ""
	}})
	if err != ErrNoJava {
		t.Fatalf("got %v, want ErrNoJava", err)
	}
}

// clusterTests is set by .ci/run: the tests that start a real cluster then
// fail, not skip, when it cannot start.
func needCluster(t *testing.T) {
	t.Helper()
	if os.Getenv("LAB_CLUSTER_TESTS") == "" {
		t.Skip("set LAB_CLUSTER_TESTS=1 to start a three-broker Apache Kafka cluster (Java 17+, the cached jars)")
	}
}

// jvms counts the live kafka.Kafka processes whose command line names dir.
func jvms(t *testing.T, dir string) int {
	out, _ := exec.Command("pgrep", "-f", "kafka.Kafka "+dir).Output()
	return len(strings.Fields(string(out)))
}

// TestClusterStartsKillsAndHeals: three brokers come up, a killed one is
// restarted and every replica is back in sync, and Close leaves no JVM.
func TestClusterStartsKillsAndHeals(t *testing.T) {
	needCluster(t)
	ctx := context.Background()
	t0 := time.Now()
	var progress bytes.Buffer
	c, err := Start(ctx, Options{Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("started in %v:\n%s", time.Since(t0).Round(time.Millisecond), progress.String())
	dir := c.Dir()
	defer func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
		if n := jvms(t, dir); n != 0 {
			t.Errorf("%d broker JVMs left after Close", n)
		}
	}()
	if n := jvms(t, dir); n != 3 {
		t.Fatalf("%d broker JVMs, want 3", n)
	}
	for _, n := range c.nodes {
		if rss := residentMB(n.cmd.Process.Pid); rss > 0 {
			t.Logf("broker %d: %d MB resident", n.id, rss)
		}
	}
	s := c.Status(ctx)
	t.Logf("status %+v", s)
	if s.Controller < 1 || len(s.Brokers) != 3 {
		t.Fatalf("status %+v: want 3 brokers and a controller", s)
	}
	if err := c.Kill(2); err != nil {
		t.Fatal(err)
	}
	if s := c.Status(ctx); s.Brokers[1].State != Killed {
		t.Fatalf("broker 2 killed, status %+v", s)
	}
	t1 := time.Now()
	if err := c.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("healed in %v", time.Since(t1).Round(time.Millisecond))
	if s := c.Status(ctx); !s.Brokers[1].Up || s.Brokers[1].State != Running {
		t.Fatalf("after heal, status %+v", s)
	}
}

// residentMB is a process's resident memory, from /proc.
func residentMB(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.Atoi(f[1])
	return pages * os.Getpagesize() >> 20
}

// TestClusterIDNeverLooksLikeAnOption: kafka-storage format takes an id
// starting with '-' for an option, so none is ever drawn.
func TestClusterIDNeverLooksLikeAnOption(t *testing.T) {
	for range 5000 {
		if id := newClusterID(); strings.HasPrefix(id, "-") || len(id) != 22 {
			t.Fatalf("cluster id %q", id)
		}
	}
}
