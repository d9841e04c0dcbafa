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

// Deposit is the value of a record on a run's input topic; the key is ID.
type Deposit struct {
	ID     string `json:"id"`
	Amount int64  `json:"amount"`
	Run    string `json:"run"`
}

// Credit is the value of a record on a run's ledger topic; the key is the
// deposit id. One record per credit, so a deposit credited twice is two
// records with the same key.
type Credit struct {
	Deposit   string `json:"deposit"`
	Amount    int64  `json:"amount"`
	Processor string `json:"processor"`
}

// Encode returns the JSON value of d.
func (d Deposit) Encode() []byte { return mustJSON(d) }

// Encode returns the JSON value of c.
func (c Credit) Encode() []byte { return mustJSON(c) }

// DecodeDeposit parses an input-topic record value.
func DecodeDeposit(b []byte) (Deposit, error) {
	var d Deposit
	err := json.Unmarshal(b, &d)
	return d, err
}

// DecodeCredit parses a ledger-topic record value.
func DecodeCredit(b []byte) (Credit, error) {
	var c Credit
	err := json.Unmarshal(b, &c)
	return c, err
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only strings and integers: cannot fail
	}
	return b
}
