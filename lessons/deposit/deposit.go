// Package deposit defines the records that flow through a run's pipeline and
// their wire format, so that any Kafka client can audit a run (API.md,
// "Records on the run's topics").
package deposit

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Amount is what every deposit credits; the expected balance of a run of N
// deposits is therefore N.
const Amount = 1

// ID returns the deposit id of the seq-th deposit (1-based): d-000042.
// It is on every deposit's hot path (record key, trace events), hence no fmt.
func ID(seq int) string {
	var buf [20]byte
	digits := strconv.AppendInt(buf[:0], int64(seq), 10)
	if len(digits) >= 6 {
		return "d-" + string(digits)
	}
	return "d-" + "000000"[len(digits):] + string(digits)
}

// ParseID returns the sequence number of a deposit id, or false if id is not
// of the form ID produces.
func ParseID(id string) (int, bool) {
	digits, ok := strings.CutPrefix(id, "d-")
	if !ok || len(digits) < 6 || len(digits) > 9 {
		return 0, false
	}
	// Exactly the canonical form: ASCII digits only, zero-padded to six and
	// no leading zero beyond that, so every deposit has one id.
	if len(digits) > 6 && digits[0] == '0' {
		return 0, false
	}
	n := 0
	for i := 0; i < len(digits); i++ {
		d := digits[i]
		if d < '0' || d > '9' {
			return 0, false
		}
		n = n*10 + int(d-'0')
	}
	return n, n > 0
}

// Accounts is how many accounts a run's deposits go to, round-robin:
// deposit seq goes to account (seq-1) mod Accounts. Twelve, the most
// partitions a run may have, so that every partition gets deposits.
const Accounts = 12

// Account returns the account of the seq-th deposit: acct-01 … acct-12.
func Account(seq int) string {
	i := AccountIndex(seq) + 1
	return "acct-" + string(rune('0'+i/10)) + string(rune('0'+i%10))
}

// AccountIndex returns the 0-based index of the seq-th deposit's account.
func AccountIndex(seq int) int { return (seq - 1) % Accounts }

// Partition returns the partition, of a topic with n partitions, that
// holds the records of deposit seq: its account's index mod n, on the input
// topic and the ledger alike, whichever client writes them. So all of an
// account's deposits share one partition, and the broker keeps them in
// the order they were written; across partitions there is no order. The
// record key stays the deposit id (the fault injector, the checker and
// any auditor read it); the account decides the partition, as a key
// would.
func Partition(seq, n int) int {
	if n <= 1 || seq < 1 {
		return 0
	}
	return AccountIndex(seq) % n
}

// Deposit is the value of a record on a run's input topic; the key is ID.
// Account is omitted when empty, as in runs from before accounts.
type Deposit struct {
	ID      string `json:"id"`
	Amount  int64  `json:"amount"`
	Run     string `json:"run"`
	Account string `json:"account,omitempty"`
}

// Credit is the value of a record on a run's ledger topic; the key is the
// deposit id. One record per credit, so a deposit credited twice is two
// records with the same key.
type Credit struct {
	Deposit   string `json:"deposit"`
	Amount    int64  `json:"amount"`
	Processor string `json:"processor"`
}

// Every record of a run goes through these once or twice (a 100,000-deposit
// run encodes 200,000 values and the auditor decodes 100,000), so the
// common form is written and read by hand, byte for byte what encoding/json
// writes; anything else goes through encoding/json. FuzzCodec holds the two
// to the same results.

// Encode returns the JSON value of d.
func (d Deposit) Encode() []byte {
	if !plain(d.ID) || !plain(d.Run) || !plain(d.Account) {
		return mustJSON(d)
	}
	b := make([]byte, 0, len(`{"id":"","amount":,"run":"","account":""}`)+len(d.ID)+len(d.Run)+len(d.Account)+20)
	b = append(append(append(b, `{"id":"`...), d.ID...), `","amount":`...)
	b = strconv.AppendInt(b, d.Amount, 10)
	b = append(append(b, `,"run":"`...), d.Run...)
	if d.Account != "" {
		b = append(append(b, `","account":"`...), d.Account...)
	}
	return append(b, `"}`...)
}

// Encode returns the JSON value of c.
func (c Credit) Encode() []byte {
	if !plain(c.Deposit) || !plain(c.Processor) {
		return mustJSON(c)
	}
	b := make([]byte, 0, len(`{"deposit":"","amount":,"processor":""}`)+len(c.Deposit)+len(c.Processor)+20)
	b = append(append(append(b, `{"deposit":"`...), c.Deposit...), `","amount":`...)
	b = strconv.AppendInt(b, c.Amount, 10)
	return append(append(append(b, `,"processor":"`...), c.Processor...), `"}`...)
}

// DecodeCredit parses a ledger-topic record value.
func DecodeCredit(b []byte) (Credit, error) {
	var c Credit
	if (reader{b}).lit(`{"deposit":`).str(&c.Deposit).lit(`,"amount":`).int(&c.Amount).lit(`,"processor":`).str(&c.Processor).lit(`}`).done() {
		return c, nil
	}
	c = Credit{}
	err := json.Unmarshal(b, &c)
	return c, err
}

// plain reports whether encoding/json writes s as it is between quotes:
// printable ASCII without the characters it escapes.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// reader matches the canonical form piece by piece; a nil rest means no
// match, and every later piece then fails too.
type reader struct{ rest []byte }

func (r reader) lit(s string) reader {
	if r.rest == nil || len(r.rest) < len(s) || string(r.rest[:len(s)]) != s {
		return reader{}
	}
	return reader{r.rest[len(s):]}
}

// str reads a quoted plain string.
func (r reader) str(dst *string) reader {
	if len(r.rest) == 0 || r.rest[0] != '"' {
		return reader{}
	}
	for i := 1; i < len(r.rest); i++ {
		switch c := r.rest[i]; {
		case c == '"':
			*dst = string(r.rest[1:i])
			return reader{r.rest[i+1:]}
		case c < 0x20 || c > 0x7e || c == '\\':
			return reader{} // escapes and non-ASCII: encoding/json's job
		}
	}
	return reader{}
}

// int reads an integer as JSON writes it: no leading zeros, no plus, at
// most 18 digits so it cannot overflow.
func (r reader) int(dst *int64) reader {
	b := r.rest
	if len(b) == 0 {
		return reader{}
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	if n == 0 || n > 18 || (b[0] == '0' && n > 1) {
		return reader{}
	}
	v := int64(0)
	for _, c := range b[:n] {
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	*dst = v
	return reader{b[n:]}
}

// done reports whether the value was matched to its last byte.
func (r reader) done() bool { return r.rest != nil && len(r.rest) == 0 }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only strings and integers: cannot fail
	}
	return b
}
