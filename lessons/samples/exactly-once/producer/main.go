// Exactly-once producer (franz-go kgo): idempotent and transactional. All
// deposits go in one transaction: read_committed consumers see all or none,
// and a retry never writes one twice.
//
//	go run ./producer -bootstrap localhost:9092 -topic deposits -count 5
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	bootstrap := flag.String("bootstrap", "localhost:9092", "broker address")
	topic := flag.String("topic", "deposits", "topic to write deposits to")
	count := flag.Int("count", 5, "deposits to send")
	txnID := flag.String("transactional-id", "deposit-producer-1", "stable id of this producer")
	flag.Parse()

	cl, err := kgo.NewClient(
		kgo.SeedBrokers(*bootstrap),
		kgo.DefaultProduceTopic(*topic),
		// Names this producer across restarts; a new instance with the same
		// id fences this one off and aborts its unfinished transaction.
		// kgo gets the producer id and epoch itself (InitProducerID, the
		// step kafka-python calls init_transactions()) before the first send.
		kgo.TransactionalID(*txnID),
		// Idempotence is on by default (the broker drops a retried record
		// by producer id + sequence) and needs acks=all, also the default.
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.TransactionTimeout(30*time.Second), // the broker aborts it if we vanish
		kgo.AllowAutoTopicCreation(),           // create the topic if it is missing
	)
	if err != nil {
		log.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if err := cl.BeginTransaction(); err != nil {
		log.Fatal(err)
	}
	recs := make([]*kgo.Record, *count)
	for i := range recs {
		id := fmt.Sprintf("d-%06d", i+1)
		recs[i] = &kgo.Record{Key: []byte(id), Value: fmt.Appendf(nil, `{"id":%q,"amount":1}`, id)}
	}
	ok := kgo.TryCommit
	for _, r := range cl.ProduceSync(ctx, recs...) { // retried until acknowledged, never duplicated
		if r.Err != nil {
			ok = kgo.TryAbort // one failure aborts the whole transaction
			fmt.Printf("failed %s: %v\n", r.Record.Key, r.Err)
			continue
		}
		fmt.Printf("sent %s partition=%d offset=%d (not visible until commit)\n", r.Record.Key, r.Record.Partition, r.Record.Offset)
	}
	// Commit: only now do read_committed consumers see the deposits.
	// Abort: none of them ever becomes visible.
	if err := cl.EndTransaction(ctx, ok); err != nil {
		log.Fatalf("ending the transaction: %v", err)
	}
	if ok == kgo.TryAbort {
		fmt.Println("aborted: no deposit of this transaction is visible; run again")
		os.Exit(1)
	}
	fmt.Printf("committed %d deposits\n", len(recs))
}
