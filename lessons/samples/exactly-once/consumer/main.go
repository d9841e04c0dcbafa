// Exactly-once processor (franz-go kgo): consume-transform-produce. For each
// batch of deposits it writes one credit per deposit to the ledger topic AND
// commits the batch's offsets in one transaction: both or neither.
//
//	go run ./consumer -bootstrap localhost:9092 -topic deposits -ledger credits -group processor -count 5
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	bootstrap := flag.String("bootstrap", "localhost:9092", "broker address")
	topic := flag.String("topic", "deposits", "topic to read deposits from")
	ledger := flag.String("ledger", "credits", "topic to write credits to")
	group := flag.String("group", "processor", "consumer group id")
	txnID := flag.String("transactional-id", "processor-1", "stable id of this processor")
	count := flag.Int("count", 0, "stop after this many credits (0: never)")
	idle := flag.Duration("idle", 10*time.Second, "stop after this long without a record")
	flag.Parse()

	// A GroupTransactSession is a consumer-group client and a transactional
	// producer in one; it aborts the transaction if the group rebalances
	// before End, so no other member can process the same batch.
	s, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(*bootstrap),
		kgo.ConsumerGroup(*group),
		kgo.ConsumeTopics(*topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), // a new group starts at the first deposit
		// Read only committed transactions: skip aborted deposits, wait at open ones.
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Offsets are committed inside the transaction (kgo turns auto-commit
		// off for a transactional group). A restart with the same id fences us.
		kgo.TransactionalID(*txnID),
		kgo.DefaultProduceTopic(*ledger),
		kgo.FetchMaxWait(500*time.Millisecond), // how long one fetch waits for new records
	)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close() // leaves the group

	for credited := 0; *count == 0 || credited < *count; {
		ctx, cancel := context.WithTimeout(context.Background(), *idle)
		fetches := s.PollRecords(ctx, *count-credited) // at most what is left (<= 0: no limit)
		cancel()
		if err := fetches.Err0(); errors.Is(err, context.DeadlineExceeded) {
			break // idle: no deposit for -idle
		} else if err != nil {
			log.Fatalf("poll: %v", err)
		}
		if err := s.Begin(); err != nil {
			log.Fatal(err)
		}
		var credits []string
		for _, r := range fetches.Records() {
			var d struct {
				ID     string `json:"id"`
				Amount int    `json:"amount"`
			}
			if err := json.Unmarshal(r.Value, &d); err != nil {
				log.Fatalf("deposit at offset %d: %v", r.Offset, err)
			}
			credit := fmt.Appendf(nil, `{"deposit":%q,"amount":%d}`, d.ID, d.Amount)
			s.Produce(context.Background(), &kgo.Record{Key: r.Key, Value: credit}, nil) // errors surface in End
			credits = append(credits, fmt.Sprintf("credit %s amount=%d offset=%d", d.ID, d.Amount, r.Offset))
		}
		// End flushes the credits, adds the polled offsets to the
		// transaction, and commits both, or aborts both (and rewinds to
		// the last committed offsets) if anything failed or the group moved.
		committed, err := s.End(context.Background(), kgo.TryCommit)
		if err != nil {
			log.Fatalf("ending the transaction: %v", err)
		}
		if !committed {
			continue // aborted: the same deposits come again
		}
		for _, c := range credits {
			fmt.Println(c)
		}
		credited += len(credits)
	}
}
