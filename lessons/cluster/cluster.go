// Package cluster starts and owns a replicated Apache Kafka cluster on
// loopback: N combined controller+broker nodes in KRaft mode, run from the
// Maven Central jars .ci/real-kafka caches, with Java 17+. It is what the
// cluster faults (lessons.Fault.Needs == "cluster") act on: a node can be
// paused (SIGSTOP), resumed, killed (SIGKILL) and restarted, and the
// cluster healed before the next run.
//
// Combined nodes matter for leader-crash: while two of three are paused
// the quorum is lost, so no controller can shrink the in-sync set or fence
// the paused followers; once the leader is killed and they resume, they
// elect a controller within about a second and a follower still in the
// in-sync set becomes leader. With a separate controller a pause past
// broker.session.timeout.ms would fence them instead.
package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Options configure a cluster. Zero values take the defaults.
type Options struct {
	Brokers  int                 // 3 when 0
	Getenv   func(string) string // os.Getenv when nil: JAVA_HOME, REAL_KAFKA_HOME, HOME
	Progress io.Writer           // start-up progress; io.Discard when nil
	// Ready bounds the wait for every broker to answer (default 120 s:
	// three JVMs starting on two busy cores).
	Ready time.Duration
}

// heap is each node's JVM heap: three of them stay under 2 GB together.
const heap = "-Xmx448m"

// State is what the lab did to a node's process.
type State string

const (
	Running State = "running"
	Paused  State = "paused" // SIGSTOP: alive, answers nothing
	Killed  State = "killed" // SIGKILL, not restarted yet
	// Stopped is a controlled shutdown (SIGTERM), not restarted yet: the
	// broker told the controller it was leaving, which took it out of
	// every in-sync set at once.
	Stopped State = "stopped"
)

type node struct {
	id             int32
	port, ctrlPort int
	dir            string

	mu    sync.Mutex
	cmd   *exec.Cmd
	done  chan struct{} // closed when cmd has exited and been reaped
	state State
}

// Cluster is a running cluster the lab owns.
type Cluster struct {
	java, libs, dir string
	nodes           []*node
	client          *kgo.Client
	admin           *kadm.Client
	ready           time.Duration
	progress        io.Writer
}

// ErrNoJava is returned when no Java 17+ is found.
var ErrNoJava = errors.New("cluster mode runs Apache Kafka " + KafkaVersion + " brokers and needs Java 17 or newer: install one (on Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME")

// Start resolves the jars, formats and starts every node and waits until
// each one serves as a broker. On error nothing is left running.
func Start(ctx context.Context, o Options) (_ *Cluster, err error) {
	if o.Brokers == 0 {
		o.Brokers = 3
	}
	if o.Brokers < 3 || o.Brokers > 5 {
		return nil, fmt.Errorf("-cluster %d: want 3 to 5 brokers (3 are enough to lose an acknowledged write)", o.Brokers)
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Ready == 0 {
		o.Ready = 120 * time.Second
	}
	java, err := findJava(o.Getenv)
	if err != nil {
		return nil, err
	}
	libs, err := resolveJars(ctx, CacheDir(o.Getenv), "mvn", o.Progress)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "lab-cluster.")
	if err != nil {
		return nil, err
	}
	c := &Cluster{java: java, libs: libs, dir: dir, ready: o.Ready, progress: o.Progress}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	ports, err := freePorts(2 * o.Brokers)
	if err != nil {
		return nil, err
	}
	var voters, addrs []string
	for i := range o.Brokers {
		n := &node{id: int32(i + 1), port: ports[2*i], ctrlPort: ports[2*i+1], dir: filepath.Join(dir, fmt.Sprintf("node-%d", i+1)), state: Running}
		c.nodes = append(c.nodes, n)
		voters = append(voters, fmt.Sprintf("%d@127.0.0.1:%d", n.id, n.ctrlPort))
		addrs = append(addrs, n.addr())
	}
	if err := os.WriteFile(filepath.Join(dir, "log4j2.properties"), []byte(log4jConfig), 0o644); err != nil {
		return nil, err
	}
	clusterID := newClusterID()
	t0 := time.Now()
	fmt.Fprintf(o.Progress, "cluster: formatting %d KRaft nodes in %s...\n", o.Brokers, dir)
	errs := make([]error, len(c.nodes))
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		if err := os.MkdirAll(n.dir, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(n.props(), []byte(n.config(strings.Join(voters, ","), o.Brokers)), 0o644); err != nil {
			return nil, err
		}
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = c.format(ctx, n, clusterID) }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Progress, "cluster: starting %d brokers on %s...\n", o.Brokers, strings.Join(addrs, ", "))
	for _, n := range c.nodes {
		if err := c.launch(n); err != nil {
			return nil, err
		}
	}
	if c.client, err = kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.RequestRetries(2)); err != nil {
		return nil, err
	}
	c.admin = kadm.NewClient(c.client)
	if err := c.waitServing(ctx, o.Ready); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Progress, "cluster: %d brokers up in %.1f s (format and start)\n", o.Brokers, time.Since(t0).Seconds())
	return c, nil
}

