package checker

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/kafka-delivery-lab/lab/lessons/deposit"
)

var (
	atMostOnce  = Claim{NoDuplicates: true}
	atLeastOnce = Claim{NoLoss: true}
	exactlyOnce = Claim{NoLoss: true, NoDuplicates: true}
)

// history builds a checker from a compact story: outcomes[i] is deposit i+1's
// send outcome, credits lists ledger keys in the order they were read.
func history(outcomes []Outcome, credits ...string) *Checker {
	c := New(len(outcomes))
	for i, o := range outcomes {
		c.Sent(i+1, o)
	}
	for _, id := range credits {
		c.Credit(id, deposit.Amount)
	}
	return c
}

func acked(n int) []Outcome {
	o := make([]Outcome, n)
	for i := range o {
		o[i] = Acked
	}
	return o
}

func TestEmptyRun(t *testing.T) {
	r := New(0).Result(exactlyOnce)
	if r.Sent != 0 || r.Credited != 0 || r.Lost != 0 || r.Balance != 0 || r.ExpectedBalance != 0 || r.Verdict != Held {
		t.Fatalf("empty run: %+v", r)
	}
	if r.LostIDs == nil || r.DuplicatedIDs == nil || r.RecoveredIDs == nil || r.UnexpectedIDs == nil {
		t.Fatal("id lists must be empty, not null, in JSON")
	}
}

func TestEverythingLost(t *testing.T) {
	r := history(acked(3)).Result(atLeastOnce)
	want := []string{"d-000001", "d-000002", "d-000003"}
	if r.Lost != 3 || r.LostAcked != 3 || !reflect.DeepEqual(r.LostIDs, want) || r.Balance != 0 || r.ExpectedBalance != 3 {
		t.Fatalf("all lost: %+v", r)
	}
	if r.Verdict != Violated {
		t.Fatal("at-least-once with losses must be violated")
	}
	if got := history(acked(3)).Result(atMostOnce).Verdict; got != Held {
		t.Fatalf("at-most-once allows loss, got %s", got)
	}
	if !reflect.DeepEqual(r.CreditsHistogram, map[string]int{"0": 3}) {
		t.Fatalf("histogram %v", r.CreditsHistogram)
	}
}

func TestDuplicatesAndRecovered(t *testing.T) {
	// d-1 acked, credited twice; d-2 failed (ack lost) yet credited once;
	// d-3 failed and never credited.
	c := history([]Outcome{Acked, Failed, Failed}, "d-000001", "d-000002", "d-000001")
	r := c.Result(atMostOnce)
	if r.Duplicated != 1 || r.DuplicatedIDs[0] != "d-000001" || r.Verdict != Violated {
		t.Fatalf("duplicate: %+v", r)
	}
	if r.Recovered != 1 || r.RecoveredIDs[0] != "d-000002" {
		t.Fatalf("recovered: %+v", r)
	}
	if r.Lost != 1 || r.LostAcked != 0 || r.LostIDs[0] != "d-000003" {
		t.Fatalf("a failed send never credited is lost, but not lost-after-ack: %+v", r)
	}
	if r.Acked != 1 || r.Failed != 2 || r.Sent != 3 || r.Credited != 3 || r.UniqueCredited != 2 || r.Balance != 3 {
		t.Fatalf("counts: %+v", r)
	}
	if !reflect.DeepEqual(r.CreditsHistogram, map[string]int{"0": 1, "1": 1, "2": 1}) {
		t.Fatalf("histogram %v", r.CreditsHistogram)
	}
}

func TestCreditsOfUnknownIDsAreUnexpected(t *testing.T) {
	outcomes := []Outcome{Acked, Unsent}
	c := history(outcomes, "d-000001", "d-000002", "d-000009", "garbage", "<script>")
	r := c.Result(atMostOnce)
	want := []string{"d-000009", "garbage", "<script>", "d-000002"}
	if r.Unexpected != 4 || !reflect.DeepEqual(r.UnexpectedIDs, want) {
		t.Fatalf("unexpected: %d %v", r.Unexpected, r.UnexpectedIDs)
	}
	if r.Verdict != Violated {
		t.Fatal("an unexpected credit always violates")
	}
	if r.Sent != 1 || r.Lost != 0 || r.Balance != 5 {
		t.Fatalf("counts: %+v", r)
	}
	if again := c.Result(atMostOnce); again.Unexpected != 4 {
		t.Fatalf("Result must be repeatable, second call saw %d unexpected", again.Unexpected)
	}
}

