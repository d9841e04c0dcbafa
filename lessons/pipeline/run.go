package pipeline

// A run: its setup, its stages in order, and what it records per deposit.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/broker"
	"github.com/kafka-delivery-lab/lab/lessons/checker"
	"github.com/kafka-delivery-lab/lab/lessons/cluster"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// endKey marks the record the lab appends to every partition of a run's
// topic when its writer is done: to the input after the producer, so a
// group that committed past them has processed every deposit; to the
// ledger after the processor, so the auditor knows where the ledger ends.
// Each is the last record of its partition.
const endKey = "end"

// Env is where runs happen: the cluster's addresses and an admin client.
// Nothing here ever comes from a user.
type Env struct {
	Brokers []string
	Admin   *kadm.Client
	Tuning  Tuning
	// Cluster is the cluster the lab owns (-cluster), which the cluster
	// faults act on; nil on the embedded broker or an external cluster.
	Cluster Cluster
	// Prefix starts the names of every run's topics, group and
	// transactional ids (NamesUnder); "lab." if empty.
	Prefix string
}

// Result is the checker's result plus what was measured.
type Result struct {
	checker.Result
	InLog int `json:"in_log"`
	// Deduplicated counts the deliveries an idempotent consumer (preset
	// dedup) skipped because the ledger already credited their deposit.
	Deduplicated int `json:"deduplicated"`
	// SideEffects counts the notifications the run's sink acted on, and
	// SideEffectsDuplicated the deposits it acted on more than once: the
	// processor's effect outside Kafka, which no transaction covers.
	// SideEffectsDropped counts the repeats an idempotent receiver
	// (notify idempotent) dropped.
	SideEffects           int `json:"side_effects"`
	SideEffectsDuplicated int `json:"side_effects_duplicated"`
	SideEffectsDropped    int `json:"side_effects_dropped"`
	// TakeoverMs is the time from a processor-stall freezing an instance
	// to the first credit of the instance that took its partition; 0
	// when nothing stalled.
	TakeoverMs float64   `json:"takeover_ms,omitempty"`
	Throughput float64   `json:"throughput_msgs_per_s"`
	LatencyMs  Latencies `json:"latency_ms"`
	DurationMs int64     `json:"duration_ms"`
	// Expected is the claim table's row for the run, and Mismatch what of
	// it the run did not show ("" when it came out as claimed). A run
	// given other faults (a schedule, a fault injected live) or of another
	// shape than the table's (lessons.ClaimShape) has no row.
	// Struck says what each fault did: the anomalies of a large run are
	// read by cause, not one deposit at a time.
	Struck   []Struck       `json:"struck"`
	Expected *lessons.Claim `json:"expected,omitempty"`
	Mismatch string         `json:"mismatch,omitempty"`
	// Blame names, for a custom run whose claim broke, the settings the
	// anomalies come from.
	Blame []lessons.Blame `json:"blame,omitempty"`
	// Election is what a cluster fault did to the input partition's
	// leadership, and AckedNotInLog the deposits the producer was told
	// were written that the input topic, read back once every replica is
	// in sync again, does not hold: lost_acked, proven at the source.
	Election      *Election `json:"election,omitempty"`
	AckedNotInLog int       `json:"acked_not_in_log"`
	// FollowerDown is what follower-down did, and Refused the producer's
	// attempts the leader refused for too few in-sync replicas.
	FollowerDown *FollowerDown `json:"follower_down,omitempty"`
	Refused      int           `json:"refused"`
}

// expected is the claim the run is checked against: the claim table's row
// for a preset, the table's rules applied to a custom run's settings. A
// custom prediction that leaves the claim open ("any") is no claim to
// check a run against.
func (r *Run) expected() (lessons.Claim, bool) {
	if r.Spec.Preset == lessons.Custom {
		c := lessons.Prediction(r.Spec.Guarantee, r.recipe, r.Spec.Fault)
		return c, c.Verdict != ""
	}
	return lessons.LookupClaim(r.Spec.Guarantee, r.Spec.Preset, r.Spec.Fault)
}

// Latencies are percentiles of the time from a deposit's send to its first
// credit becoming visible in the ledger, and how those times spread.
// Deposits handed to the client together and credited together share one
// time: a run of one batch has p50 = p99, and its histogram one bar.
type Latencies struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	// Histogram counts deposits by latency: Histogram[i] those of at most
	// LatencyBucketsMs[i] milliseconds (and more than the bucket before);
	// the last, those above every bound.
	Histogram []int `json:"histogram"`
}