// Addrs are the brokers' bootstrap addresses.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.addr()
	}
	return out
}

// Dir is the cluster's data directory: each node's log and data under
// node-N.
func (c *Cluster) Dir() string { return c.dir }

// Close kills every node and removes the data. SIGKILL, not a controlled
// shutdown: the data is thrown away, and combined nodes stopped together
// wait for a controller that is itself stopping (15 s measured).
func (c *Cluster) Close() error {
	if c.client != nil {
		c.client.Close()
	}
	for _, n := range c.nodes {
		n.mu.Lock()
		cmd, done := n.cmd, n.done
		n.mu.Unlock()
		if cmd == nil {
			continue
		}
		// The whole process group: the JVM is its leader (Setpgid).
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	if c.dir != "" && strings.Contains(filepath.Base(c.dir), "lab-cluster.") {
		return os.RemoveAll(c.dir)
	}
	return nil
}

func (n *node) addr() string  { return "127.0.0.1:" + strconv.Itoa(n.port) }
func (n *node) props() string { return filepath.Join(n.dir, "server.properties") }
func (n *node) log() string   { return filepath.Join(n.dir, "broker.log") }

// config is a node's server.properties.
func (n *node) config(voters string, brokers int) string {
	return fmt.Sprintf(`# A combined controller+broker node of the lab's cluster (lessons/cluster).
process.roles=broker,controller
node.id=%[1]d
controller.quorum.voters=%[2]s
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:%[3]d,CONTROLLER://127.0.0.1:%[4]d
advertised.listeners=PLAINTEXT://127.0.0.1:%[3]d
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=%[5]s

# Every topic on every broker. min.insync.replicas is Kafka's default, 1,
# for the ledger and the internal topics, so the processor and the
# coordinators go on while follower-down leaves the leader alone in every
# in-sync set; a run's input topic sets its own (2, or 1 in at-least-once's
# common preset), and only it is what the cluster faults are about.
default.replication.factor=%[6]d
min.insync.replicas=1
offsets.topic.replication.factor=%[6]d
transaction.state.log.replication.factor=%[6]d
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=%[6]d
share.coordinator.state.topic.min.isr=1
offsets.topic.num.partitions=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.num.partitions=1

auto.create.topics.enable=true
num.partitions=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=500

# A killed leader is fenced, and a follower elected, 3-5 s after the kill
# instead of 8-10 s with the defaults (9 s session, 2 s heartbeat).
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=500

# Two cores for three nodes: few threads.
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
num.replica.fetchers=1
background.threads=2
log.cleaner.enable=false
`, n.id, voters, n.port, n.ctrlPort, filepath.Join(n.dir, "data"), brokers)
}

func (c *Cluster) jvm() []string {
	return []string{"-Djava.awt.headless=true",
		"-Dlog4j2.configurationFile=" + filepath.Join(c.dir, "log4j2.properties"),
		"-cp", filepath.Join(c.libs, "*")}
}

// format writes the node's storage: a short-lived tool JVM.
func (c *Cluster) format(ctx context.Context, n *node, clusterID string) error {
	args := append([]string{"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"}, c.jvm()...)
	args = append(args, "kafka.tools.StorageTool", "format", "-t", clusterID, "-c", n.props())
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, c.java, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kafka-storage format of node %d failed (%w): %s", n.id, err, tail(out.String(), 1500))
	}
	return nil
}

