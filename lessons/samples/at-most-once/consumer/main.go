// At-most-once processor (segmentio/kafka-go): commit each deposit's offset
// BEFORE crediting it. A crash in between loses that deposit; none is
// credited twice.
//
//	go run ./consumer -bootstrap localhost:9092 -topic deposits -group processor -count 5
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/segmentio/kafka-go"
)

func main() {
	bootstrap := flag.String("bootstrap", "localhost:9092", "broker address")
	topic := flag.String("topic", "deposits", "topic to read deposits from")
	group := flag.String("group", "processor", "consumer group id")
	count := flag.Int("count", 0, "stop after this many credits (0: never)")
	idle := flag.Duration("idle", 10*time.Second, "stop after this long without a record")
	flag.Parse()

	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: []string{*bootstrap},
		GroupID: *group, // the group's committed offset is where a restart resumes
		Topic:   *topic,
		// A new group starts at the first deposit.
		StartOffset: kafka.FirstOffset,
		// 0 = CommitMessages commits synchronously (a positive interval
		// would commit in the background on a timer).
		CommitInterval: 0,
		MaxWait:        500 * time.Millisecond, // how long one fetch waits for new records
	})
	defer r.Close() // leaves the group

	for credited := 0; *count == 0 || credited < *count; credited++ {
		ctx, cancel := context.WithTimeout(context.Background(), *idle)
		// FetchMessage, not ReadMessage: with a GroupID, ReadMessage commits
		// each message as it returns it, leaving us no say in the order.
		m, err := r.FetchMessage(ctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break // idle: no deposit for -idle
		} else if err != nil {
			log.Fatalf("fetch: %v", err)
		}
		// 1. Commit first: the group will never read this deposit again.
		if err := r.CommitMessages(context.Background(), m); err != nil {
			log.Fatalf("commit: %v", err) // not committed, not credited: a restart reads it again
		}
		// 2. Then credit. A crash right here loses this deposit: at most once.
		var d struct {
			ID     string `json:"id"`
			Amount int    `json:"amount"`
		}
		if err := json.Unmarshal(m.Value, &d); err != nil {
			log.Fatalf("deposit at offset %d: %v", m.Offset, err)
		}
		fmt.Printf("credit %s amount=%d offset=%d\n", d.ID, d.Amount, m.Offset)
	}
}
