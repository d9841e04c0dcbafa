package pipeline

// What every producer is: the producer interface and a deposit's record.

import (
	"context"

	"github.com/kafka-delivery-lab/lab/lessons/deposit"
)

// inFlight bounds the deposits handed to a client and not yet settled, so a
// million-deposit run holds a bounded number of records in memory. The
// stages hold at most a batch more (handOver, Tuning.TxnSize).
const inFlight = 10_000

type producer interface {
	send(ctx context.Context, seq int) error
	flush(ctx context.Context) error
	// settle hands the client what is buffered and waits until all it
	// was handed is settled, the producer still open.
	settle(ctx context.Context) error
	close()
}

func depositRecord(r *Run, seq int) (id string, key, value []byte) {
	id = deposit.ID(seq)
	return id, []byte(id), deposit.Deposit{ID: id, Amount: deposit.Amount, Run: r.Spec.RunID, Account: deposit.Account(seq)}.Encode()
}
