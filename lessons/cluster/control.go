package cluster

// What the cluster faults do to the nodes, and what the lab shows of them.

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Pause stops broker id's process with SIGSTOP: it keeps its sockets and
// answers nothing, as a broker in a long GC pause or a frozen VM.
func (c *Cluster) Pause(id int32) error { return c.signal(id, syscall.SIGSTOP, Paused) }

// Resume continues a paused broker (SIGCONT).
func (c *Cluster) Resume(id int32) error { return c.signal(id, syscall.SIGCONT, Running) }

// Kill kills broker id's process (SIGKILL): what it had not written to
// another replica is gone with it.
func (c *Cluster) Kill(id int32) error {
	if err := c.signal(id, syscall.SIGKILL, Killed); err != nil {
		return err
	}
	n, _ := c.node(id)
	n.mu.Lock()
	done := n.done
	n.mu.Unlock()
	<-done
	return nil
}

// Stop shuts broker id down the way an operator does (SIGTERM): a
// controlled shutdown, in which the broker asks the controller to move
// its leaderships and take it out of every in-sync set before it exits.
// It waits, at most stopWait, for the process to end, then kills it.
func (c *Cluster) Stop(id int32) error {
	if err := c.signal(id, syscall.SIGTERM, Stopped); err != nil {
		return err
	}
	n, _ := c.node(id)
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	select {
	case <-done:
	case <-time.After(stopWait):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	return nil
}

// stopWait bounds a controlled shutdown: one that cannot reach a
// controller retries for longer than a run waits.
const stopWait = 20 * time.Second

func (c *Cluster) signal(id int32, sig syscall.Signal, to State) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.state == Killed || n.state == Stopped {
		return fmt.Errorf("broker %d is %s", id, n.state)
	}
	if err := syscall.Kill(-n.cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("signalling broker %d: %w", id, err)
	}
	n.state = to
	return nil
}

// Partition reads topic's partition 0 from the cluster's metadata: its
// leader, its replicas and its in-sync set, as they are now.
func (c *Cluster) Partition(ctx context.Context, topic string) (leader int32, replicas, isr []int32, err error) {
	p, err := c.partition(ctx, topic)
	if err != nil {
		return -1, nil, nil, err
	}
	return p.Leader, p.Replicas, p.ISR, nil
}

// Processes is each broker's process as the lab left it (running, paused
// or killed), without asking the cluster anything: it answers at once
// while brokers are paused.
func (c *Cluster) Processes() map[int32]string {
	m := make(map[int32]string, len(c.nodes))
	for _, n := range c.nodes {
		n.mu.Lock()
		m[n.id] = string(n.state)
		n.mu.Unlock()
	}
	return m
}

func (c *Cluster) partition(ctx context.Context, topic string) (kmsg.MetadataResponseTopicPartition, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	t := kmsg.NewMetadataRequestTopic()
	t.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(ctx, c.client)
	if err != nil {
		return kmsg.MetadataResponseTopicPartition{}, err
	}
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			if p.Partition == 0 && p.ErrorCode == 0 {
				return p, nil
			}
		}
	}
	return kmsg.MetadataResponseTopicPartition{}, fmt.Errorf("%s has no partition 0 with a leader", topic)
}

