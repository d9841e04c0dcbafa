package broker

// Where kfake's answer differs from Apache Kafka's in a way a client trips
// over, the embedded broker patches it. kfake lets the embedding program
// take over a request (Cluster.ControlKey) but has no hook to edit its own
// response, and its handlers are unexported. So a control function sleeps
// (Cluster.SleepControl, which lets the cluster serve other connections),
// sends a copy of the request to the same broker over its own connection,
// marked with an unknown tag so that the control lets kfake handle the copy,
// and answers the client with kfake's response, patched. Everything the
// response says (errors, validation, topic ids, counts) stays kfake's; only
// what it leaves out is filled in.
//
// The gaps, each found with kafka-clients 4.4.0 (fidelity_java_test.go):
//   - CreateTopics v5+: kfake answers a null configs array (and only the
//     configs the request gave); Apache Kafka always answers the topic's
//     effective configs. The Java admin client reads the array unchecked:
//     Admin.createTopics failed with a NullPointerException.
//   - DescribeTopicPartitions: kfake answers null eligible_leader_replicas
//     and last_known_elr; Apache Kafka answers empty arrays, and
//     Admin.describeTopics failed with a NullPointerException.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// forwardedTag marks the copy of a request the embedded broker sends to
// itself. Kafka reserves no tag this high; Apache Kafka and kfake both skip
// tags they do not know.
const forwardedTag = 0x6b646c // "kdl"

// forwardTimeout bounds one forwarded request.
const forwardTimeout = 30 * time.Second

// answerAsKafka installs the patches on c. self is a client of c's own that
// nothing else uses: a copy must not queue on a connection behind the
// request it answers, which sleeps until the copy is answered.
func answerAsKafka(c *kfake.Cluster, self *kgo.Client) {
	c.ControlKey(kmsg.CreateTopics.Int16(), func(r kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := r.(*kmsg.CreateTopicsRequest)
		// Before v5 the response has no configs to fill.
		if req.Version < 5 || forwarded(&req.UnknownTags) {
			return nil, nil, false
		}
		fwd := *req
		fwd.UnknownTags = kmsg.Tags{}
		fwd.UnknownTags.Set(forwardedTag, []byte("1"))
		kr, err := forward(c, self, &fwd, func(ctx context.Context, cl *kgo.Client, node int32, kr kmsg.Response) error {
			return fillCreateTopicsConfigs(ctx, cl, node, req, kr.(*kmsg.CreateTopicsResponse))
		})
		if err != nil {
			return nil, err, true
		}
		kr.SetVersion(req.Version)
		return kr, nil, true
	})

	c.ControlKey(kmsg.DescribeTopicPartitions.Int16(), func(r kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := r.(*kmsg.DescribeTopicPartitionsRequest)
		if forwarded(&req.UnknownTags) {
			return nil, nil, false
		}
		fwd := *req
		fwd.UnknownTags = kmsg.Tags{}
		fwd.UnknownTags.Set(forwardedTag, []byte("1"))
		kr, err := forward(c, self, &fwd, func(_ context.Context, _ *kgo.Client, _ int32, kr kmsg.Response) error {
			resp := kr.(*kmsg.DescribeTopicPartitionsResponse)
			for i := range resp.Topics {
				for j := range resp.Topics[i].Partitions {
					p := &resp.Topics[i].Partitions[j]
					if p.EligibleLeaderReplicas == nil {
						p.EligibleLeaderReplicas = []int32{}
					}
					if p.LastKnownELR == nil {
						p.LastKnownELR = []int32{}
					}
				}
			}
			return nil
		})
		if err != nil {
			return nil, err, true
		}
		kr.SetVersion(req.Version)
		return kr, nil, true
	})
}

func forwarded(tags *kmsg.Tags) bool {
	found := false
	tags.Each(func(k uint32, _ []byte) { found = found || k == forwardedTag })
	return found
}

// forward sends req to the broker that received the request being
// controlled, through self, then runs patch on the response, all while the
// control sleeps. An error closes the client's connection, as a broker that
// cannot answer would.
func forward(c *kfake.Cluster, self *kgo.Client, req kmsg.Request,
	patch func(context.Context, *kgo.Client, int32, kmsg.Response) error,
) (kmsg.Response, error) {
	node := c.CurrentNode()
	type result struct {
		resp kmsg.Response
		err  error
	}
	done := make(chan result, 1)
	c.SleepControl(func() {
		ctx, cancel := context.WithTimeout(context.Background(), forwardTimeout)
		defer cancel()
		resp, err := self.Broker(int(node)).Request(ctx, req)
		if err == nil {
			err = patch(ctx, self, node, resp)
		}
		done <- result{resp, err}
	})
	select {
	case r := <-done:
		return r.resp, r.err
	default: // the cluster is closing
		return nil, errors.New("embedded broker closing")
	}
}

// fillCreateTopicsConfigs answers, for each topic created, what Apache
// Kafka (KRaft controller, ReplicationControlManager) answers from v5 on:
// the topic's effective configs sorted by name, a sensitive one's value
// null, and topic_config_error_code (tag 0) NONE; or, if the configs cannot be
// described, that error and no counts. kfake's DescribeConfigs is the
// source of the configs, so the two answers agree. A topic that failed, or
// a validate-only create (whose topic does not exist to describe), keeps
// kfake's answer with the configs array empty instead of null, as Kafka's.
func fillCreateTopicsConfigs(ctx context.Context, cl *kgo.Client, node int32, req *kmsg.CreateTopicsRequest, resp *kmsg.CreateTopicsResponse) error {
	describe := kmsg.NewPtrDescribeConfigsRequest()
	for i := range resp.Topics {
		t := &resp.Topics[i]
		if t.Configs == nil {
			t.Configs = []kmsg.CreateTopicsResponseTopicConfig{}
		}
		if t.ErrorCode != 0 || req.ValidateOnly {
			continue
		}
		r := kmsg.NewDescribeConfigsRequestResource()
		r.ResourceType = kmsg.ConfigResourceTypeTopic
		r.ResourceName = t.Topic
		describe.Resources = append(describe.Resources, r)
	}
	if len(describe.Resources) == 0 {
		return nil
	}
	described, err := describe.RequestWith(ctx, cl.Broker(int(node)))
	if err != nil {
		return err
	}
	byName := make(map[string]*kmsg.DescribeConfigsResponseResource, len(described.Resources))
	for i := range described.Resources {
		byName[described.Resources[i].ResourceName] = &described.Resources[i]
	}
	for i := range resp.Topics {
		t := &resp.Topics[i]
		if t.ErrorCode != 0 {
			continue
		}
		d := byName[t.Topic]
		if d == nil {
			continue // validate-only
		}
		if d.ErrorCode != 0 {
			t.ConfigErrorCode = d.ErrorCode
			t.NumPartitions, t.ReplicationFactor = -1, -1
			continue
		}
		configs := make([]kmsg.CreateTopicsResponseTopicConfig, 0, len(d.Configs))
		for _, dc := range d.Configs {
			rc := kmsg.NewCreateTopicsResponseTopicConfig()
			rc.Name = dc.Name
			if !dc.IsSensitive {
				rc.Value = dc.Value
			}
			rc.ReadOnly = dc.ReadOnly
			rc.Source = int8(dc.Source)
			rc.IsSensitive = dc.IsSensitive
			configs = append(configs, rc)
		}
		slices.SortFunc(configs, func(a, b kmsg.CreateTopicsResponseTopicConfig) int { return strings.Compare(a.Name, b.Name) })
		t.Configs = configs
		t.ConfigErrorCode = 0 // NONE
	}
	return nil
}
