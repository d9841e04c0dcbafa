// Package brokertest gives test suites a Kafka cluster to run against, as
// net/http/httptest gives them a server.
package brokertest

import (
	"os"
	"strings"

	"github.com/kafka-delivery-lab/lab/lessons/broker"
)

// New returns the cluster a test suite runs against: the external cluster
// in KAFKA_BROKERS when set (CI runs the suites once more against Apache
// Kafka that way), else an embedded broker on any free port. The caller
// closes it.
func New() (*broker.Broker, error) {
	if addrs := os.Getenv("KAFKA_BROKERS"); addrs != "" {
		return broker.Connect(strings.Split(addrs, ","))
	}
	return broker.StartEmbedded(broker.EmbeddedOptions{Port: 0})
}
