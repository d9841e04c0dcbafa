package pipeline

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/broker"
	"github.com/kafka-delivery-lab/lab/lessons/deposit"
)

// benchDeposits is the size of a benchmarked run (the engine issue's target
// is measured at 100,000 deposits).
const benchDeposits = 100_000

// BenchmarkRun times the app's run of each guarantee against the bare
// pipeline: the same produce / consume / credit / commit with the same
// client library and the same batching, without tracing, fault wrappers or
// checking. It reports both throughputs and app÷bare, measured in the same
// process. On a shared machine either's throughput drifts by ±20% from one
// second to the next, so each iteration runs both back to back, in
// alternating order, from a collected heap and a broker holding only what
// it held before (each run's topics are deleted after it), and app÷bare is
// the median of the iterations' ratios.
//
//	go test -run XXX -bench 'BenchmarkRun$' -benchtime 20x ./lessons/pipeline/
func BenchmarkRun(b *testing.B) {
	for _, g := range []lessons.GuaranteeID{lessons.AtMostOnce, lessons.AtLeastOnce, lessons.ExactlyOnce} {
		b.Run(string(g), func(b *testing.B) {
			var app, appPipe, bare time.Duration
			var ratios []float64
			appRun := func() (e2e, pipe time.Duration) {
				runtime.GC()
				t := time.Now()
				res, r := runTraced(b, g, lessons.Strict, lessons.NoFault, benchDeposits)
				e2e = time.Since(t)
				if res.Balance != benchDeposits {
					b.Fatalf("app run balance %d", res.Balance)
				}
				deleteTopics(b, r.Names)
				return e2e, time.Duration(float64(time.Second) * benchDeposits / res.Throughput)
			}
			bareRun := func() time.Duration {
				runtime.GC()
				d, err := runBare(g, benchDeposits)
				if err != nil {
					b.Fatal(err)
				}
				return d
			}
			i := 0
			for b.Loop() {
				var e2e, a, d time.Duration
				if i++; i%2 == 1 {
					e2e, a = appRun()
					d = bareRun()
				} else {
					d = bareRun()
					e2e, a = appRun()
				}
				app, appPipe, bare = app+e2e, appPipe+a, bare+d
				ratios = append(ratios, d.Seconds()/a.Seconds())
			}
			n := float64(b.N * benchDeposits)
			// app÷bare compares the same window: first send to the last
			// deposit processed. e2e÷bare adds what only the app does:
			// creating topics, the end markers, auditing and checking.
			slices.Sort(ratios)
			b.ReportMetric(n/appPipe.Seconds(), "app-msgs/s")
			b.ReportMetric(n/bare.Seconds(), "bare-msgs/s")
			b.ReportMetric(ratios[len(ratios)/2], "app÷bare")
			b.ReportMetric(ratios[len(ratios)/4], "app÷bare-q1")
			b.ReportMetric(ratios[len(ratios)*3/4], "app÷bare-q3")
			b.ReportMetric(bare.Seconds()/app.Seconds(), "e2e÷bare")
		})
	}
}

func deleteTopics(b testing.TB, n Names) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := testEnv.Admin.DeleteTopics(ctx, n.Input, n.Ledger); err != nil {
		b.Fatal(err)
	}
}

// runBare runs the bare pipeline and returns the time from its first send
// to its last deposit processed.
func runBare(g lessons.GuaranteeID, n int) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	names := NamesFor(fmt.Sprintf("r-bare%d", runCounter.Add(1)))
	if err := broker.CreateTopics(ctx, testEnv.Admin, names.Input, names.Ledger); err != nil {
		return 0, err
	}
	t := time.Now()
	var err error
	// Producer and processor run at once, as in the app.
	produce, process := bareKafkaGoProduce, bareKafkaGoProcess
	if g == lessons.ExactlyOnce {
		produce, process = bareTxnProduce, bareTxnProcess
	}
	produced := make(chan error, 1)
	go func() { produced <- produce(ctx, names, n, g) }()
	err = process(ctx, names, n, g)
	err = errors.Join(err, <-produced)
	d := time.Since(t)
	_, delErr := testEnv.Admin.DeleteTopics(ctx, names.Input, names.Ledger)
	return d, errors.Join(err, delErr)
}