// launch starts the node's broker JVM in its own process group, which dies
// with the lab (Pdeathsig) however the lab ends.
func (c *Cluster) launch(n *node) error {
	logf, err := os.OpenFile(n.log(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	// C1 only: three brokers start (and a killed one restarts) on two
	// cores in a fraction of the CPU C2 takes, and a lab's few thousand
	// records never need C2's code.
	args := append([]string{heap, "-Xms128m", "-XX:TieredStopAtLevel=1", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20"}, c.jvm()...)
	args = append(args, "kafka.Kafka", n.props())
	cmd := exec.Command(c.java, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting broker %d: %w", n.id, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	n.mu.Lock()
	n.cmd, n.done, n.state = cmd, done, Running
	n.mu.Unlock()
	return nil
}

// waitServing waits until every node is alive and the cluster's metadata
// lists every broker: a KRaft broker is listed once it is unfenced, and
// then serves produce and fetch requests.
func (c *Cluster) waitServing(ctx context.Context, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		for _, n := range c.nodes {
			n.mu.Lock()
			done := n.done
			n.mu.Unlock()
			select {
			case <-done:
				return fmt.Errorf("broker %d exited while starting; its log: %s\n%s", n.id, n.log(), tailFile(n.log(), 3000))
			default:
			}
		}
		if up, err := c.brokersUp(ctx); err == nil && len(up) == len(c.nodes) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the cluster's brokers did not all come up within %s (logs under %s)", within, c.dir)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// brokersUp asks the cluster which brokers it lists.
func (c *Cluster) brokersUp(ctx context.Context) ([]int32, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	req.Topics = []kmsg.MetadataRequestTopic{}
	resp, err := req.RequestWith(ctx, c.client)
	if err != nil {
		return nil, err
	}
	var ids []int32
	for _, b := range resp.Brokers {
		ids = append(ids, b.NodeID)
	}
	slices.Sort(ids)
	return ids, nil
}

func (c *Cluster) node(id int32) (*node, error) {
	for _, n := range c.nodes {
		if n.id == id {
			return n, nil
		}
	}
	return nil, fmt.Errorf("the cluster has no broker %d", id)
}

func findJava(getenv func(string) string) (string, error) {
	java := "java"
	if h := getenv("JAVA_HOME"); h != "" {
		java = filepath.Join(h, "bin", "java")
	}
	path, err := exec.LookPath(java)
	if err != nil {
		return "", ErrNoJava
	}
	out, err := exec.Command(path, "-XshowSettings:properties", "-version").CombinedOutput()
	if err != nil {
		return "", ErrNoJava
	}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), " = "); ok && k == "java.specification.version" {
			if major, err := strconv.Atoi(strings.SplitN(v, ".", 2)[0]); err == nil && major >= 17 {
				return path, nil
			}
			return "", fmt.Errorf("%w (%s is Java %s)", ErrNoJava, path, v)
		}
	}
	return "", ErrNoJava
}

// freePorts picks n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// newClusterID is a KRaft cluster id: 16 random bytes, base64url. One in
// 64 starts with '-', which kafka-storage's argument parser takes for an
// option ("--cluster-id: expected one argument", seen in CI); Kafka's own
// Uuid.randomUuid draws again in that case, and so does this.
func newClusterID() string {
	for {
		if id := base64.RawURLEncoding.EncodeToString(randomBytes(16)); !strings.HasPrefix(id, "-") {
			return id
		}
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func tailFile(path string, n int) string {
	b, _ := os.ReadFile(path)
	return tail(string(b), n)
}

// log4jConfig sends the brokers' logs to stderr (the node's broker.log),
// without the request and state-change chatter.
const log4jConfig = `status = warn
name = lab-cluster
shutdownHook = disable
appender.out.type = Console
appender.out.name = STDERR
appender.out.target = SYSTEM_ERR
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d{HH:mm:ss,SSS}] %-5p %m (%c{1.})%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDERR
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
logger.configdump.name = org.apache.kafka.common.config.AbstractConfig
logger.configdump.level = WARN
`