func TestCreditArrivingLate(t *testing.T) {
	// The ledger may be read before the producer records its belief about a
	// send: order must not matter.
	c := New(2)
	c.Credit("d-000002", 1)
	c.Sent(1, Acked)
	c.Sent(2, Failed)
	if r := c.Result(exactlyOnce); r.Unexpected != 0 || r.Recovered != 1 || r.Lost != 1 {
		t.Fatalf("credit before send record: %+v", r)
	}
	// A deposit judged before its credit was read is lost; reading to the end
	// of the ledger is what makes the verdict honest.
	c.Credit("d-000001", 1)
	if r := c.Result(exactlyOnce); r.Lost != 0 || r.Verdict != Held {
		t.Fatalf("after the late credit: %+v", r)
	}
}

func TestIDsCappedCountsExact(t *testing.T) {
	n := MaxIDs + 500
	var credits []string
	for i := 1; i <= n; i++ {
		credits = append(credits, deposit.ID(i), deposit.ID(i))
	}
	for i := 0; i < MaxIDs+3; i++ {
		credits = append(credits, fmt.Sprintf("x-%d", i))
	}
	r := history(acked(n+10), credits...).Result(exactlyOnce)
	if r.Duplicated != n || len(r.DuplicatedIDs) != MaxIDs || !r.DuplicatedIDsTruncated {
		t.Fatalf("duplicated %d, %d ids, truncated %v", r.Duplicated, len(r.DuplicatedIDs), r.DuplicatedIDsTruncated)
	}
	if r.Unexpected != MaxIDs+3 || len(r.UnexpectedIDs) != MaxIDs || !r.UnexpectedIDsTruncated {
		t.Fatalf("unexpected %d, %d ids", r.Unexpected, len(r.UnexpectedIDs))
	}
	if r.Lost != 10 || r.LostIDsTruncated {
		t.Fatalf("lost %d truncated %v", r.Lost, r.LostIDsTruncated)
	}
}

func TestVerdictPerClaim(t *testing.T) {
	dup := history(acked(1), "d-000001", "d-000001")
	lost := history(acked(1))
	for _, tc := range []struct {
		c     *Checker
		claim Claim
		want  Verdict
	}{
		{dup, atMostOnce, Violated},
		{dup, atLeastOnce, Held},
		{dup, exactlyOnce, Violated},
		{lost, atMostOnce, Held},
		{lost, atLeastOnce, Violated},
		{lost, exactlyOnce, Violated},
	} {
		if got := tc.c.Result(tc.claim).Verdict; got != tc.want {
			t.Errorf("%+v: got %s, want %s", tc.claim, got, tc.want)
		}
	}
}

func BenchmarkMillionDeposits(b *testing.B) {
	ids := make([]string, 1_000_000)
	for i := range ids {
		ids[i] = deposit.ID(i + 1)
	}
	b.ReportAllocs()
	for b.Loop() {
		c := New(len(ids))
		for i, id := range ids {
			c.Sent(i+1, Acked)
			c.Credit(id, 1)
		}
		if r := c.Result(exactlyOnce); r.Verdict != Held {
			b.Fatal(r.Verdict)
		}
	}
}

// Reordered counts first credits that come after a later deposit of the
// same account: d-13 is acct-01's second deposit, d-1 its first.
func TestReorderedPerAccount(t *testing.T) {
	id := deposit.ID
	// Across accounts there is no order: d-2 before d-1 is not reordered.
	r := history(acked(26), id(2), id(1), id(13), id(14), id(25), id(26)).Result(atLeastOnce)
	if r.Reordered != 0 {
		t.Fatalf("in order per account: reordered %d (%v), want 0", r.Reordered, r.ReorderedIDs)
	}
	// d-13 credited before d-1 (both acct-01): d-1 is reordered. d-1's
	// second credit and d-25's repeat do not count again.
	r = history(acked(26), id(13), id(1), id(25), id(1), id(13)).Result(atLeastOnce)
	if r.Reordered != 1 || !reflect.DeepEqual(r.ReorderedIDs, []string{id(1)}) {
		t.Fatalf("reordered %d %v, want 1 [%s]", r.Reordered, r.ReorderedIDs, id(1))
	}
	if r.Verdict != Violated { // d-2..d-12, d-14.. lost under at-least-once
		t.Fatalf("verdict %s", r.Verdict)
	}
}
