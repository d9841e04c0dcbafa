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
//   - DescribeClientQuotas: kfake answers null entries when there are no
//     quotas; Apache Kafka an empty array, and Admin.describeClientQuotas
//     failed with a NullPointerException.

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
	// Before v5 the response has no configs to fill.
	patchAnswer(c, self, 5, func(r *kmsg.CreateTopicsRequest) *kmsg.Tags { return &r.UnknownTags },
		func(ctx context.Context, cl *kgo.Client, node int32, req *kmsg.CreateTopicsRequest, kr kmsg.Response) error {
			return fillCreateTopicsConfigs(ctx, cl, node, req, kr.(*kmsg.CreateTopicsResponse))
		})

	patchAnswer(c, self, 0, func(r *kmsg.DescribeTopicPartitionsRequest) *kmsg.Tags { return &r.UnknownTags },
		func(_ context.Context, _ *kgo.Client, _ int32, _ *kmsg.DescribeTopicPartitionsRequest, kr kmsg.Response) error {
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

	// Kafka's entries are null only with an error; Java's
	// Admin.describeClientQuotas reads them unchecked otherwise. (v1+ is
	// flexible, as the mark needs; v0 is kept as kfake answers it.)
	patchAnswer(c, self, 1, func(r *kmsg.DescribeClientQuotasRequest) *kmsg.Tags { return &r.UnknownTags },
		func(_ context.Context, _ *kgo.Client, _ int32, _ *kmsg.DescribeClientQuotasRequest, kr kmsg.Response) error {
			if resp := kr.(*kmsg.DescribeClientQuotasResponse); resp.ErrorCode == 0 && resp.Entries == nil {
				resp.Entries = []kmsg.DescribeClientQuotasResponseEntry{}
			}
			return nil
		})
}

// patchAnswer takes over the requests of R's key from version minVersion
// on: it forwards a marked copy (tags gives the copy's tags) and answers
// with kfake's response to it, after patch. minVersion must be flexible:
// only a flexible request carries the mark.
func patchAnswer[R any, P interface {
	*R
	kmsg.Request
}](c *kfake.Cluster, self *kgo.Client, minVersion int16, tags func(P) *kmsg.Tags,
	patch func(context.Context, *kgo.Client, int32, P, kmsg.Response) error,
) {
	c.ControlKey(P(new(R)).Key(), func(r kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := r.(P)
		if req.GetVersion() < minVersion || forwarded(tags(req)) {
			return nil, nil, false // kfake answers
		}
		cp := R(*req)
		fwd := P(&cp)
		*tags(fwd) = kmsg.Tags{}
		tags(fwd).Set(forwardedTag, []byte("1"))
		kr, err := forward(c, self, fwd, func(ctx context.Context, cl *kgo.Client, node int32, kr kmsg.Response) error {
			return patch(ctx, cl, node, req, kr)
		})
		if err != nil {
			return nil, err, true
		}
		kr.SetVersion(req.GetVersion())
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