// LatencyBucketsMs are the upper bounds of the latency histogram's buckets.
var LatencyBucketsMs = []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000}

// Run is one execution of the pipeline. Its exported fields are live
// handles for whoever drives or watches it.
type Run struct {
	Spec     Spec
	Names    Names
	Log      *trace.Log
	Pacer    *Pacer
	Progress Progress

	env     Env
	claim   checker.Claim
	recipe  lessons.Recipe
	nemesis *nemesis
	start   time.Time

	// Per deposit (index seq-1), written by one stage at a time.
	outcomes []checker.Outcome
	sentAt   []uint32 // µs since start + 1; 0 = not sent
	credAt   []uint32 // µs since start + 1 of the first visible credit
	// credMu guards credAt: the instances of a group, and a zombie beside
	// its replacement, credit at once.
	credMu sync.Mutex

	deduplicated atomic.Int64 // deliveries skipped as repeats (Recipe.Dedup)
	notifier     *notifier    // the sink of the processor's effect outside Kafka
	zombies      zombies      // processor instances frozen by processor-stall
	takeover     atomic.Int64 // µs from a stall to the next instance's first credit
	// memoryOnlyStore makes each dedup instance start with an empty store
	// instead of restoring it from the ledger: the store kept in memory
	// only, which the at-least-once lesson says breaks (TestDedupStoreMustBeRestored).
	memoryOnlyStore bool
	injected        atomic.Bool             // a fault was injected live: the claim table has no row for the run
	endOffsets      atomic.Pointer[[]int64] // offsets of the input's end markers, by partition; nil until written
	marker          *kgo.Client             // writes the end markers, outside any fault

	committed []atomic.Int64 // the group's committed offset by input partition
	// highCommitted is the highest offset the run's instances ever
	// committed, by input partition: a late commit of an instance that
	// lost the partition (kafka-go commits it in the next generation) can
	// move the group's offset back behind what the new owner committed.
	highCommitted []atomic.Int64
	ownersMu      sync.Mutex
	owners        []string      // by input partition, the instance that last fetched from it
	joins         chan struct{} // a rebalance strikes: supervise adds an instance
	joiner        atomic.Pointer[string]
	handedOver    chan struct{} // closed once the joiner fetched its first record
	handOverOnce  sync.Once
	leaderCrash   *leaderCrash  // leader-crash once it struck, until healed
	followerDown  *followerDown // follower-down once it struck, until healed
	// refused counts the producer's attempts the leader refused with
	// NOT_ENOUGH_REPLICAS(_AFTER_APPEND), as kafka-go logs them.
	refused atomic.Int64
}

// New prepares a run. Execute starts it.
func New(env Env, spec Spec, pacer *Pacer) (*Run, error) {
	spec.Partitions, spec.Processors = max(spec.Partitions, 1), max(spec.Processors, 1)
	params := lessons.RunParams{Guarantee: spec.Guarantee, Preset: spec.Preset, Fault: spec.Fault, Messages: &spec.Messages,
		Partitions: &spec.Partitions, Processors: &spec.Processors, Notify: spec.Notify, Settings: spec.Settings}
	if spec.Preset == lessons.Custom {
		params.Claim = spec.Guarantee
	}
	if err := params.Validate(); err != nil {
		return nil, err
	}
	spec.Notify = params.Notify
	if f, _ := lessons.LookupFault(spec.Fault); f.Needs == lessons.NeedsCluster && env.Cluster == nil {
		return nil, ErrNeedsCluster
	}
	g, _ := lessons.LookupGuarantee(spec.Guarantee)
	recipe := params.Recipe()
	if env.Tuning == (Tuning{}) {
		env.Tuning = DefaultTuning()
	}
	names := NamesFor(spec.RunID)
	if env.Prefix != "" {
		names = NamesUnder(env.Prefix, spec.RunID)
	}
	log := trace.New()
	r := &Run{
		Spec: spec, Names: names, Log: log, Pacer: pacer,
		env: env, claim: g.Claim, recipe: recipe, nemesis: newNemesis(log, names.Input),
		outcomes: make([]checker.Outcome, spec.Messages),
		sentAt:   make([]uint32, spec.Messages),
		credAt:   make([]uint32, spec.Messages),
		notifier: newNotifier(spec.Notify, spec.Messages),
		zombies:  zombies{stalled: make(chan string)},

		committed:     newCommitted(spec.Partitions),
		highCommitted: newCommitted(spec.Partitions),
		owners:        make([]string, spec.Partitions),
		joins:         make(chan struct{}, 1),
		handedOver:    make(chan struct{}),
	}
	if !r.drawn() {
		log.Sample()
	}
	return r, nil
}

