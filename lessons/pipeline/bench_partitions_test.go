package pipeline

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/broker"
	"github.com/kafka-delivery-lab/lab/lessons/deposit"
)

// BenchmarkPartitions times at-least-once (strict) runs with 1, 3 and 12
// partitions and 1 and 3 processors against the bare pipeline with the
// same partitions and processors, the way BenchmarkRun does: app and bare
// back to back in alternating order, app÷bare the median of the
// iterations' ratios.
//
//	go test -run XXX -bench 'BenchmarkPartitions' -benchtime 3x ./lessons/pipeline/
func BenchmarkPartitions(b *testing.B) {
	for _, parts := range []int{1, 3, 12} {
		for _, procs := range []int{1, 3} {
			b.Run(fmt.Sprintf("partitions=%d/processors=%d", parts, procs), func(b *testing.B) {
				var appPipe, bare time.Duration
				var ratios []float64
				appRun := func() time.Duration {
					runtime.GC()
					res, r := runSpec(b, Spec{Guarantee: lessons.AtLeastOnce, Preset: lessons.Strict, Fault: lessons.NoFault,
						Messages: benchDeposits, Partitions: parts, Processors: procs})
					// Several instances joining at the start rebalance the
					// group while it works: at-least-once may credit some
					// deposits twice, never none.
					if res.Lost != 0 || (procs == 1 && res.Balance != benchDeposits) {
						b.Fatalf("app run: lost %d, balance %d", res.Lost, res.Balance)
					}
					deleteTopics(b, r.Names)
					return time.Duration(float64(time.Second) * benchDeposits / res.Throughput)
				}
				bareRun := func() time.Duration {
					runtime.GC()
					d, err := runBareGroup(benchDeposits, parts, procs)
					if err != nil {
						b.Fatal(err)
					}
					return d
				}
				i := 0
				for b.Loop() {
					var a, d time.Duration
					if i++; i%2 == 1 {
						a = appRun()
						d = bareRun()
					} else {
						d = bareRun()
						a = appRun()
					}
					appPipe, bare = appPipe+a, bare+d
					ratios = append(ratios, d.Seconds()/a.Seconds())
				}
				n := float64(b.N * benchDeposits)
				slices.Sort(ratios)
				b.ReportMetric(n/appPipe.Seconds(), "app-msgs/s")
				b.ReportMetric(n/bare.Seconds(), "bare-msgs/s")
				b.ReportMetric(ratios[len(ratios)/2], "app÷bare")
			})
		}
	}
}

// runBareGroup is runBare for at-least-once on partitions partitions with
// processors instances in one group: the same kafka-go producer, and each
// instance the bare processor loop, until together they processed n.
func runBareGroup(n, partitions, processors int) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	names := NamesFor(fmt.Sprintf("r-bare%d", runCounter.Add(1)))
	if err := broker.CreatePartitionedTopics(ctx, testEnv.Admin, partitions, names.Input, names.Ledger); err != nil {
		return 0, err
	}
	t := time.Now()
	produced := make(chan error, 1)
	go func() { produced <- bareKafkaGoProduce(ctx, names, n, lessons.AtLeastOnce) }()
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, processors)
	for i := range processors {
		wg.Go(func() { errs[i] = bareGroupMember(pctx, stop, names, int64(n), &done) })
	}
	wg.Wait()
	d := time.Since(t)
	err := errors.Join(append(errs, <-produced)...)
	_, delErr := testEnv.Admin.DeleteTopics(ctx, names.Input, names.Ledger)
	return d, errors.Join(err, delErr)
}

// bareGroupMember is bareKafkaGoProcess's at-least-once loop as one member
// of a group: credit a batch, commit it; stop once done reached n.
func bareGroupMember(ctx context.Context, stop func(), names Names, n int64, done *atomic.Int64) error {
	recipe, _ := lessons.LookupRecipe(lessons.AtLeastOnce, lessons.Strict)
	acks, tries := kafkaGoAcks(recipe)
	batch := DefaultTuning().Batch
	rd := kafka.NewReader(kafka.ReaderConfig{Brokers: testEnv.Brokers, GroupID: names.Group, Topic: names.Input,
		MinBytes: 1, MaxBytes: 4 << 20, MaxWait: 100 * time.Millisecond, QueueCapacity: batch, StartOffset: kafka.FirstOffset,
		SessionTimeout: time.Second, RebalanceTimeout: time.Second, HeartbeatInterval: 250 * time.Millisecond, JoinGroupBackoff: 100 * time.Millisecond})
	defer rd.Close()
	lw := &kafka.Writer{Addr: kafka.TCP(testEnv.Brokers...), Topic: names.Ledger, RequiredAcks: acks, MaxAttempts: tries,
		BatchSize: batch, BatchTimeout: time.Millisecond, Balancer: accountBalancer{}, Transport: &kafka.Transport{}}
	defer lw.Close()
	for done.Load() < n {
		first, err := rd.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil && done.Load() >= n {
				return nil
			}
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
		if err := lw.WriteMessages(ctx, credits...); err != nil {
			return err
		}
		if err := rd.CommitMessages(ctx, in...); err != nil {
			if errors.Is(err, kafka.IllegalGeneration) || errors.Is(err, kafka.RebalanceInProgress) || errors.Is(err, kafka.UnknownMemberId) {
				continue // members joining at the start rebalance the group: read again, as the app does
			}
			return err
		}
		if done.Add(int64(len(in))) >= n {
			stop()
		}
	}
	return nil
}
