// Package clients is the measured client matrix: which Kafka client can do
// what a delivery guarantee needs, and what it does when left at its
// defaults. Nothing in matrix.json is typed by hand: TestClientMatrix runs a
// probe per cell, each running that client against a broker and recording
// what it observed, and compares with the committed file (-update rewrites
// it). The /clients page renders the file.
package clients

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

//go:embed matrix.json
var matrixJSON []byte

// Matrix is matrix.json.
type Matrix struct {
	// Broker is the broker the committed file was measured on.
	Broker  string   `json:"broker"`
	Clients []Client `json:"clients"`
	// Cells holds one cell per row × client, in Rows × Clients order.
	Cells []Cell `json:"cells"`
}

// Client is one column: a client library, the version the probes ran and
// when they last ran.
type Client struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Language string `json:"language"`
	Version  string `json:"version"`
	// Measured is the date (YYYY-MM-DD) of the run that wrote the column.
	Measured string `json:"measured"`
	// Broker is the broker the column was measured on.
	Broker string `json:"broker"`
}

// Cell is what one probe observed.
type Cell struct {
	Row    string `json:"row"`
	Client string `json:"client"`
	// OK: for a capability row, the client did it and the outcome checked
	// out; for a default row, the default already is what the lab's strict
	// presets set. Nil where the row has no right answer (the auto-commit
	// interval).
	OK *bool `json:"ok"`
	// Value is the observed value, short.
	Value string `json:"value"`
	// Evidence is how the value was observed: the counts, the option the
	// client reported, the error it returned.
	Evidence string `json:"evidence"`
	// Link points at further evidence (an issue), when there is one.
	Link     string `json:"link,omitempty"`
	Version  string `json:"version"`
	Measured string `json:"measured"`
}

// Row kinds.
const (
	Capability = "capability" // the probe does the thing and checks the outcome
	Default    = "default"    // the probe asks the running client for its default
)

// Row is one row of the matrix.
type Row struct {
	ID   string
	Kind string
}

// Rows lists the matrix's rows in page order. Their labels are the text
// keys "clients.row.<id>".
var Rows = []Row{
	{"idempotent-producer", Capability},
	{"transactional-producer", Capability},
	{"read-committed", Capability},
	{"txn-offset-commit", Capability},
	{"kip-848", Capability},
	{"acks", Default},
	{"retries", Default},
	{"idempotence", Default},
	{"auto-commit", Default},
	{"auto-commit-interval", Default},
	{"isolation-level", Default},
}

// ClientIDs lists the columns in page order.
var ClientIDs = []string{"kafka-go", "franz-go", "kafka-python", "confluent-kafka", "java"}

// Load parses the committed matrix.json.
func Load() (*Matrix, error) { return Parse(matrixJSON) }

// Parse parses a matrix and checks it is complete: every client of
// ClientIDs, and one cell for every row × client.
func Parse(b []byte) (*Matrix, error) {
	var m Matrix
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("clients: matrix.json: %w", err)
	}
	if len(m.Clients) != len(ClientIDs) {
		return nil, fmt.Errorf("clients: matrix.json has %d clients, want %d", len(m.Clients), len(ClientIDs))
	}
	for i, c := range m.Clients {
		if c.ID != ClientIDs[i] {
			return nil, fmt.Errorf("clients: matrix.json client %d is %q, want %q", i, c.ID, ClientIDs[i])
		}
	}
	for _, r := range Rows {
		for _, c := range ClientIDs {
			if m.Cell(r.ID, c) == nil {
				return nil, fmt.Errorf("clients: matrix.json has no cell %s × %s", r.ID, c)
			}
		}
	}
	return &m, nil
}

// Cell returns the cell of row × client, or nil.
func (m *Matrix) Cell(row, client string) *Cell {
	for i := range m.Cells {
		if m.Cells[i].Row == row && m.Cells[i].Client == client {
			return &m.Cells[i]
		}
	}
	return nil
}

// Mark is the cell's sign: ✓, ✗, or – where the row has no right answer.
func (c *Cell) Mark() string {
	switch {
	case c.OK == nil:
		return "–"
	case *c.OK:
		return "✓"
	default:
		return "✗"
	}
}
