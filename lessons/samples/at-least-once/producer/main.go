// At-least-once producer (segmentio/kafka-go): acks=all, retried until acknowledged.
//
//	go run ./producer -bootstrap localhost:9092 -topic deposits -count 5
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

func main() {
	bootstrap := flag.String("bootstrap", "localhost:9092", "broker address")
	topic := flag.String("topic", "deposits", "topic to write deposits to")
	count := flag.Int("count", 5, "deposits to send")
	flag.Parse()

	w := &kafka.Writer{
		Addr:  kafka.TCP(*bootstrap),
		Topic: *topic,
		// Acknowledged once every in-sync replica has it (a zero Writer has
		// RequireNone: fire and forget). That survives losing the leader only
		// with replication factor >= 3 and min.insync.replicas >= 2 (the
		// default is 1, and then the in-sync set may be the leader alone).
		// On a single broker, like the lab's, all = one.
		RequiredAcks: kafka.RequireAll,
		// Up to 5 tries in all (MaxAttempts counts the first one). kafka-go's
		// Writer is not idempotent: if only the answer was lost, the retry
		// writes the deposit again. Never lost, maybe twice: at least once.
		MaxAttempts:     5,
		WriteBackoffMin: 100 * time.Millisecond, // wait between tries
		WriteBackoffMax: time.Second,
		// Send after 10 ms instead of the default 1 s wait for a full batch.
		BatchTimeout: 10 * time.Millisecond,
		// An answer missing for 5 s fails the try, and the writer tries again.
		// WriteTimeout sets that wait; ReadTimeout does not (kafka-go v0.4.51
		// uses it only for metadata requests).
		WriteTimeout: 5 * time.Second,
		ReadTimeout:  5 * time.Second,
		// Like kafka-python's default: create the topic if it is missing.
		AllowAutoTopicCreation: true,
	}
	defer w.Close()

	msgs := make([]kafka.Message, *count)
	for i := range msgs {
		id := fmt.Sprintf("d-%06d", i+1)
		msgs[i] = kafka.Message{Key: []byte(id), Value: fmt.Appendf(nil, `{"id":%q,"amount":1}`, id)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := w.WriteMessages(ctx, msgs...) // blocks until every batch is answered
	var perMsg kafka.WriteErrors         // when some failed: one error per message
	errors.As(err, &perMsg)
	for i, m := range msgs {
		switch {
		case perMsg != nil && perMsg[i] != nil:
			fmt.Printf("failed %s: %v\n", m.Key, perMsg[i]) // after 5 tries: resend it yourself
		case perMsg == nil && err != nil:
			fmt.Printf("failed %s: %v\n", m.Key, err)
		default:
			fmt.Printf("sent %s\n", m.Key)
		}
	}
}