func bareKafkaGoProduce(ctx context.Context, names Names, n int, g lessons.GuaranteeID) error {
	recipe, _ := lessons.LookupRecipe(g, lessons.Strict)
	acks, tries := kafkaGoAcks(recipe)
	w := &kafka.Writer{Addr: kafka.TCP(testEnv.Brokers...), Topic: names.Input, RequiredAcks: acks, MaxAttempts: tries,
		BatchSize: 1000, BatchTimeout: 2 * time.Millisecond, Async: true, Transport: &kafka.Transport{}}
	msgs := make([]kafka.Message, 0, 1000)
	for seq := 1; seq <= n; seq++ {
		id := deposit.ID(seq)
		msgs = append(msgs, kafka.Message{Key: []byte(id), Value: deposit.Deposit{ID: id, Amount: 1, Run: "bare"}.Encode()})
		if len(msgs) == cap(msgs) || seq == n {
			if err := w.WriteMessages(ctx, msgs...); err != nil {
				return err
			}
			msgs = make([]kafka.Message, 0, 1000)
		}
	}
	return w.Close()
}

func bareKafkaGoProcess(ctx context.Context, names Names, n int, g lessons.GuaranteeID) error {
	recipe, _ := lessons.LookupRecipe(g, lessons.Strict)
	acks, tries := kafkaGoAcks(recipe)
	commitFirst := g == lessons.AtMostOnce
	batch := DefaultTuning().Batch
	rd := kafka.NewReader(kafka.ReaderConfig{Brokers: testEnv.Brokers, GroupID: names.Group, Topic: names.Input,
		MinBytes: 1, MaxBytes: 4 << 20, MaxWait: 100 * time.Millisecond, QueueCapacity: batch, StartOffset: kafka.FirstOffset,
		SessionTimeout: time.Second, RebalanceTimeout: time.Second, HeartbeatInterval: 250 * time.Millisecond, JoinGroupBackoff: 100 * time.Millisecond})
	defer rd.Close()
	lw := &kafka.Writer{Addr: kafka.TCP(testEnv.Brokers...), Topic: names.Ledger, RequiredAcks: acks, MaxAttempts: tries,
		BatchSize: batch, BatchTimeout: time.Millisecond, Transport: &kafka.Transport{}}
	defer lw.Close()
	for done := 0; done < n; {
		first, err := rd.FetchMessage(ctx)
		if err != nil {
			return err
		}
		in := []kafka.Message{first}
		lc, cancel := context.WithTimeout(ctx, linger)
		for len(in) < batch {
			m, err := rd.FetchMessage(lc)
			if err != nil {
				break
			}
			in = append(in, m)
		}
		cancel()
		credits := make([]kafka.Message, len(in))
		for i, m := range in {
			credits[i] = kafka.Message{Key: m.Key, Value: deposit.Credit{Deposit: string(m.Key), Amount: 1, Processor: "bare"}.Encode()}
		}
		if commitFirst {
			if err := rd.CommitMessages(ctx, in...); err != nil {
				return err
			}
		}
		if err := lw.WriteMessages(ctx, credits...); err != nil {
			return err
		}
		if !commitFirst {
			if err := rd.CommitMessages(ctx, in...); err != nil {
				return err
			}
		}
		done += len(in)
	}
	return nil
}

func bareTxnProduce(ctx context.Context, names Names, n int, _ lessons.GuaranteeID) error {
	tuning := DefaultTuning()
	p, err := kgo.NewClient(kgo.SeedBrokers(testEnv.Brokers...), kgo.DefaultProduceTopic(names.Input),
		kgo.TransactionalID(names.ProducerTxnID), kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		return err
	}
	for seq := 1; seq <= n; {
		if err := p.BeginTransaction(); err != nil {
			return err
		}
		for end := min(n, seq+tuning.TxnSize-1); seq <= end; seq++ {
			id := deposit.ID(seq)
			p.Produce(ctx, &kgo.Record{Key: []byte(id), Value: deposit.Deposit{ID: id, Amount: 1, Run: "bare"}.Encode()}, nil)
		}
		if err := p.Flush(ctx); err != nil {
			return err
		}
		if err := p.EndTransaction(ctx, kgo.TryCommit); err != nil {
			return err
		}
	}
	p.Close()
	return nil
}

func bareTxnProcess(ctx context.Context, names Names, n int, _ lessons.GuaranteeID) error {
	tuning := DefaultTuning()
	sess, err := kgo.NewGroupTransactSession(kgo.SeedBrokers(testEnv.Brokers...), kgo.TransactionalID(names.ProcessorTxnID),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumerGroup(names.Group), kgo.ConsumeTopics(names.Input),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DefaultProduceTopic(names.Ledger),
		kgo.SessionTimeout(time.Second), kgo.RebalanceTimeout(time.Second), kgo.HeartbeatInterval(250*time.Millisecond),
		kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		return err
	}
	defer sess.Close()
	for done := 0; done < n; {
		fs := sess.PollRecords(ctx, tuning.Batch)
		if err := fs.Err0(); err != nil {
			return err
		}
		if err := sess.Begin(); err != nil {
			return err
		}
		recs := fs.Records()
		for _, r := range recs {
			sess.Produce(ctx, &kgo.Record{Key: r.Key, Value: deposit.Credit{Deposit: string(r.Key), Amount: 1, Processor: "bare"}.Encode()}, nil)
		}
		committed, err := sess.End(ctx, kgo.TryCommit)
		if err != nil {
			return err
		}
		if !committed {
			return errors.New("bare transaction aborted")
		}
		done += len(recs)
	}
	return nil
}

