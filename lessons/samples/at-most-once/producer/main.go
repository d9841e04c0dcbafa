// At-most-once producer (segmentio/kafka-go): one attempt per deposit, acks=1.
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
		// The leader's write is enough. Set it: a zero Writer has
		// RequireNone (acks=0) and never learns whether a write failed.
		RequiredAcks: kafka.RequireOne,
		// One attempt, no retry: MaxAttempts counts the first try (0 means
		// 10 tries). A write whose answer is lost is reported as failed,
		// even if the broker stored it: at most once, maybe not at all.
		MaxAttempts: 1,
		// Send after 10 ms instead of the default 1 s wait for a full batch.
		BatchTimeout: 10 * time.Millisecond,
		// WriteTimeout bounds each produce request, the wait for its answer
		// included. ReadTimeout does not: kafka-go v0.4.51 uses it only for
		// metadata requests.
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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := w.WriteMessages(ctx, msgs...) // blocks until every batch is answered
	var perMsg kafka.WriteErrors         // when some failed: one error per message
	errors.As(err, &perMsg)
	for i, m := range msgs {
		switch {
		case perMsg != nil && perMsg[i] != nil:
			fmt.Printf("failed %s: %v\n", m.Key, perMsg[i]) // no retry: stored or not, unknown
		case perMsg == nil && err != nil:
			fmt.Printf("failed %s: %v\n", m.Key, err)
		default:
			fmt.Printf("sent %s\n", m.Key)
		}
	}
}
