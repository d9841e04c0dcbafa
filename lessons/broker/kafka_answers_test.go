package broker

import (
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// The embedded broker's CreateTopics answer as Apache Kafka's (v5+): the
// created topic's effective configs, sorted, with their sources, and the
// counts; a failed topic's configs an empty array, never null (the Java
// admin client reads it unchecked). TestFidelityJava checks the same with
// the Java client itself.
func TestCreateTopicsAnswersConfigsAsKafka(t *testing.T) {
	b, err := StartEmbedded(EmbeddedOptions{Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	ctx := t.Context()

	create := func(version int16, validateOnly bool, topics ...string) *kmsg.CreateTopicsResponse {
		t.Helper()
		req := kmsg.NewPtrCreateTopicsRequest()
		req.TimeoutMillis = 10000
		req.ValidateOnly = validateOnly
		for _, name := range topics {
			rt := kmsg.NewCreateTopicsRequestTopic()
			rt.Topic = name
			rt.NumPartitions, rt.ReplicationFactor = 2, 1
			rc := kmsg.NewCreateTopicsRequestTopicConfig()
			rc.Name, rc.Value = "retention.ms", kmsg.StringPtr("60000")
			rt.Configs = append(rt.Configs, rc)
			req.Topics = append(req.Topics, rt)
		}
		// Pin the version the way a client that knows no newer one would.
		cl := cl
		if version >= 0 {
			pinned, err := kgo.NewClient(kgo.SeedBrokers(b.Addrs()...),
				kgo.MaxVersions(kversionsWith(kmsg.CreateTopics.Int16(), version)))
			if err != nil {
				t.Fatal(err)
			}
			defer pinned.Close()
			cl = pinned
		}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Version != req.Version {
			t.Fatalf("response version %d to a v%d request", resp.Version, req.Version)
		}
		return resp
	}

	resp := create(-1, false, "answers.a")
	if resp.Version < 5 {
		t.Fatalf("CreateTopics went out as v%d; this test needs v5+", resp.Version)
	}
	got := resp.Topics[0]
	if got.ErrorCode != 0 || got.NumPartitions != 2 || got.ReplicationFactor != 1 || got.ConfigErrorCode != 0 {
		t.Fatalf("create answers.a: %+v; want no error, 2 partitions, replication 1", got)
	}
	names := make([]string, 0, len(got.Configs))
	byName := map[string]kmsg.CreateTopicsResponseTopicConfig{}
	for _, c := range got.Configs {
		names = append(names, c.Name)
		byName[c.Name] = c
	}
	if !slices.IsSorted(names) {
		t.Errorf("configs not sorted by name as Kafka's: %v", names)
	}
	for name, want := range map[string]struct {
		value  string
		source kmsg.ConfigSource
	}{
		"cleanup.policy": {"delete", kmsg.ConfigSourceDefaultConfig},
		"retention.ms":   {"60000", kmsg.ConfigSourceDynamicTopicConfig},
	} {
		c, ok := byName[name]
		if !ok || c.Value == nil || *c.Value != want.value || kmsg.ConfigSource(c.Source) != want.source {
			t.Errorf("config %s: %+v (found %v), want value %s source %v; all: %v", name, c, ok, want.value, want.source, names)
		}
	}

	// Created again: the error, and configs an empty array, not null.
	again := create(-1, false, "answers.a").Topics[0]
	if again.ErrorCode != kerr.TopicAlreadyExists.Code || again.Configs == nil || len(again.Configs) != 0 {
		t.Errorf("create answers.a again: error %d configs %#v; want TOPIC_ALREADY_EXISTS and an empty (non-null) configs array", again.ErrorCode, again.Configs)
	}
	// Validate-only: nothing to describe, but never null.
	if v := create(-1, true, "answers.v").Topics[0]; v.ErrorCode != 0 || v.Configs == nil {
		t.Errorf("validate-only create: %+v; want no error and a configs array", v)
	}
	// v4 and below have no configs; kfake answers them unchanged.
	if v4 := create(4, false, "answers.b"); v4.Version != 4 || v4.Topics[0].ErrorCode != 0 {
		t.Errorf("v4 create: %+v", v4)
	}
	if names, err := b.Admin().ListTopics(ctx, "answers.a", "answers.b", "answers.v"); err != nil ||
		!names.Has("answers.a") || !names.Has("answers.b") || names.Has("answers.v") {
		t.Errorf("topics after the creates: %v %v; want answers.a and answers.b (answers.v was validate-only)", strings.Join(names.Names(), ","), err)
	}
}

// DescribeTopicPartitions (Admin.describeTopics in Java 4.x) answers
// eligible_leader_replicas and last_known_elr as empty arrays, as Kafka.
func TestDescribeTopicPartitionsAnswersELRArrays(t *testing.T) {
	b, err := StartEmbedded(EmbeddedOptions{Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	if err := b.CreateTopics(t.Context(), "answers.d"); err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrDescribeTopicPartitionsRequest()
	rt := kmsg.NewDescribeTopicPartitionsRequestTopic()
	rt.Topic = "answers.d"
	req.Topics = append(req.Topics, rt)
	req.ResponsePartitionLimit = 100
	resp, err := req.RequestWith(t.Context(), b.client)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("DescribeTopicPartitions answers.d: %+v", resp)
	}
	p := resp.Topics[0].Partitions[0]
	if p.EligibleLeaderReplicas == nil || p.LastKnownELR == nil {
		t.Errorf("partition 0: eligible_leader_replicas %#v, last_known_elr %#v; want empty arrays, not null", p.EligibleLeaderReplicas, p.LastKnownELR)
	}
}

// kversionsWith is kgo's default versions with key's capped at v.
func kversionsWith(key, v int16) *kversion.Versions {
	vs := kversion.Stable()
	vs.SetMaxKeyVersion(key, v)
	return vs
}

// DescribeClientQuotas (Admin.describeClientQuotas) with no quotas answers
// an empty entries array, as Kafka, not null.
func TestDescribeClientQuotasAnswersEntriesArray(t *testing.T) {
	b, err := StartEmbedded(EmbeddedOptions{Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	resp, err := kmsg.NewPtrDescribeClientQuotasRequest().RequestWith(t.Context(), b.client)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Version < 1 || resp.ErrorCode != 0 || resp.Entries == nil || len(resp.Entries) != 0 {
		t.Errorf("DescribeClientQuotas v%d: error %d entries %#v; want no error and an empty (non-null) entries array", resp.Version, resp.ErrorCode, resp.Entries)
	}
}
