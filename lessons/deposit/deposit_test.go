package deposit

import (
	"encoding/json"
	"testing"
)

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

// Accounts are round-robin, and each account's deposits share one
// partition whatever the partition count: the per-account order the
// at-least-once lesson's reordered count relies on.
func TestAccountsAndPartitions(t *testing.T) {
	if Account(1) != "acct-01" || Account(12) != "acct-12" || Account(13) != "acct-01" {
		t.Fatalf("accounts: %s %s %s, want acct-01 acct-12 acct-01", Account(1), Account(12), Account(13))
	}
	for n := 1; n <= Accounts; n++ {
		used := map[int]bool{}
		for seq := 1; seq <= 3*Accounts; seq++ {
			p := Partition(seq, n)
			if p < 0 || p >= n {
				t.Fatalf("Partition(%d, %d) = %d, out of range", seq, n, p)
			}
			if q := Partition(seq+Accounts, n); q != p {
				t.Fatalf("account %s on partitions %d and %d of %d", Account(seq), p, q, n)
			}
			used[p] = true
		}
		if len(used) != n {
			t.Fatalf("%d partitions: only %d get deposits", n, len(used))
		}
	}
	d := Deposit{ID: ID(7), Amount: Amount, Run: "r-x", Account: Account(7)}
	if string(d.Encode()) != `{"id":"d-000007","amount":1,"run":"r-x","account":"acct-07"}` {
		t.Fatalf("deposit wire format: %s", d.Encode())
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

// FuzzCodec: the hand-written encoders write exactly what encoding/json
// writes, and the decoders' fast paths agree with encoding/json on every
// input, canonical or not.
func FuzzCodec(f *testing.F) {
	f.Add("d-000001", int64(1), "r-x", []byte(`{"deposit":"d-000001","amount":1,"processor":"p-1"}`))
	f.Add("<script>", int64(-7), "é\"\\", []byte(`{"id":"d-1","amount":01,"run":"x"}`))
	f.Add("", int64(0), "", []byte(`{"id":"a\u0041","amount":-0,"run":""}`))
	f.Add("d", int64(999999999999999999), "r", []byte(`{"deposit":"x","amount":1e3,"processor":"p"} `))
	f.Add("d", int64(-9223372036854775808), "r", []byte(`{"DEPOSIT":"x","amount":1,"processor":"p"}`))
	f.Fuzz(func(t *testing.T, a string, n int64, b string, raw []byte) {
		d := Deposit{ID: a, Amount: n, Run: b, Account: a}
		if want, _ := json.Marshal(d); string(d.Encode()) != string(want) {
			t.Fatalf("Deposit.Encode = %s, encoding/json %s", d.Encode(), want)
		}
		c := Credit{Deposit: a, Amount: n, Processor: b}
		if want, _ := json.Marshal(c); string(c.Encode()) != string(want) {
			t.Fatalf("Credit.Encode = %s, encoding/json %s", c.Encode(), want)
		}
		for _, in := range [][]byte{raw, d.Encode(), c.Encode()} {
			var wantD Deposit
			errD := json.Unmarshal(in, &wantD)
			gotD, err := DecodeDeposit(in)
			if (err == nil) != (errD == nil) || (err == nil && gotD != wantD) {
				t.Fatalf("DecodeDeposit(%q) = %+v, %v; encoding/json %+v, %v", in, gotD, err, wantD, errD)
			}
			var wantC Credit
			errC := json.Unmarshal(in, &wantC)
			gotC, err := DecodeCredit(in)
			if (err == nil) != (errC == nil) || (err == nil && gotC != wantC) {
				t.Fatalf("DecodeCredit(%q) = %+v, %v; encoding/json %+v, %v", in, gotC, err, wantC, errC)
			}
		}
	})
}

func BenchmarkCodec(b *testing.B) {
	c := Credit{Deposit: ID(123456), Amount: Amount, Processor: "p-1"}
	v := c.Encode()
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.Encode()
		}
	})
	b.Run("encode-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			mustJSON(c)
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeCredit(v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var c Credit
			if err := json.Unmarshal(v, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// DecodeDeposit parses an input-topic record value.
func DecodeDeposit(b []byte) (Deposit, error) {
	var d Deposit
	if (reader{b}).lit(`{"id":`).str(&d.ID).lit(`,"amount":`).int(&d.Amount).lit(`,"run":`).str(&d.Run).lit(`}`).done() {
		return d, nil
	}
	d = Deposit{}
	err := json.Unmarshal(b, &d)
	return d, err
}
