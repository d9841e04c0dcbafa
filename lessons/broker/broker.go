// Package broker gives the lab a Kafka cluster to run on: an embedded,
// in-process Kafka-protocol broker (kfake) by default, or an external
// cluster. Either way the lab only ever talks to addresses from its own
// configuration, never to one a user typed (no SSRF).
package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Mode says where the cluster runs.
type Mode string

const (
	Embedded Mode = "embedded"
	External Mode = "external"
	// Owned is a cluster the lab started and owns (package cluster,
	// -cluster): the only one whose brokers the lab may kill.
	Owned Mode = "cluster"
)

// Broker is the cluster the lab's runs use.
type Broker struct {
	mode    Mode
	addrs   []string
	cluster *kfake.Cluster // nil when external
	self    *kgo.Client    // the embedded cluster's client of its own (answerAsKafka)
	client  *kgo.Client
	admin   *kadm.Client
}

// EmbeddedOptions configure the in-process broker.
type EmbeddedOptions struct {
	Port    int    // 0 picks any free port
	DataDir string // empty keeps everything in memory
}

// ErrPortTaken is returned by StartEmbedded when its port is in use.
var ErrPortTaken = errors.New("port is taken")

// StartEmbedded starts kfake on 127.0.0.1. kfake binds loopback only and has
// no replication, so acks=1 and acks=all behave alike on it.
func StartEmbedded(o EmbeddedOptions) (*Broker, error) {
	opts := []kfake.Opt{
		kfake.Ports(o.Port),
		kfake.ClusterID("kafka-delivery-lab"),
		// As real Kafka's default, so a learner's own snippet that sends
		// to a new topic just works.
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(1),
		// Lets a crashed processor be replaced in about a second instead
		// of Kafka's default minimum of 6 s (the lab's demos stay snappy).
		kfake.GroupMinSessionTimeout(500 * time.Millisecond),
	}
	if o.DataDir != "" {
		opts = append(opts, kfake.DataDir(o.DataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("embedded broker: %w: 127.0.0.1:%d is already in use; start with -embedded-port 0 for any free port, or pick another port", ErrPortTaken, o.Port)
		}
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	// The cluster's own client, for answerAsKafka (kafka_answers.go):
	// answers as Apache Kafka does where a client would trip over kfake's.
	self, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		c.Close()
		return nil, err
	}
	answerAsKafka(c, self)
	b, err := newBroker(Embedded, c.ListenAddrs())
	if err != nil {
		c.Close()
		self.Close()
		return nil, err
	}
	b.cluster, b.self = c, self
	return b, nil
}

// Connect uses an external cluster at addrs (host:port each).
func Connect(addrs []string) (*Broker, error) {
	if len(addrs) == 0 {
		return nil, errors.New("external broker: no addresses given")
	}
	for _, a := range addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("external broker address %q: %w (want host:port)", a, err)
		}
	}
	return newBroker(External, addrs)
}

// ConnectOwned uses the cluster the lab started at addrs.
func ConnectOwned(addrs []string) (*Broker, error) {
	if len(addrs) == 0 {
		return nil, errors.New("owned cluster: no addresses given")
	}
	return newBroker(Owned, addrs)
}

func newBroker(m Mode, addrs []string) (*Broker, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.RequestRetries(2))
	if err != nil {
		return nil, err
	}
	return &Broker{mode: m, addrs: addrs, client: cl, admin: kadm.NewClient(cl)}, nil
}

// Mode says whether the broker is embedded or external.
func (b *Broker) Mode() Mode { return b.mode }

// Addrs are the bootstrap addresses any Kafka client can use.
func (b *Broker) Addrs() []string { return append([]string(nil), b.addrs...) }

// Embedded is the in-process cluster, or nil for an external one.
func (b *Broker) Embedded() *kfake.Cluster { return b.cluster }

// Admin is a client for topic and group administration.
func (b *Broker) Admin() *kadm.Client { return b.admin }

// Reachable reports whether the cluster answers a metadata request within
// 2 s.
func (b *Broker) Reachable(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return Ping(ctx, b.client)
}

// Ping asks the cluster, through cl, for its brokers (no topics). It sends
// the request every time: kadm's BrokerMetadata answers from the client's
// cache once the client knows the brokers, so it kept saying "up" after the
// broker died.
func Ping(ctx context.Context, cl *kgo.Client) error {
	req := kmsg.NewPtrMetadataRequest()
	req.Topics = []kmsg.MetadataRequestTopic{}
	_, err := req.RequestWith(ctx, cl)
	return err
}

// CreateTopics creates single-partition topics on b (see CreateTopics).
func (b *Broker) CreateTopics(ctx context.Context, topics ...string) error {
	return CreateTopics(ctx, b.admin, topics...)
}

// CreateTopics creates single-partition topics and waits until the leader
// of each answers for it. One partition keeps each run's log a single
// ordered lane that the trace can draw offset by offset.
// Real Kafka answers CreateTopics before the partition leader is elected; a
// produce in between fails with NOT_LEADER_OR_FOLLOWER, and a producer that
// does not retry (at-most-once) would lose deposits to the lab's own haste.
func CreateTopics(ctx context.Context, admin *kadm.Client, topics ...string) error {
	return CreatePartitionedTopics(ctx, admin, 1, topics...)
}

// CreatePartitionedTopics is CreateTopics with partitions partitions per
// topic: a run about partitions (issue 13) gets several ordered lanes, one
// per partition, each drawn offset by offset.
func CreatePartitionedTopics(ctx context.Context, admin *kadm.Client, partitions int, topics ...string) error {
	resp, err := admin.CreateTopics(ctx, int32(partitions), -1, nil, topics...)
	if err != nil {
		return err
	}
	if err := resp.Error(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for {
		details, err := admin.ListTopics(ctx, topics...)
		if err == nil && ready(details, topics) && leading(ctx, admin, topics) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("topics %v got no partition leader in time: %w", topics, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// leading reports whether the leader itself answers for every partition.
// Metadata can name a leader a moment before that broker has taken the
// partition over and would still answer a Produce with
// NOT_LEADER_OR_FOLLOWER (seen on Apache Kafka 4.4.0); ListOffsets is
// answered by the leader only once it leads.
func leading(ctx context.Context, admin *kadm.Client, topics []string) bool {
	offs, err := admin.ListEndOffsets(ctx, topics...)
	if err != nil {
		return false
	}
	ok := true
	offs.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			ok = false
		}
	})
	return ok && len(offs) == len(topics)
}

// DeleteTopics deletes topics, ignoring ones already gone.
func (b *Broker) DeleteTopics(ctx context.Context, topics ...string) error {
	resp, err := b.admin.DeleteTopics(ctx, topics...)
	if err != nil {
		return err
	}
	for _, r := range resp {
		if r.Err != nil && !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
			return r.Err
		}
	}
	return nil
}

// Close releases the admin client and stops an embedded cluster.
func (b *Broker) Close() {
	b.admin.Close()
	if b.cluster != nil {
		b.cluster.Close()
		b.self.Close()
	}
}

func ready(details kadm.TopicDetails, topics []string) bool {
	for _, t := range topics {
		d, ok := details[t]
		if !ok || d.Err != nil || len(d.Partitions) == 0 {
			return false
		}
		for _, p := range d.Partitions {
			if p.Err != nil || p.Leader < 0 {
				return false
			}
		}
	}
	return true
}