// ServingLeader waits until topic's partition 0 has a leader other than
// old that answers for it, and returns it: the election after a kill.
func (c *Cluster) ServingLeader(ctx context.Context, topic string, old int32) (int32, error) {
	for {
		if p, err := c.partition(ctx, topic); err == nil && p.Leader >= 0 && p.Leader != old {
			if c.leads(ctx, topic, p.Leader) {
				return p.Leader, nil
			}
		}
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("%s got no new leader: %w", topic, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// leads reports whether broker id answers ListOffsets for topic's
// partition 0: only the leader does, once it has taken the partition over.
func (c *Cluster) leads(ctx context.Context, topic string, id int32) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	t := kmsg.NewListOffsetsRequestTopic()
	t.Topic = topic
	p := kmsg.NewListOffsetsRequestTopicPartition()
	p.Partition, p.Timestamp = 0, -1
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(ctx, c.client.Broker(int(id)))
	return err == nil && len(resp.Topics) == 1 && len(resp.Topics[0].Partitions) == 1 && resp.Topics[0].Partitions[0].ErrorCode == 0
}

// Heal resumes every paused broker, restarts every killed one and waits
// until the cluster lists every broker and every partition has all its
// replicas in sync again: the state a run starts from.
func (c *Cluster) Heal(ctx context.Context) error {
	for _, n := range c.nodes {
		n.mu.Lock()
		st := n.state
		n.mu.Unlock()
		switch st {
		case Paused:
			if err := c.Resume(n.id); err != nil {
				return err
			}
		case Killed, Stopped:
			if err := c.launch(n); err != nil {
				return err
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.ready)
	defer cancel()
	for {
		// Metadata lists a killed broker until the controller fences it:
		// each broker must answer itself.
		if up, err := c.brokersUp(ctx); err == nil && len(up) == len(c.nodes) && c.eachAnswers(ctx) && c.inSync(ctx) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the cluster did not heal (every broker up, every replica in sync) in time: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// eachAnswers reports whether every broker answers a request of its own.
func (c *Cluster) eachAnswers(ctx context.Context) bool {
	for _, n := range c.nodes {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		req := kmsg.NewPtrMetadataRequest()
		req.Topics = []kmsg.MetadataRequestTopic{}
		_, err := req.RequestWith(rctx, c.client.Broker(int(n.id)))
		cancel()
		if err != nil {
			return false
		}
	}
	return true
}

// inSync reports whether every partition of every topic has every replica
// in its in-sync set.
func (c *Cluster) inSync(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest() // nil Topics: every topic
	resp, err := req.RequestWith(ctx, c.client)
	if err != nil {
		return false
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 || len(p.ISR) != len(p.Replicas) {
				return false
			}
		}
	}
	return true
}

// Broker is one node as /healthz and the header show it.
type Broker struct {
	ID    int32  `json:"id"`
	Addr  string `json:"addr"`
	State State  `json:"state"`
	// Up is whether the cluster's metadata lists it: alive, unfenced and
	// serving.
	Up bool `json:"up"`
}

// Status is the cluster as the lab sees it now.
type Status struct {
	Brokers []Broker `json:"brokers"`
	// Controller is the KRaft quorum's leader, -1 when there is none
	// (the quorum is lost while most nodes are paused).
	Controller int32 `json:"controller"`
}

// Status asks the cluster which brokers it lists and who leads its
// metadata quorum, within 2 s.
func (c *Cluster) Status(ctx context.Context) Status {
	up, _ := c.brokersUp(ctx)
	s := Status{Controller: c.controller(ctx)}
	for _, n := range c.nodes {
		n.mu.Lock()
		st := n.state
		n.mu.Unlock()
		s.Brokers = append(s.Brokers, Broker{ID: n.id, Addr: n.addr(), State: st, Up: slices.Contains(up, n.id)})
	}
	return s
}

// controller asks for the metadata quorum's leader (DescribeQuorum, which a
// broker forwards to the controllers). Metadata's controller id is no help
// in KRaft: brokers answer it with a random live broker.
func (c *Cluster) controller(ctx context.Context) int32 {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req := kmsg.NewPtrDescribeQuorumRequest()
	t := kmsg.NewDescribeQuorumRequestTopic()
	t.Topic = "__cluster_metadata"
	p := kmsg.NewDescribeQuorumRequestTopicPartition()
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(ctx, c.client)
	if err != nil || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		return -1
	}
	return resp.Topics[0].Partitions[0].LeaderID
}

// Topics are a run's input and ledger topics, as CreateTopics makes them.
type Topics struct {
	Input, Ledger string
	// InputMinISR is the input's min.insync.replicas: how many in-sync
	// replicas an acks=all write needs, the leader counted, before the
	// leader appends it.
	InputMinISR int
	// LeadWithCoordinator puts the input's leader on the broker that
	// leads the ledger and the group's offsets, for a fault that stops
	// the input's followers and not its leader (follower-down); otherwise
	// the input is led by a broker that leads nothing else the pipeline
	// needs, for a fault that kills the leader (leader-crash).
	LeadWithCoordinator bool
}

// CreateTopics creates a run's input and ledger topics, every broker a
// replica of each. For leader-crash the input is led by a broker that
// leads nothing the rest of the pipeline needs: not the ledger, not the
// group's offsets, not the transactions' state. Killing the input's
// leader then takes the input's writes with it and leaves the processor's
// group, its transactions and its ledger where they were. For
// follower-down it is led by the group coordinator's broker, which
// follower-down leaves running. It waits until both leaders answer for
// their partition.
func (c *Cluster) CreateTopics(ctx context.Context, ts Topics) error {
	busy, err := c.coordinatorLeaders(ctx)
	if err != nil {
		return err
	}
	var victim int32 = -1
	for _, n := range c.nodes {
		if !slices.Contains(busy, n.id) {
			victim = n.id
			break
		}
	}
	if ts.LeadWithCoordinator {
		victim = busy[0]
	}
	if victim < 0 {
		return fmt.Errorf("every broker leads an internal topic (%v): no broker can lead the input alone", busy)
	}
	ledgerLeader := busy[0]
	order := func(first int32) []int32 {
		out := []int32{first}
		for _, n := range c.nodes {
			if n.id != first {
				out = append(out, n.id)
			}
		}
		return out
	}
	input, ledger := ts.Input, ts.Ledger
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 15000
	for _, t := range []struct {
		name   string
		leader int32
	}{{input, victim}, {ledger, ledgerLeader}} {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = t.name, -1, -1
		if t.name == input && ts.InputMinISR > 0 {
			cfg := kmsg.NewCreateTopicsRequestTopicConfig()
			cfg.Name, cfg.Value = "min.insync.replicas", kmsg.StringPtr(strconv.Itoa(ts.InputMinISR))
			rt.Configs = append(rt.Configs, cfg)
		}
		a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		a.Partition, a.Replicas = 0, order(t.leader) // the first replica is the preferred leader
		rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, c.client)
	if err != nil {
		return err
	}
	for _, t := range resp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return fmt.Errorf("creating %s: %w", t.Topic, err)
		}
	}
	// A preferred leader not in sync yet (a broker just restarted) is
	// passed over: the partition is led by another replica, and the
	// nemesis kills whichever leads the input.
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for _, t := range []string{input, ledger} {
		for {
			if p, err := c.partition(ctx, t); err == nil && p.Leader >= 0 && c.leads(ctx, t, p.Leader) {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s got no leader in time", t)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}

// coordinatorLeaders names the leaders of the group and transaction
// coordinators' partitions (one partition each), asking for a coordinator
// first so both topics exist.
func (c *Cluster) coordinatorLeaders(ctx context.Context) ([]int32, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		var leaders []int32
		for _, t := range []struct {
			topic string
			typ   int8
		}{{"__consumer_offsets", 0}, {"__transaction_state", 1}} {
			req := kmsg.NewPtrFindCoordinatorRequest()
			req.CoordinatorType, req.CoordinatorKeys = t.typ, []string{"lab"}
			_, _ = req.RequestWith(ctx, c.client) // creates the topic on first use
			if p, err := c.partition(ctx, t.topic); err == nil && p.Leader >= 0 {
				leaders = append(leaders, p.Leader)
			}
		}
		if len(leaders) == 2 {
			return leaders, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the group and transaction coordinators got no leader in time: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
