package main

// docker-compose.yml and the Dockerfile cannot be run here (no Docker), so
// this test reads them and checks what would break `docker compose up`: the
// app pointed at an address the broker does not advertise on the compose
// network, a listener a host script cannot reach, an unpublished or
// loopback-only web address, an environment variable the app never reads
// (a typo is silently ignored at run time), starting before Kafka answers.

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestComposeMatchesConfig(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	kafka, ok := f.Services["kafka"]
	if !ok {
		t.Fatal("docker-compose.yml has no service kafka")
	}
	app, ok := f.Services["app"]
	if !ok {
		t.Fatal("docker-compose.yml has no service app")
	}
	known := composeKnownEnv(t)

	t.Run("kafka image", func(t *testing.T) {
		m := regexp.MustCompile(`^apache/kafka:(4\.\d+\.\d+)$`).FindStringSubmatch(kafka.Image)
		if m == nil {
			t.Fatalf("kafka image %q: want apache/kafka pinned to a 4.x release (apache/kafka:4.M.P), never latest", kafka.Image)
		}
		// Keep it the release CI tests against (.ci/real-kafka), when that says.
		if ci, err := os.ReadFile(filepath.Join("..", ".ci", "real-kafka")); err == nil {
			if v := regexp.MustCompile(`(?m)^KAFKA_VERSION=([0-9.]+)`).FindSubmatch(ci); v != nil && string(v[1]) != m[1] {
				t.Errorf("kafka image is %s but .ci/real-kafka tests Kafka %s: use the same release", m[1], v[1])
			}
		}
	})

	env := kafka.Environment
	listeners := composeListeners(t, "KAFKA_LISTENERS", env["KAFKA_LISTENERS"])
	advertised := composeListeners(t, "KAFKA_ADVERTISED_LISTENERS", env["KAFKA_ADVERTISED_LISTENERS"])
	kafkaNames := []string{"kafka"}
	if kafka.Hostname != "" {
		kafkaNames = append(kafkaNames, kafka.Hostname)
	}

	t.Run("kafka KRaft single node", func(t *testing.T) {
		want := map[string]string{
			"KAFKA_NODE_ID":                                  "1",
			"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR":         "1",
			"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
			"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR":            "1",
			"KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS":         "0",
			"KAFKA_AUTO_CREATE_TOPICS_ENABLE":                "true",
		}
		for k, v := range want {
			if env[k] != v {
				t.Errorf("kafka %s=%q, want %q", k, env[k], v)
			}
		}
		roles := strings.Split(env["KAFKA_PROCESS_ROLES"], ",")
		if !slices.Contains(roles, "broker") || !slices.Contains(roles, "controller") {
			t.Errorf("kafka KAFKA_PROCESS_ROLES=%q, want broker,controller", env["KAFKA_PROCESS_ROLES"])
		}
		if !regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`).MatchString(env["CLUSTER_ID"]) {
			t.Errorf("kafka CLUSTER_ID=%q: want a base64 UUID of 22 characters (kafka-storage.sh random-uuid)", env["CLUSTER_ID"])
		}
		protocols := map[string]bool{}
		for _, kv := range strings.Split(env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"], ",") {
			name, _, _ := strings.Cut(kv, ":")
			protocols[name] = true
		}
		for name := range listeners {
			if !protocols[name] {
				t.Errorf("listener %s has no entry in KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", name)
			}
		}
		ctrl := env["KAFKA_CONTROLLER_LISTENER_NAMES"]
		cl, ok := listeners[ctrl]
		if !ok {
			t.Fatalf("KAFKA_CONTROLLER_LISTENER_NAMES=%q is not in KAFKA_LISTENERS", ctrl)
		}
		if ibl := env["KAFKA_INTER_BROKER_LISTENER_NAME"]; ibl != "" {
			if _, ok := listeners[ibl]; !ok || ibl == ctrl {
				t.Errorf("KAFKA_INTER_BROKER_LISTENER_NAME=%q: want a broker listener of KAFKA_LISTENERS", ibl)
			}
		}
		// "1@kafka:9093": this node, on the controller listener.
		id, hp, _ := strings.Cut(env["KAFKA_CONTROLLER_QUORUM_VOTERS"], "@")
		h, p, err := net.SplitHostPort(hp)
		if id != env["KAFKA_NODE_ID"] || err != nil || !slices.Contains(kafkaNames, h) || p != cl.port {
			t.Errorf("KAFKA_CONTROLLER_QUORUM_VOTERS=%q: want %s@kafka:%s (this node, controller listener)", env["KAFKA_CONTROLLER_QUORUM_VOTERS"], env["KAFKA_NODE_ID"], cl.port)
		}
	})

	t.Run("app reaches kafka on the compose network", func(t *testing.T) {
		bootstrap := strings.Split(app.Environment["KAFKA_BROKERS"], ",")
		if bootstrap[0] == "" {
			t.Fatal("app sets no KAFKA_BROKERS: it would run its embedded broker instead of the kafka service")
		}
		for _, b := range bootstrap {
			h, p, err := net.SplitHostPort(strings.TrimSpace(b))
			if err != nil || !slices.Contains(kafkaNames, h) {
				t.Errorf("app KAFKA_BROKERS entry %q: want kafka:PORT (the kafka service's name on the compose network)", b)
				continue
			}
			// The listener bound to that port in the container ...
			var name string
			for n, l := range listeners {
				if l.port == p {
					name = n
				}
			}
			if name == "" {
				t.Errorf("app KAFKA_BROKERS %q: no listener in KAFKA_LISTENERS (%s) binds port %s", b, env["KAFKA_LISTENERS"], p)
				continue
			}
			// ... must advertise an address the app can resolve and reach:
			// the service's name and that same port (no port mapping
			// between containers).
			adv, ok := advertised[name]
			if !ok || !slices.Contains(kafkaNames, adv.host) || adv.port != p {
				t.Errorf("app bootstraps from %s, listener %s; it advertises %s:%s, want kafka:%s, or every request after the first goes somewhere the app cannot reach", b, name, adv.host, adv.port, p)
			}
		}
	})

	t.Run("host scripts reach kafka on localhost", func(t *testing.T) {
		found := false
		for name, adv := range advertised {
			if adv.host != "localhost" && adv.host != "127.0.0.1" {
				continue
			}
			found = true
			l, ok := listeners[name]
			if !ok {
				t.Errorf("advertised listener %s is not in KAFKA_LISTENERS", name)
				continue
			}
			if !composePublished(kafka.Ports, adv.port, l.port) {
				t.Errorf("listener %s advertises %s:%s but kafka's ports %v do not publish host port %s to container port %s", name, adv.host, adv.port, kafka.Ports, adv.port, l.port)
			}
		}
		if !found {
			t.Error("no listener advertises localhost: a learner's script on the host could bootstrap but not produce or consume")
		}
	})

	t.Run("app listens on a published port on all interfaces", func(t *testing.T) {
		addr := app.Environment["LAB_ADDR"]
		h, p, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatalf("app LAB_ADDR=%q: %v", addr, err)
		}
		if h != "0.0.0.0" && h != "" && h != "::" {
			t.Errorf("app LAB_ADDR=%q: bind 0.0.0.0 in a container; on %s the published port cannot reach the app", addr, h)
		}
		if !composePublished(app.Ports, "", p) {
			t.Errorf("app LAB_ADDR port %s is not published (ports %v)", p, app.Ports)
		}
	})

	t.Run("app sets only variables the app reads", func(t *testing.T) {
		for k := range app.Environment {
			if !known[k] {
				t.Errorf("app sets %s, which the server never reads (it reads %v): a typo?", k, composeSorted(known))
			}
		}
		// The session timeout the app asks for must be one the broker allows.
		if v := app.Environment["LAB_SESSION_TIMEOUT_MS"]; v != "" {
			ms, err := strconv.Atoi(v)
			lo, err2 := strconv.Atoi(cmp.Or(env["KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS"], "6000"))
			if err != nil || err2 != nil || ms < lo {
				t.Errorf("app LAB_SESSION_TIMEOUT_MS=%q is below kafka's group.min.session.timeout.ms %d: joins would fail with INVALID_SESSION_TIMEOUT", v, lo)
			}
		}
	})

	t.Run("app waits for a healthy kafka", func(t *testing.T) {
		if c := app.DependsOn["kafka"]; c != "service_healthy" {
			t.Errorf("app depends_on kafka with condition %q, want service_healthy", c)
		}
		hc := kafka.Healthcheck
		if hc == nil || hc.Test == "" || hc.Disable {
			t.Fatal("kafka has no healthcheck: service_healthy would never be reached")
		}
		test := string(hc.Test)
		if !strings.Contains(test, "kafka-broker-api-versions.sh") && !strings.Contains(test, "kafka-topics.sh") {
			t.Errorf("kafka healthcheck %q: want a real request to the broker (kafka-broker-api-versions.sh or kafka-topics.sh)", test)
		}
		m := regexp.MustCompile(`--bootstrap-server[ =]([^ ]+)`).FindStringSubmatch(test)
		ok := false
		if m != nil {
			if h, p, err := net.SplitHostPort(m[1]); err == nil && (h == "localhost" || slices.Contains(kafkaNames, h)) {
				for _, l := range listeners {
					ok = ok || l.port == p
				}
			}
		}
		if !ok {
			t.Errorf("kafka healthcheck %q: want --bootstrap-server at one of kafka's own listeners", test)
		}
		if hc.Interval == "" || hc.Retries < 1 {
			t.Errorf("kafka healthcheck: set interval and retries (got %q, %d)", hc.Interval, hc.Retries)
		}
	})

	t.Run("Dockerfile", func(t *testing.T) {
		ctx := app.Build.Context
		if ctx == "" {
			t.Fatal("app has no build: it must be built from the repository's Dockerfile")
		}
		df := filepath.Join("..", ctx, cmp.Or(app.Build.Dockerfile, "Dockerfile"))
		raw, err := os.ReadFile(df)
		if err != nil {
			t.Fatal(err)
		}
		stages := composeDockerfile(string(raw))
		if len(stages) < 2 {
			t.Fatalf("%s: want a multi-stage build (a Go builder, then a small runtime image), got %d stage(s)", df, len(stages))
		}
		gomod, err := os.ReadFile(filepath.Join("..", "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		gov := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
		builder, final := stages[0], stages[len(stages)-1]
		if gov == nil || !strings.HasPrefix(builder.from, "golang:"+string(gov[1])) {
			t.Errorf("builder stage FROM %q: want golang:%s (go.mod's go version)", builder.from, gov[1])
		}
		var out string
		for _, run := range builder.all("RUN") {
			if m := regexp.MustCompile(`go build .*-o (\S+) .*\./server\b`).FindStringSubmatch(run); m != nil {
				out = m[1]
			}
		}
		if out == "" {
			t.Errorf("builder stage has no `go build ... -o BIN ./server`")
		}
		if !strings.Contains(strings.Join(append(builder.all("ENV"), builder.all("RUN")...), "\n"), "CGO_ENABLED=0") {
			t.Error("builder stage: set CGO_ENABLED=0, or the binary needs a libc the runtime image lacks")
		}
		if strings.HasPrefix(final.from, "golang:") {
			t.Errorf("runtime stage FROM %q: want a small image, not the Go toolchain", final.from)
		}
		if u := final.last("USER"); u == "" || u == "root" || u == "0" || strings.HasPrefix(u, "0:") || strings.HasPrefix(u, "root:") {
			t.Errorf("runtime stage USER %q: run as a non-root user", u)
		}
		var entry []string
		if err := json.Unmarshal([]byte(final.last("ENTRYPOINT")), &entry); err != nil || len(entry) == 0 || (out != "" && entry[0] != out) {
			t.Errorf("runtime ENTRYPOINT %q: want [%q] in exec form", final.last("ENTRYPOINT"), out)
		}
		_, port, _ := net.SplitHostPort(app.Environment["LAB_ADDR"])
		if !slices.Contains(strings.Fields(strings.Join(final.all("EXPOSE"), " ")), port) &&
			!slices.Contains(strings.Fields(strings.Join(final.all("EXPOSE"), " ")), port+"/tcp") {
			t.Errorf("runtime stage EXPOSE %v does not include the app's port %s", final.all("EXPOSE"), port)
		}
		for _, e := range final.all("ENV") {
			for _, kv := range strings.Fields(e) {
				if k, _, _ := strings.Cut(kv, "="); !known[k] {
					t.Errorf("Dockerfile sets ENV %s, which the server never reads", k)
				}
			}
		}
		ignore, err := os.ReadFile(filepath.Join("..", ctx, ".dockerignore"))
		if err != nil || !regexp.MustCompile(`(?m)^/?\.git/?$`).Match(ignore) {
			t.Errorf(".dockerignore must exist and exclude .git (%v)", err)
		}
	})
}

// composeKnownEnv: the environment variables the server reads, from its
// source (env("NAME", ...) in loadConfig, getenv("NAME") elsewhere).
func composeKnownEnv(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`\b(?:env|getenv|Getenv|LookupEnv)\("([A-Z][A-Z0-9_]*)"`)
	known := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllSubmatch(src, -1) {
			known[string(m[1])] = true
		}
	}
	// If this finds nothing the check would pass vacuously: fail instead.
	for _, k := range []string{"LAB_ADDR", "KAFKA_BROKERS", "LAB_SESSION_TIMEOUT_MS"} {
		if !known[k] {
			t.Fatalf("found no read of %s in server/*.go (found %v): update composeKnownEnv's pattern", k, composeSorted(known))
		}
	}
	return known
}

func composeSorted(m map[string]bool) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	slices.Sort(s)
	return s
}

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Image       string         `yaml:"image"`
	Hostname    string         `yaml:"hostname"`
	Build       composeBuild   `yaml:"build"`
	Environment composeEnv     `yaml:"environment"`
	Ports       []composePort  `yaml:"ports"`
	DependsOn   composeDepends `yaml:"depends_on"`
	Healthcheck *composeHealth `yaml:"healthcheck"`
}

// composeBuild is `build: DIR` or `build: {context: DIR, dockerfile: F}`.
type composeBuild struct{ Context, Dockerfile string }

func (b *composeBuild) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		b.Context = n.Value
		return nil
	}
	var m struct{ Context, Dockerfile string }
	if err := n.Decode(&m); err != nil {
		return err
	}
	b.Context, b.Dockerfile = cmp.Or(m.Context, "."), m.Dockerfile
	return nil
}

// composeEnv is `environment:` as a map or as a list of NAME=value.
type composeEnv map[string]string

func (e *composeEnv) UnmarshalYAML(n *yaml.Node) error {
	*e = composeEnv{}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			v := n.Content[i+1]
			if v.Tag == "!!null" {
				(*e)[n.Content[i].Value] = ""
			} else {
				(*e)[n.Content[i].Value] = v.Value
			}
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			k, v, _ := strings.Cut(item.Value, "=")
			(*e)[k] = v
		}
	default:
		return fmt.Errorf("line %d: environment must be a map or a list", n.Line)
	}
	return nil
}

// composePort is one `ports:` entry, short ("[IP:]HOST:CONTAINER[/PROTO]")
// or long ({target, published, host_ip}).
type composePort struct{ HostIP, Published, Target string }

func (p composePort) String() string { return p.HostIP + ":" + p.Published + "->" + p.Target }

func (p *composePort) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		var m struct {
			Target    string `yaml:"target"`
			Published string `yaml:"published"`
			HostIP    string `yaml:"host_ip"`
		}
		if err := n.Decode(&m); err != nil {
			return err
		}
		*p = composePort{m.HostIP, m.Published, m.Target}
		return nil
	}
	s, _, _ := strings.Cut(n.Value, "/")
	parts := strings.Split(s, ":")
	switch len(parts) {
	case 1:
		*p = composePort{Target: parts[0]} // a random host port
	case 2:
		*p = composePort{Published: parts[0], Target: parts[1]}
	case 3:
		*p = composePort{parts[0], parts[1], parts[2]}
	default:
		return fmt.Errorf("line %d: port %q not understood", n.Line, n.Value)
	}
	return nil
}

// composePublished: some entry publishes container port target on host
// port published ("" = the same as target).
func composePublished(ports []composePort, published, target string) bool {
	return slices.ContainsFunc(ports, func(p composePort) bool {
		return p.Target == target && p.Published == cmp.Or(published, target)
	})
}

// composeDepends maps a service to its condition (list form: service_started).
type composeDepends map[string]string

func (d *composeDepends) UnmarshalYAML(n *yaml.Node) error {
	*d = composeDepends{}
	if n.Kind == yaml.SequenceNode {
		for _, item := range n.Content {
			(*d)[item.Value] = "service_started"
		}
		return nil
	}
	var m map[string]struct {
		Condition string `yaml:"condition"`
	}
	if err := n.Decode(&m); err != nil {
		return err
	}
	for k, v := range m {
		(*d)[k] = cmp.Or(v.Condition, "service_started")
	}
	return nil
}

type composeHealth struct {
	Test     composeCmd `yaml:"test"`
	Interval string     `yaml:"interval"`
	Retries  int        `yaml:"retries"`
	Disable  bool       `yaml:"disable"`
}

// composeCmd is a command as a string or a list (["CMD", ...] or
// ["CMD-SHELL", "..."]), joined with spaces.
type composeCmd string

func (c *composeCmd) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*c = composeCmd(n.Value)
		return nil
	}
	var l []string
	if err := n.Decode(&l); err != nil {
		return err
	}
	*c = composeCmd(strings.Join(l, " "))
	return nil
}

type composeListener struct{ host, port string }

// composeListeners parses "NAME://HOST:PORT,..." into name -> address.
func composeListeners(t *testing.T, what, v string) map[string]composeListener {
	t.Helper()
	out := map[string]composeListener{}
	for _, l := range strings.Split(v, ",") {
		name, hp, ok := strings.Cut(strings.TrimSpace(l), "://")
		h, p, err := net.SplitHostPort(hp)
		if !ok || err != nil {
			t.Fatalf("kafka %s=%q: %q is not NAME://HOST:PORT", what, v, l)
		}
		out[name] = composeListener{h, p}
	}
	return out
}

// composeStage is one FROM ... stage of a Dockerfile: its base image and
// its instructions (continuation lines joined).
type composeStage struct {
	from string
	ins  [][2]string // {INSTRUCTION, arguments}
}

func (s composeStage) all(ins string) []string {
	var out []string
	for _, i := range s.ins {
		if i[0] == ins {
			out = append(out, i[1])
		}
	}
	return out
}

func (s composeStage) last(ins string) string {
	a := s.all(ins)
	if len(a) == 0 {
		return ""
	}
	return a[len(a)-1]
}

func composeDockerfile(src string) []composeStage {
	var stages []composeStage
	var cur string
	for line := range strings.Lines(src) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") || (line == "" && cur == "") {
			continue
		}
		if c, ok := strings.CutSuffix(line, "\\"); ok {
			cur += c + " "
			continue
		}
		cur += line
		ins, args, _ := strings.Cut(strings.TrimSpace(cur), " ")
		cur = ""
		ins, args = strings.ToUpper(ins), strings.TrimSpace(args)
		if ins == "FROM" {
			img := strings.Fields(args)
			for len(img) > 1 && strings.HasPrefix(img[0], "--") {
				img = img[1:]
			}
			stages = append(stages, composeStage{from: img[0]})
			continue
		}
		if ins != "" && len(stages) > 0 {
			s := &stages[len(stages)-1]
			s.ins = append(s.ins, [2]string{ins, args})
		}
	}
	return stages
}