// Inject arms fault f now: it strikes at the next chance (the next Produce,
// or right after the processor's next credit).
func (r *Run) Inject(f lessons.FaultID) {
	r.Log.Emit(trace.Event{Actor: trace.Nemesis, Kind: trace.FaultKind, Offset: -1, Fault: string(f), Phase: trace.Armed,
		Detail: string(f) + " armed: strikes at the next chance"})
	r.injected.Store(true)
	r.nemesis.arm(f, 1)
}

// drawn reports whether the run is small enough to be drawn one cell per
// deposit, so that its trace keeps every event and draws its ledger.
func (r *Run) drawn() bool { return r.Spec.Messages <= lessons.DrawnDeposits }

func (r *Run) since() uint32 { return uint32(time.Since(r.start).Microseconds()) + 1 }

func (r *Run) emit(e trace.Event) { r.Log.Emit(e) }

// Execute runs the pipeline to the end and judges it. It fails only when the
// run could not be completed (broker down, deadline); a violated guarantee
// is a result, not an error.
func (r *Run) Execute(ctx context.Context) (Result, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	watched := make(chan struct{})
	go func() { r.watchBroker(ctx, cancel); close(watched) }()
	defer func() { cancel(nil); <-watched }()
	res, err := r.execute(ctx, cancel)
	var gone *brokerGoneError
	if err != nil && errors.As(context.Cause(ctx), &gone) {
		// Whatever stage noticed first, the reason is the broker.
		return Result{}, gone
	}
	return res, err
}

