package deposit

import "testing"

func TestIDRoundTrip(t *testing.T) {
	for _, seq := range []int{1, 42, 999999, 1000000} {
		got, ok := ParseID(ID(seq))
		if !ok || got != seq {
			t.Errorf("ParseID(ID(%d)) = %d, %v", seq, got, ok)
		}
	}
	for _, bad := range []string{"", "d-", "d-1", "d-00000a", "x-000001", "d-000000", "d-0000001", "d--00001", "d-+00001"} {
		if n, ok := ParseID(bad); ok {
			t.Errorf("ParseID(%q) = %d, want not ok", bad, n)
		}
	}
}

func TestRecordsRoundTrip(t *testing.T) {
	d := Deposit{ID: ID(7), Amount: Amount, Run: "r-x"}
	if got, err := DecodeDeposit(d.Encode()); err != nil || got != d {
		t.Fatalf("deposit round trip: %+v, %v", got, err)
	}
	if string(d.Encode()) != `{"id":"d-000007","amount":1,"run":"r-x"}` {
		t.Fatalf("deposit wire format changed: %s", d.Encode())
	}
	c := Credit{Deposit: ID(7), Amount: Amount, Processor: "p-1"}
	if got, err := DecodeCredit(c.Encode()); err != nil || got != c {
		t.Fatalf("credit round trip: %+v, %v", got, err)
	}
}

func TestIDMatchesItsFormat(t *testing.T) {
	for _, tc := range []struct {
		seq  int
		want string
	}{{1, "d-000001"}, {42, "d-000042"}, {999999, "d-999999"}, {1000000, "d-1000000"}, {123456789, "d-123456789"}} {
		if got := ID(tc.seq); got != tc.want {
			t.Errorf("ID(%d) = %q, want %q", tc.seq, got, tc.want)
		}
	}
}
