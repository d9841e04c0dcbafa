// Package checker judges a run from the outside, the way Jepsen's queue
// checker does: from what the producer sent (and what it believed about each
// send) and everything the ledger holds, never from the pipeline's own
// counters. It classifies every deposit and gives a verdict for a claim.
package checker

import (
	"sort"
	"strconv"

	"github.com/kafka-delivery-lab/lab/lessons/deposit"
)

// MaxIDs caps each id list in a Result so a million-deposit run answers in
// bounded size; the counts are never capped.
const MaxIDs = 1000

// Outcome is what the producer believed about one deposit when it was done
// with it.
type Outcome uint8

const (
	// Unsent deposits were never handed to a Kafka client (a run stopped early).
	Unsent Outcome = iota
	// Acked deposits were acknowledged by the broker (with acks=0: handed to
	// the client, which is all such a producer ever learns).
	Acked
	// Failed deposits got an error from the client and the producer gave up on
	// them. A broken connection is indeterminate: the broker may or may not
	// have written the deposit, so a failed deposit can still be credited.
	Failed
)

// Claim is what a delivery guarantee promises about every deposit.
type Claim struct {
	NoLoss       bool `json:"no_loss"`       // credited at least once (at-least-once, exactly-once)
	NoDuplicates bool `json:"no_duplicates"` // credited at most once (at-most-once, exactly-once)
}

// Verdict is whether a run kept its guarantee's claim.
type Verdict string

const (
	Held     Verdict = "held"
	Violated Verdict = "violated"
)

// Result is the checker's account of a run (API.md, GET /api/runs/{id}).
type Result struct {
	Sent           int `json:"sent"`
	Acked          int `json:"acked"`
	Failed         int `json:"failed"`
	Credited       int `json:"credited"`
	UniqueCredited int `json:"unique_credited"`
	Lost           int `json:"lost"`
	LostAcked      int `json:"lost_acked"`
	Duplicated     int `json:"duplicated"`
	Recovered      int `json:"recovered"`
	Unexpected     int `json:"unexpected"`
	// AbortedCredits are credit records of aborted transactions: in the
	// ledger, never seen by read_committed readers, so never counted above.
	AbortedCredits int `json:"aborted_credits"`
	// Reordered counts deposits credited out of their account's send
	// order (see Checker.Credit); ReorderedIDs names them, capped.
	Reordered             int      `json:"reordered"`
	ReorderedIDs          []string `json:"reordered_ids"`
	ReorderedIDsTruncated bool     `json:"reordered_ids_truncated,omitempty"`
	Balance               int64    `json:"balance"`
	ExpectedBalance       int64    `json:"expected_balance"`

	LostIDs                []string `json:"lost_ids"`
	LostIDsTruncated       bool     `json:"lost_ids_truncated,omitempty"`
	DuplicatedIDs          []string `json:"duplicated_ids"`
	DuplicatedIDsTruncated bool     `json:"duplicated_ids_truncated,omitempty"`
	RecoveredIDs           []string `json:"recovered_ids"`
	RecoveredIDsTruncated  bool     `json:"recovered_ids_truncated,omitempty"`
	UnexpectedIDs          []string `json:"unexpected_ids"`
	UnexpectedIDsTruncated bool     `json:"unexpected_ids_truncated,omitempty"`

	// CreditsHistogram maps "credits per sent deposit" to how many deposits
	// got that many: {"0":3,"1":995,"2":2}.
	CreditsHistogram map[string]int `json:"credits_histogram"`
	Verdict          Verdict        `json:"verdict"`
}

// Checker accumulates one run's history. Memory is three bytes and a bit
// per deposit, so a 1,000,000-deposit run needs 3.1 MB. It is not safe for
// concurrent use.
type Checker struct {
	outcome    []Outcome // index seq-1
	credits    []uint16  // index seq-1, saturating
	credited   int
	balance    int64
	unexpected []string
	nUnexpect  int
	aborted    int
	// latest is, per account, the highest deposit seq credited so far;
	// reordered the deposits first credited after a higher one of theirs.
	latest    [deposit.Accounts]int
	reordered []uint64 // bit seq-1: an eighth of a byte per deposit
}

// AbortedCredits records how many credit records of aborted transactions
// the ledger holds besides those read_committed returned.
func (c *Checker) AbortedCredits(n int) { c.aborted = n }

// New returns a checker for a run of n deposits, d-000001 … ID(n).
func New(n int) *Checker {
	return &Checker{outcome: make([]Outcome, n), credits: make([]uint16, n), reordered: make([]uint64, (n+63)/64)}
}