func (r *Run) execute(ctx context.Context, cancel context.CancelCauseFunc) (Result, error) {
	r.start = time.Now()
	r.emit(trace.Event{Actor: trace.Auditor, Kind: trace.Lifecycle, Offset: -1,
		Detail: fmt.Sprintf("run %s: %s (%s), fault %s, %d deposits, %d partitions, %d processors", r.Spec.RunID, r.Spec.Guarantee, r.Spec.Preset, r.Spec.Fault, r.Spec.Messages, r.partitions(), r.processors())})
	create := func() error {
		return broker.CreatePartitionedTopics(ctx, r.env.Admin, r.partitions(), r.Names.Input, r.Names.Ledger)
	}
	if f, _ := lessons.LookupFault(r.Spec.Fault); f.Needs == lessons.NeedsCluster {
		create = func() error {
			return r.env.Cluster.CreateTopics(ctx, cluster.Topics{Input: r.Names.Input, Ledger: r.Names.Ledger,
				InputMinISR: r.recipe.MinInsyncReplicas(), LeadWithCoordinator: r.Spec.Fault == lessons.FollowerDown})
		}
	}
	if err := create(); err != nil {
		return Result{}, fmt.Errorf("creating the run's topics: %w", err)
	}
	k := (r.Spec.Messages + 1) / 2 // faults strike in the middle of the run
	if r.Spec.Fault == lessons.ProcessorCrash || r.Spec.Fault == lessons.ProcessorStall || r.Spec.Fault == lessons.Rebalance {
		r.nemesis.arm(r.Spec.Fault, k)
	}
	r.nemesis.plan(r.Spec.Schedule)
	// The client that writes the end markers, made before the clock starts.
	// No linger: franz-go waits 10 ms by default for more records to join
	// a batch, and a marker is alone.
	// It places each marker on the partition the record names.
	marker, err := kgo.NewClient(kgo.SeedBrokers(r.env.Brokers...), kgo.ProducerLinger(0), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return Result{}, err
	}
	defer marker.Close()
	r.marker = marker
	// Its producer id and connection, too: otherwise the first marker
	// waits for InitProducerID and a dial, while the processor idles.
	if _, _, err := marker.ProducerID(ctx); err != nil {
		return Result{}, fmt.Errorf("preparing the end-marker writer: %w", err)
	}
	if err := marker.EnsureProduceConnectionIsOpen(ctx); err != nil {
		return Result{}, fmt.Errorf("preparing the end-marker writer: %w", err)
	}

	processed := make(chan error, 1)
	go func() { processed <- r.supervise(ctx) }()
	stopOffsets := func() {}
	if r.drawn() {
		watchCtx, stopWatch := context.WithCancel(ctx)
		watched := make(chan struct{})
		go func() { r.watchOffsets(watchCtx, ctx); close(watched) }()
		stopOffsets = sync.OnceFunc(func() { stopWatch(); <-watched })
		defer stopOffsets()
	}

	defer r.heal(context.Background()) // whatever happened, the cluster is whole for the next run
	began := time.Now()
	if err := r.produce(ctx, k); err != nil {
		cancel(err)
		<-processed
		return Result{}, fmt.Errorf("producer: %w", err)
	}
	ends, err := r.writeEnds(ctx, r.Names.Input)
	if err != nil {
		cancel(err)
		<-processed
		return Result{}, fmt.Errorf("writing the end marker: %w", err)
	}
	r.endOffsets.Store(&ends)
	err = <-processed
	stopOffsets() // the last watermarks, before the audit reads the log back
	if err != nil {
		return Result{}, fmt.Errorf("processor: %w", err)
	}
	elapsed := time.Since(began)
	if err := r.heal(ctx); err != nil {
		return Result{}, fmt.Errorf("healing the cluster: %w", err)
	}

	res, err := r.audit(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("auditor: %w", err)
	}
	res.DurationMs = time.Since(r.start).Milliseconds()
	res.Throughput = float64(r.Spec.Messages) / elapsed.Seconds()
	res.LatencyMs = r.latencies()
	res.Struck = r.nemesis.strikes()
	res.Deduplicated = int(r.deduplicated.Load())
	if r.leaderCrash != nil {
		e := r.leaderCrash.election
		res.Election = &e
	}
	if r.followerDown != nil {
		fd := r.followerDown.fd
		res.FollowerDown = &fd
	}
	res.Refused = int(r.refused.Load())
	res.SideEffects = int(r.notifier.acted.Load())
	res.SideEffectsDuplicated = r.notifier.duplicated()
	res.SideEffectsDropped = int(r.notifier.dropped.Load())
	res.TakeoverMs = float64(r.takeover.Load()) / 1000
	parts, procs := lessons.ClaimShape(r.Spec.Fault)
	shaped := r.partitions() == parts && r.processors() == procs
	if c, ok := r.expected(); ok && shaped && len(r.Spec.Schedule) == 0 && !r.injected.Load() {
		c = c.WithNotify(r.Spec.Notify)
		res.Expected, res.Mismatch = &c, c.Check(res.Result, res.SideEffectsDuplicated)
		if c.Refused != "" && !c.Refused.Holds(res.Refused) && r.recipe.Client == lessons.KafkaGo {
			res.Mismatch = strings.TrimPrefix(res.Mismatch+fmt.Sprintf("; refused for too few in-sync replicas: want %s, got %d", c.Refused, res.Refused), "; ")
		}
	}
	if r.Spec.Preset == lessons.Custom {
		res.Blame = lessons.BlameFor(r.Spec.Guarantee, r.recipe, r.Spec.Fault, res.Result)
	}
	r.emit(trace.Event{Actor: trace.Auditor, Kind: trace.Lifecycle, Offset: -1,
		Detail: fmt.Sprintf("verdict: %s (lost %d, duplicated %d, recovered %d, balance %d of %d)", res.Verdict, res.Lost, res.Duplicated, res.Recovered, res.Balance, res.ExpectedBalance)})
	return res, nil
}

// produce sends every deposit with the guarantee's producer, arming a
// planned network fault when deposit k is sent.
func (r *Run) produce(ctx context.Context, k int) error {
	var p producer
	switch {
	case r.recipe.Transactional:
		tp, err := newTxnProducer(r)
		if err != nil {
			return err
		}
		p = tp
	case r.recipe.Idempotent:
		ip, err := newIdempotentProducer(r)
		if err != nil {
			return err
		}
		p = ip
	default:
		kp := newKafkaGoProducer(r)
		// kafka-go retries every queued batch up to MaxAttempts, one
		// batch after another, and cannot be cancelled: with the broker
		// gone, closing the writer of a paced run took half an hour, and
		// its batches went to the broker when it came back. Once the run
		// is over they fail at once.
		kp.w.Transport = stopAt{kp.w.Transport, ctx.Done()}
		p = kp
	}
	defer func() {
		if ctx.Err() != nil {
			closeBounded(p.close) // what it settles now is no longer judged
			return
		}
		p.close()
	}()
	for seq := 1; seq <= r.Spec.Messages; seq++ {
		if err := r.Pacer.Send(ctx); err != nil {
			return err
		}
		if seq == k && (r.Spec.Fault == lessons.ProduceRequestLost || r.Spec.Fault == lessons.ProduceAckLost) {
			r.nemesis.arm(r.Spec.Fault, seq)
		}
		if seq == k && r.Spec.Fault == lessons.LeaderCrash {
			// What was sent so far reaches every replica first, and the
			// client knows the leader before the followers stop answering.
			if err := p.settle(ctx); err != nil {
				return err
			}
			lc, err := r.holdFollowers(ctx)
			if err != nil {
				return err
			}
			r.leaderCrash = lc
		}
		if seq == k && r.Spec.Fault == lessons.FollowerDown {
			// What was sent so far is in sync first: only what comes
			// next meets the leader alone.
			if err := p.settle(ctx); err != nil {
				return err
			}
			fd, err := r.stopFollowers(ctx)
			if err != nil {
				return err
			}
			r.followerDown = fd
		}
		if err := p.send(ctx, seq); err != nil {
			return err
		}
	}
	return p.flush(ctx)
}

