// Command server runs Kafka Delivery Lab: the web app and, unless told to
// use an external cluster, an embedded Kafka-protocol broker.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons/broker"
	"github.com/kafka-delivery-lab/lab/lessons/cluster"
	"github.com/kafka-delivery-lab/lab/lessons/content"
	"github.com/kafka-delivery-lab/lab/lessons/fleet"
	"github.com/kafka-delivery-lab/lab/lessons/pipeline"
	"github.com/kafka-delivery-lab/lab/lessons/runs"
	"github.com/kafka-delivery-lab/lab/lessons/samples"
)

// shutdownWait bounds a graceful stop: runs are cancelled, viewers
// disconnected and the broker closed within it.
const shutdownWait = 5 * time.Second

// lightPerSlot is how many light runs (a lesson's deposits at 50 ms or
// slower, or a run of at most 100) share one full-speed slot: with the
// default 4 slots, 40 lesson runs at once; the rest wait in the queue.
// Each light run still has a producer, a consumer-group member and an
// auditor, and the embedded broker's group session timeout is 1 s: on a
// starved machine members miss it (BenchmarkClass reports how many runs
// that costs). Not yet measured on a quiet machine: a guess below the 60
// lesson runs at once that issue 15 saw finish on two cores.
const lightPerSlot = 10

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "kafka-delivery-lab:", err)
		os.Exit(1)
	}
}

// run starts the lab and serves until ctx is done.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	// Lessons show the sample files that the tests run.
	lessons, err := content.New(samples.Read)
	if err == nil {
		// The lesson files are embedded: a broken one is a defect of
		// this build, so say which and serve nothing.
		err = errors.Join(lessons.Validate(), lessons.CheckSamples())
	}
	if err != nil {
		return err
	}
	var owned *cluster.Cluster
	if cfg.Cluster > 0 {
		// Stopped on every way out of run; if the lab itself is killed,
		// each broker's Pdeathsig kills it too.
		if owned, err = cluster.Start(ctx, cluster.Options{Brokers: cfg.Cluster, Getenv: getenv, Progress: stderr}); err != nil {
			return err
		}
		defer owned.Close()
	}
	b, err := openBroker(cfg, owned)
	if err != nil {
		return err
	}
	defer b.Close()

	tuning := pipeline.DefaultTuning()
	env := pipeline.Env{Brokers: b.Addrs(), Admin: b.Admin()}
	switch {
	case owned != nil:
		tuning = pipeline.ClusterTuning()
		env.Cluster = owned
	case b.Mode() == broker.External:
		// Kafka's default group.min.session.timeout.ms.
		tuning.SessionTimeout = cmp.Or(cfg.SessionTimeout, 6*time.Second)
	}
	env.Tuning = tuning
	rcfg := runs.Config{MaxConcurrent: cfg.MaxConcurrent, LightPerSlot: lightPerSlot, MaxQueue: cfg.MaxQueue}
	var shared *fleet.Fleet
	if b.Mode() == broker.External {
		// Every instance on this cluster is one lab; the embedded
		// broker and the owned cluster are one instance's own.
		if shared, err = fleet.New(fleet.Config{Brokers: b.Addrs(), Prefix: cfg.TopicPrefix, Liveness: cfg.InstanceTimeout}); err != nil {
			return err
		}
		rcfg.Instance, rcfg.Observer, rcfg.JoinTaken = shared.ID(), shared, shared.JoinTaken
		env.Prefix = cfg.TopicPrefix
	}
	registry := runs.New(env, rcfg)
	var all Runs = registry
	if shared != nil {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := shared.Start(sctx, registry)
		cancel()
		if err != nil {
			shared.Kill()
			return err
		}
		all = sharedRuns{registry, shared}
	}
	app := newApp(b, all, lessons)
	app.hosts.public = cfg.PublicURL
	if owned != nil {
		app.cluster = owned
	}

	if shared != nil {
		defer shared.Kill() // after Close, on the way out of every error
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("web app: cannot listen on %s (%w); set -addr or LAB_ADDR to another address", cfg.Addr, err)
	}
	fmt.Fprintf(stdout, "web:    http://%s/\n", ln.Addr())
	for _, a := range b.Addrs() {
		fmt.Fprintf(stdout, "broker: %s (%s)\n", a, b.Mode())
	}
	if shared != nil {
		fmt.Fprintf(stdout, "instance: %s (runs shared through the topics %s*)\n", shared.ID(), cfg.TopicPrefix)
	}

	srv := &http.Server{
		Handler:           app,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}

	sctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	if err := registry.Shutdown(sctx); err != nil {
		fmt.Fprintln(stderr, "some runs did not stop in time:", err)
	}
	if shared != nil {
		shared.Close(sctx)
	}
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func openBroker(cfg Config, owned *cluster.Cluster) (*broker.Broker, error) {
	if owned != nil {
		return broker.ConnectOwned(owned.Addrs())
	}
	if len(cfg.Brokers) > 0 {
		return broker.Connect(cfg.Brokers)
	}
	return broker.StartEmbedded(broker.EmbeddedOptions{Port: cfg.EmbeddedPort, DataDir: cfg.DataDir})
}