// Sent records the producer's final belief about deposit seq (1-based).
// Out-of-range seqs are ignored: the producer only sends 1..n.
func (c *Checker) Sent(seq int, o Outcome) {
	if seq >= 1 && seq <= len(c.outcome) {
		c.outcome[seq-1] = o
	}
}

// Credit records one ledger record: the deposit id it credits and the
// amount. Call it in ledger order within each partition: every credit of
// an account is on one ledger partition (deposit.Partition), so the
// account's credits then come in the order they were written.
//
// A deposit is reordered when its first credit comes after the first
// credit of a later deposit of the same account (a higher seq, sent after
// it): the account's history was applied out of the order its deposits
// were sent. Repeat credits are not counted: a duplicate is a duplicate,
// not a reordering. The producer sends in seq order, so this counts both
// what the producer reordered (a retried batch written after the next
// one) and what the processors did.
func (c *Checker) Credit(id string, amount int64) {
	c.credited++
	c.balance += amount
	seq, ok := deposit.ParseID(id)
	if !ok || seq > len(c.outcome) {
		c.addUnexpected(id)
		return
	}
	// Counted whatever the order: a credit may be read before the producer
	// has recorded its belief about that send.
	if c.credits[seq-1] == 0 {
		a := deposit.AccountIndex(seq)
		if seq < c.latest[a] {
			c.reordered[(seq-1)/64] |= 1 << ((seq - 1) % 64)
		}
		c.latest[a] = max(c.latest[a], seq)
	}
	if c.credits[seq-1] < ^uint16(0) {
		c.credits[seq-1]++
	}
}

// addUnexpected records a credit of a deposit that was never sent: always a
// bug in the pipeline.
func (c *Checker) addUnexpected(id string) {
	c.nUnexpect++
	if len(c.unexpected) < MaxIDs {
		c.unexpected = append(c.unexpected, id)
	}
}

// Result classifies every deposit and judges the run against claim. Call it
// only after the whole ledger has been read: a deposit not yet credited
// would otherwise count as lost.
func (c *Checker) Result(claim Claim) Result {
	for i, o := range c.outcome {
		if o == Unsent {
			for range c.credits[i] {
				c.addUnexpected(deposit.ID(i + 1))
			}
			c.credits[i] = 0
		}
	}
	r := Result{
		Credited:         c.credited,
		Balance:          c.balance,
		Unexpected:       c.nUnexpect,
		AbortedCredits:   c.aborted,
		UnexpectedIDs:    append([]string{}, c.unexpected...),
		LostIDs:          []string{},
		DuplicatedIDs:    []string{},
		RecoveredIDs:     []string{},
		ReorderedIDs:     []string{},
		CreditsHistogram: map[string]int{},
	}
	for i, o := range c.outcome {
		if o != Unsent && c.reordered[i/64]&(1<<(i%64)) != 0 {
			r.Reordered++
			appendCapped(&r.ReorderedIDs, &r.ReorderedIDsTruncated, i+1)
		}
	}
	r.UnexpectedIDsTruncated = c.nUnexpect > len(c.unexpected)
	hist := map[int]int{}
	for i, o := range c.outcome {
		if o == Unsent {
			continue
		}
		id := i + 1
		n := int(c.credits[i])
		r.Sent++
		r.ExpectedBalance += deposit.Amount
		hist[n]++
		if o == Acked {
			r.Acked++
		} else {
			r.Failed++
		}
		if n > 0 {
			r.UniqueCredited++
		}
		switch {
		case n == 0:
			// Lost: the pipeline took the deposit and never credited it. That
			// includes a send the producer gave up on after an indeterminate
			// error: the customer's deposit is gone all the same.
			r.Lost++
			if o == Acked {
				r.LostAcked++
			}
			appendCapped(&r.LostIDs, &r.LostIDsTruncated, id)
		case n > 1:
			r.Duplicated++
			appendCapped(&r.DuplicatedIDs, &r.DuplicatedIDsTruncated, id)
		}
		if o == Failed && n > 0 {
			r.Recovered++
			appendCapped(&r.RecoveredIDs, &r.RecoveredIDsTruncated, id)
		}
	}
	keys := make([]int, 0, len(hist))
	for k := range hist {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		r.CreditsHistogram[strconv.Itoa(k)] = hist[k]
	}
	r.Verdict = Held
	if r.Unexpected > 0 || (claim.NoLoss && r.Lost > 0) || (claim.NoDuplicates && r.Duplicated > 0) {
		r.Verdict = Violated
	}
	return r
}

func appendCapped(ids *[]string, truncated *bool, seq int) {
	if len(*ids) < MaxIDs {
		*ids = append(*ids, deposit.ID(seq))
		return
	}
	*truncated = true
}
