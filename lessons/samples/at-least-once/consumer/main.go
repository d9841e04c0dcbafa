// At-least-once processor (segmentio/kafka-go): credit each deposit FIRST,
// then commit its offset. A crash in between credits that deposit again
// after the restart: never lost, maybe twice. Make credits idempotent (skip
// deposit ids already credited) if duplicates matter.
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
		// 0 = CommitMessages commits synchronously: it returns once the
		// broker has stored the offset (a positive interval commits later,
		// in the background, and a crash can lose that commit).
		CommitInterval: 0,
		MaxWait:        500 * time.Millisecond, // how long one fetch waits for new records
	})
	defer r.Close() // leaves the group

	for credited := 0; *count == 0 || credited < *count; credited++ {
		ctx, cancel := context.WithTimeout(context.Background(), *idle)
		// FetchMessage, not ReadMessage: with a GroupID, ReadMessage commits
		// each message as it returns it, before we could credit it.
		m, err := r.FetchMessage(ctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break // idle: no deposit for -idle
		} else if err != nil {
			log.Fatalf("fetch: %v", err)
		}
		// 1. Credit first. A crash right here means no commit: the deposit
		//    is read and credited again after the restart.
		var d struct {
			ID     string `json:"id"`
			Amount int    `json:"amount"`
		}
		if err := json.Unmarshal(m.Value, &d); err != nil {
			log.Fatalf("deposit at offset %d: %v", m.Offset, err)
		}
		fmt.Printf("credit %s amount=%d offset=%d\n", d.ID, d.Amount, m.Offset)
		// 2. Then commit this offset (+1, kafka-go adds it). One commit per
		//    deposit is simple but slow; committing the last message of a
		//    batch gives the same guarantee with fewer round trips.
		if err := r.CommitMessages(context.Background(), m); err != nil {
			log.Fatalf("commit: %v", err) // credited, not committed: a restart credits it again
		}
	}
}
