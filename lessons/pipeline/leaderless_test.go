package pipeline

import (
	"errors"
	"fmt"
	"testing"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"github.com/segmentio/kafka-go/protocol/produce"
)

// TestLeaderless: the processor writes its credits again only when
// kafka-go sent none of them, for want of a partition leader (as a
// ledger's election shows it: "fetch request error: topic partition has
// no leader"); a batch of which any write may have reached a broker is
// not written twice.
func TestLeaderless(t *testing.T) {
	noLeader := fmt.Errorf("kafka.(*Client).Produce: %w", produce.NewError(protocol.NewErrNoLeader("ledger", 0)))
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"every write without a leader", kafka.WriteErrors{noLeader, noLeader}, true},
		{"one written", kafka.WriteErrors{noLeader, nil}, false},
		{"one timed out", kafka.WriteErrors{noLeader, kafka.RequestTimedOut}, false},
		{"a lone no-leader error", noLeader, true},
		{"not enough replicas", kafka.NotEnoughReplicas, false},
		{"no writes", kafka.WriteErrors{}, false},
		{"other", errors.New("boom"), false},
	} {
		if got := leaderless(tc.err); got != tc.want {
			t.Errorf("%s: leaderless %v, want %v", tc.name, got, tc.want)
		}
	}
}
