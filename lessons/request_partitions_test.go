package lessons

import (
	"strings"
	"testing"
)

func intp(n int) *int { return &n }

// Partitions and processors default to 1; out-of-range values get a 400
// naming the field and the range; a rebalance needs a partition for the
// instance that joins.
func TestRunParamsPartitionsAndProcessors(t *testing.T) {
	p := RunParams{Guarantee: AtLeastOnce, Fault: NoFault}
	if err := p.Validate(); err != nil || *p.Partitions != 1 || *p.Processors != 1 {
		t.Fatalf("defaults: %v, partitions %v processors %v", err, p.Partitions, p.Processors)
	}
	for _, tc := range []struct {
		partitions, processors *int
		fault                  FaultID
		field, says            string
	}{
		{intp(0), nil, NoFault, "partitions", "from 1 to 12"},
		{intp(13), nil, NoFault, "partitions", "from 1 to 12"},
		{nil, intp(0), NoFault, "processors", "from 1 to 4"},
		{nil, intp(5), NoFault, "processors", "from 1 to 4"},
		{nil, nil, Rebalance, "partitions", "at least 2"},
		{intp(2), intp(2), Rebalance, "partitions", "at least 3"},
	} {
		p := RunParams{Guarantee: AtLeastOnce, Fault: tc.fault, Partitions: tc.partitions, Processors: tc.processors}
		err := p.Validate()
		if err == nil || err.Field != tc.field || !strings.Contains(err.Msg, tc.says) {
			t.Errorf("partitions %v processors %v fault %s: %v, want a %s error saying %q", tc.partitions, tc.processors, tc.fault, err, tc.field, tc.says)
		}
	}
	ok := RunParams{Guarantee: ExactlyOnce, Fault: Rebalance, Partitions: intp(3), Processors: intp(2)}
	if err := ok.Validate(); err != nil {
		t.Fatalf("rebalance on 3 partitions, 2 processors: %v", err)
	}
	if ok.Applies(Rebalance) != true || (RunParams{Partitions: intp(1), Processors: intp(1)}).Applies(Rebalance) {
		t.Fatal("Applies(rebalance) must follow the partitions and processors")
	}
}