// heal, after leader-crash struck, waits for the election, restarts the
// killed broker and waits until every replica is in sync; once.
func (r *Run) heal(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if fd := r.followerDown; fd != nil && fd.locked {
		return fd.heal(ctx)
	}
	lc := r.leaderCrash
	if lc == nil || !lc.locked {
		return nil
	}
	return lc.heal(ctx)
}

// sent records that deposits seqs were handed to the producer's client
// together: the start of their latency, and the progress count.
func (r *Run) sent(seqs []int) {
	at := r.since()
	for _, seq := range seqs {
		r.sentAt[seq-1] = at
	}
	r.Progress.Sent.Add(int64(len(seqs)))
}

// settle records the producer's final belief about deposits seqs, which
// it learnt together.
func (r *Run) settle(seqs []int, err error, attempt int, b *trace.Batch) {
	for _, seq := range seqs {
		if err != nil {
			r.outcomes[seq-1] = checker.Failed
			b.Add(trace.Event{Actor: trace.Producer, Kind: trace.Error, Deposit: seq, Attempt: attempt, Topic: r.Names.Input, Offset: -1,
				Detail: "send failed, not retried: " + err.Error()})
			continue
		}
		r.outcomes[seq-1] = checker.Acked
		b.Add(trace.Event{Actor: trace.Producer, Kind: trace.Ack, Deposit: seq, Attempt: attempt, Topic: r.Names.Input, Offset: -1})
	}
	if err == nil {
		r.Progress.Acked.Add(int64(len(seqs)))
	}
	b.Emit()
}

// credited records that the credits of deposits seqs, written together by
// instance, are visible in the ledger.
func (r *Run) credited(seqs []int, instance string, b *trace.Batch) {
	at := r.since()
	r.credMu.Lock()
	for _, seq := range seqs {
		if seq >= 1 && seq <= len(r.credAt) && r.credAt[seq-1] == 0 {
			r.credAt[seq-1] = at
		}
	}
	r.credMu.Unlock()
	for _, seq := range seqs {
		b.Add(trace.Event{Actor: trace.Ledger, Kind: trace.Credit, Deposit: seq, Instance: instance, Topic: r.Names.Ledger, Offset: -1})
	}
	r.Progress.Credited.Add(int64(len(seqs)))
	b.Emit()
	if len(seqs) > 0 && r.frozenCount() > 0 {
		r.wakeZombies(instance)
	}
}

func (r *Run) latencies() Latencies {
	var ds []uint32
	for i, c := range r.credAt {
		if c != 0 && r.sentAt[i] != 0 && c >= r.sentAt[i] {
			ds = append(ds, c-r.sentAt[i])
		}
	}
	if len(ds) == 0 {
		return Latencies{}
	}
	slices.Sort(ds)
	// Nearest rank: the smallest latency at least a fraction q of the
	// deposits do not exceed.
	at := func(q float64) float64 {
		i := max(0, int(math.Ceil(q*float64(len(ds))))-1)
		return float64(ds[i]) / 1000
	}
	hist := make([]int, len(LatencyBucketsMs)+1)
	b := 0
	for _, d := range ds { // sorted: the bucket only moves up
		for b < len(LatencyBucketsMs) && float64(d)/1000 > LatencyBucketsMs[b] {
			b++
		}
		hist[b]++
	}
	return Latencies{P50: at(0.50), P95: at(0.95), P99: at(0.99), Histogram: hist}
}