// BenchmarkMillionDeposits runs the largest run the API allows and reports
// the peak heap in use while it ran: per-deposit state is a few bytes, the
// trace is bounded, in-flight records are bounded by inFlight.
//
//	go test -run XXX -bench BenchmarkMillionDeposits -benchtime 1x ./lessons/pipeline/
func BenchmarkMillionDeposits(b *testing.B) {
	for b.Loop() {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		stop := make(chan struct{})
		peak := make(chan uint64)
		go func() {
			var m runtime.MemStats
			top := uint64(0)
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					peak <- top
					return
				case <-t.C:
					runtime.ReadMemStats(&m)
					top = max(top, m.HeapInuse)
				}
			}
		}()
		res := runOnce(b, lessons.AtLeastOnce, lessons.Strict, lessons.NoFault, 1_000_000)
		close(stop)
		p := <-peak
		if res.Balance != 1_000_000 {
			b.Fatalf("balance %d", res.Balance)
		}
		b.ReportMetric(float64(p)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(before.HeapInuse)/(1<<20), "heap-before-MiB")
		b.ReportMetric(res.Throughput, "msgs/s")
	}
}

// BenchmarkTxnSize measures what exactly-once costs against at-least-once
// as the transaction size changes: each transaction adds requests to the
// coordinator and a commit marker, so small transactions cost the most.
// The lesson quotes these numbers.
//
//	go test -run XXX -bench BenchmarkTxnSize -benchtime 2x ./lessons/pipeline/
func BenchmarkTxnSize(b *testing.B) {
	const n = 20_000
	alo := func() float64 { return runOnce(b, lessons.AtLeastOnce, lessons.Strict, lessons.NoFault, n).Throughput }
	for _, size := range []int{1, 10, 100, 500} {
		b.Run(fmt.Sprintf("txn=%d", size), func(b *testing.B) {
			saved := testEnv.Tuning
			testEnv.Tuning.TxnSize, testEnv.Tuning.Batch = size, max(size, 1)
			defer func() { testEnv.Tuning = saved }()
			var eos, base float64
			for b.Loop() {
				eos += runOnce(b, lessons.ExactlyOnce, lessons.Strict, lessons.NoFault, n).Throughput
				testEnv.Tuning = saved
				base += alo()
				testEnv.Tuning.TxnSize, testEnv.Tuning.Batch = size, max(size, 1)
			}
			b.ReportMetric(eos/float64(b.N), "eos-msgs/s")
			b.ReportMetric(base/float64(b.N), "alo-msgs/s")
			b.ReportMetric(eos/base, "eos÷alo")
		})
	}
}

// BenchmarkDedup times at-least-once's dedup preset against its strict
// preset, app against app: the same producer and commits, plus the
// idempotent consumer's store (restored from the ledger as each instance
// starts, one bit looked up and set per deposit). Like BenchmarkRun, each
// iteration runs both back to back in alternating order, and dedup÷strict
// is the median of the iterations' throughput ratios.
//
//	go test -run XXX -bench 'BenchmarkDedup$' -benchtime 10x ./lessons/pipeline/
func BenchmarkDedup(b *testing.B) {
	var strict, dedup time.Duration
	var ratios []float64
	run := func(p lessons.PresetID) time.Duration {
		runtime.GC()
		res, r := runTraced(b, lessons.AtLeastOnce, p, lessons.NoFault, benchDeposits)
		if res.Balance != benchDeposits || res.Deduplicated != 0 {
			b.Fatalf("%s run: balance %d, deduplicated %d", p, res.Balance, res.Deduplicated)
		}
		deleteTopics(b, r.Names)
		return time.Duration(float64(time.Second) * benchDeposits / res.Throughput)
	}
	i := 0
	for b.Loop() {
		var s, d time.Duration
		if i++; i%2 == 1 {
			s, d = run(lessons.Strict), run(lessons.Dedup)
		} else {
			d, s = run(lessons.Dedup), run(lessons.Strict)
		}
		strict, dedup = strict+s, dedup+d
		ratios = append(ratios, s.Seconds()/d.Seconds())
	}
	n := float64(b.N * benchDeposits)
	slices.Sort(ratios)
	b.ReportMetric(n/strict.Seconds(), "strict-msgs/s")
	b.ReportMetric(n/dedup.Seconds(), "dedup-msgs/s")
	b.ReportMetric(ratios[len(ratios)/2], "dedup÷strict")
	b.ReportMetric(ratios[len(ratios)/4], "dedup÷strict-q1")
	b.ReportMetric(ratios[len(ratios)*3/4], "dedup÷strict-q3")
}

