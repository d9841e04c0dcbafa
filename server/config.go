package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons/fleet"
)

// Config is the app's configuration (API.md, "Configuration"). Each flag
// has an environment variable; a flag given on the command line wins.
type Config struct {
	Addr          string
	Brokers       []string // empty: the embedded broker
	EmbeddedPort  int
	DataDir       string
	MaxConcurrent int
	MaxQueue      int
	// PublicURL is where the lab is served when deployed (-public-url):
	// its host is the one name besides loopback the lab answers to.
	PublicURL *url.URL
	// SessionTimeout, when set, is the processors' group session timeout
	// on an external cluster (env LAB_SESSION_TIMEOUT_MS; a bad value is
	// ignored). It must not be below the cluster's
	// group.min.session.timeout.ms.
	SessionTimeout time.Duration
	// Cluster, when not 0, is how many Apache Kafka brokers the lab
	// starts and owns (lessons/cluster) instead of the embedded broker:
	// the cluster faults need it.
	Cluster int
	// TopicPrefix starts the name of every topic, group and
	// transactional id the lab uses on an external cluster
	// (-topic-prefix), where every instance given the same -brokers and
	// prefix shares its runs (lessons/fleet).
	TopicPrefix string
	// InstanceTimeout is how long this instance may go silent before the
	// others sharing its Kafka end its unfinished runs failed
	// (-instance-timeout).
	InstanceTimeout time.Duration
}

func loadConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", env("LAB_ADDR", "127.0.0.1:8080"), "where the web app listens (env LAB_ADDR)")
	brokers := fs.String("brokers", env("KAFKA_BROKERS", ""), "comma-separated external Kafka bootstrap addresses; empty runs the embedded broker (env KAFKA_BROKERS)")
	port := fs.String("embedded-port", env("LAB_EMBEDDED_PORT", "9092"), "embedded broker port on 127.0.0.1; 0 picks any free port (env LAB_EMBEDDED_PORT)")
	dataDir := fs.String("data-dir", env("LAB_DATA_DIR", ""), "embedded broker persistence directory; empty keeps data in memory (env LAB_DATA_DIR)")
	maxRuns := fs.String("max-runs", env("LAB_MAX_RUNS", "4"), "full-speed runs at once; a lesson run at human pace takes a tenth of one; more wait in the queue (env LAB_MAX_RUNS)")
	maxQueue := fs.String("max-queue", env("LAB_MAX_QUEUE", "1000"), "runs that may wait for room, one client at most a quarter of them; past it 429; 0 refuses at once (env LAB_MAX_QUEUE)")
	publicURL := fs.String("public-url", env("LAB_PUBLIC_URL", ""), "the address the lab is served at when deployed, e.g. https://lab.example.com; empty answers to loopback names only (env LAB_PUBLIC_URL)")
	clusterN := fs.String("cluster", env("LAB_CLUSTER", "0"), "start and own this many local Apache Kafka brokers (3 to 5; Java 17+, jars fetched once with Maven) for the faults that kill brokers; 0 runs the embedded broker (env LAB_CLUSTER)")
	prefix := fs.String("topic-prefix", env("LAB_TOPIC_PREFIX", "lab."), "with -brokers: the prefix of every topic, consumer group and transactional id the lab uses there; instances with the same -brokers and prefix are one lab (env LAB_TOPIC_PREFIX)")
	instanceTimeout := fs.String("instance-timeout", env("LAB_INSTANCE_TIMEOUT", "6s"), "with -brokers: how long this instance may go silent (a crash, a pause) before the other instances end its unfinished runs failed; it heartbeats four times in it (env LAB_INSTANCE_TIMEOUT)")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q: every setting is a -flag", fs.Arg(0))
	}
	c := Config{Addr: *addr, DataDir: *dataDir, TopicPrefix: *prefix}
	if !validPrefix(c.TopicPrefix) {
		return Config{}, fmt.Errorf("-topic-prefix %q: want letters, digits, '.', '_' or '-', at most 100 of them (e.g. lab.)", c.TopicPrefix)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return Config{}, fmt.Errorf("-addr %q: want host:port, e.g. 127.0.0.1:8080", c.Addr)
	}
	for _, b := range strings.Split(*brokers, ",") {
		if b = strings.TrimSpace(b); b == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(b); err != nil {
			return Config{}, fmt.Errorf("-brokers: %q is not host:port", b)
		}
		c.Brokers = append(c.Brokers, b)
	}
	var err error
	if c.EmbeddedPort, err = strconv.Atoi(*port); err != nil || c.EmbeddedPort < 0 || c.EmbeddedPort > 65535 {
		return Config{}, errors.New("-embedded-port: want a port number from 0 to 65535 (0 = any free port)")
	}
	if c.MaxConcurrent, err = strconv.Atoi(*maxRuns); err != nil || c.MaxConcurrent < 1 || c.MaxConcurrent > 64 {
		return Config{}, errors.New("-max-runs: want a number from 1 to 64")
	}
	if c.MaxQueue, err = strconv.Atoi(*maxQueue); err != nil || c.MaxQueue < 0 || c.MaxQueue > 10000 {
		return Config{}, errors.New("-max-queue: want a number from 0 to 10000 (0: no queue, a run that does not fit is refused)")
	}
	if *publicURL != "" {
		var ok bool
		if c.PublicURL, ok = parsePublicURL(*publicURL); !ok {
			return Config{}, fmt.Errorf("-public-url %q: want the lab's address as the browser shows it, e.g. https://lab.example.com", *publicURL)
		}
	}
	if c.Cluster, err = strconv.Atoi(*clusterN); err != nil || (c.Cluster != 0 && (c.Cluster < 3 || c.Cluster > 5)) {
		return Config{}, errors.New("-cluster: want a number of brokers from 3 to 5, or 0 for the embedded broker")
	}
	if c.Cluster > 0 && len(c.Brokers) > 0 {
		return Config{}, errors.New("-cluster and -brokers both given: the lab either starts its own cluster or uses yours; drop one")
	}
	if c.InstanceTimeout, err = time.ParseDuration(*instanceTimeout); err != nil || c.InstanceTimeout < fleet.MinLiveness || c.InstanceTimeout > fleet.MaxLiveness {
		return Config{}, fmt.Errorf("-instance-timeout %q: want a duration from %v to %v, e.g. 6s", *instanceTimeout, fleet.MinLiveness, fleet.MaxLiveness)
	}
	if ms, err := strconv.Atoi(getenv("LAB_SESSION_TIMEOUT_MS")); err == nil && ms > 0 {
		c.SessionTimeout = time.Duration(ms) * time.Millisecond
	}
	return c, nil
}

// validPrefix reports whether p can start a Kafka topic name.
func validPrefix(p string) bool {
	if p == "" || len(p) > 100 {
		return false
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