// BenchmarkDedupStore measures the idempotent consumer's memory per
// 100,000 ids: the bitset the dedup preset keeps, against the set of id
// strings a consumer that does not number its deposits would keep.
//
//	go test -run XXX -bench BenchmarkDedupStore ./lessons/pipeline/
func BenchmarkDedupStore(b *testing.B) {
	heap := func(fill func() any) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		keep := fill()
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(keep)
		return after.HeapAlloc - before.HeapAlloc
	}
	var bits, strs uint64
	for b.Loop() {
		bits = heap(func() any {
			s := newCreditedSet(benchDeposits)
			for seq := 1; seq <= benchDeposits; seq++ {
				s.add(seq)
			}
			return s
		})
		strs = heap(func() any {
			s := make(map[string]struct{})
			for seq := 1; seq <= benchDeposits; seq++ {
				s[deposit.ID(seq)] = struct{}{}
			}
			return s
		})
	}
	b.ReportMetric(float64(bits), "bitset-B/100k-ids")
	b.ReportMetric(float64(strs), "string-set-B/100k-ids")
}

// BenchmarkDedupRestore times what a dedup processor instance does before
// it processes anything: read a ledger of 100,000 credits from its start
// to its end and fill its store.
//
//	go test -run XXX -bench BenchmarkDedupRestore -benchtime 5x ./lessons/pipeline/
func BenchmarkDedupRestore(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	spec := Spec{RunID: fmt.Sprintf("r-restore%d", runCounter.Add(1)), Guarantee: lessons.AtLeastOnce, Preset: lessons.Dedup,
		Fault: lessons.NoFault, Messages: benchDeposits}
	r, err := New(testEnv, spec, NewPacer(0))
	if err != nil {
		b.Fatal(err)
	}
	if err := broker.CreateTopics(ctx, testEnv.Admin, r.Names.Input, r.Names.Ledger); err != nil {
		b.Fatal(err)
	}
	defer deleteTopics(b, r.Names)
	w, err := kgo.NewClient(kgo.SeedBrokers(testEnv.Brokers...), kgo.DefaultProduceTopic(r.Names.Ledger))
	if err != nil {
		b.Fatal(err)
	}
	for seq := 1; seq <= benchDeposits; seq++ {
		id := deposit.ID(seq)
		w.Produce(ctx, &kgo.Record{Key: []byte(id), Value: deposit.Credit{Deposit: id, Amount: deposit.Amount, Processor: "p-1"}.Encode()}, nil)
	}
	if err := w.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	w.Close()
	for b.Loop() {
		set, n, err := r.restoreCredited(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n != benchDeposits || !set.has(1) || !set.has(benchDeposits) {
			b.Fatalf("restored %d credits", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/restore")
}

// BenchmarkStallTakeover measures processor-stall's takeover: the time
// from the processor freezing (no heartbeats) to the first credit of the
// instance the group gave its partition to. It is bounded below by the
// session timeout counted from the frozen member's last heartbeat, so it
// lies between SessionTimeout − HeartbeatInterval and SessionTimeout plus
// the rebalance and the new instance's first transaction or commit.
//
//	go test -run XXX -bench BenchmarkStallTakeover -benchtime 5x ./lessons/pipeline/
func BenchmarkStallTakeover(b *testing.B) {
	for _, g := range []lessons.GuaranteeID{lessons.AtLeastOnce, lessons.ExactlyOnce} {
		b.Run(string(g), func(b *testing.B) {
			var takeovers []float64
			for range b.N {
				res, _ := runTraced(b, g, lessons.Strict, lessons.ProcessorStall, 1000)
				takeovers = append(takeovers, res.TakeoverMs)
			}
			slices.Sort(takeovers)
			b.ReportMetric(takeovers[len(takeovers)/2], "takeover-ms")
			b.ReportMetric(takeovers[0], "takeover-min-ms")
			b.ReportMetric(takeovers[len(takeovers)-1], "takeover-max-ms")
			b.ReportMetric(float64(testEnv.Tuning.SessionTimeout.Milliseconds()), "session-timeout-ms")
		})
	}
}
