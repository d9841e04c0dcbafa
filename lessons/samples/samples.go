// Package samples holds every code sample shown on a lesson page as a real
// file: the Python (kafka-python 3) and Go (kafka-go, franz-go) producers and
// processors of each delivery guarantee, and, in seed/ (and
// exactly-once/producer_seed.py), the seed material's commonly copied
// kafka-python snippets that the lessons' "mistakes" sections correct. The files are embedded so the pages
// can show them verbatim, and samples_test.go runs each one against a broker,
// so what a learner copies is what CI ran.
package samples

import (
	"embed"
	"strings"
)

// Files holds the sample files, by path relative to this directory, e.g.
// "exactly-once/producer.py" or "at-least-once/consumer/main.go".
//
//go:embed at-most-once/*.py at-least-once/*.py exactly-once/*.py seed/*.py
//go:embed at-most-once/producer/main.go at-most-once/consumer/main.go
//go:embed at-least-once/producer/main.go at-least-once/consumer/main.go
//go:embed exactly-once/producer/main.go exactly-once/consumer/main.go
var Files embed.FS

// Read returns the text of the sample at path, relative to this directory
// ("at-most-once/producer.py") or to the repository root
// ("lessons/samples/at-most-once/producer.py").
func Read(path string) (string, error) {
	b, err := Files.ReadFile(strings.TrimPrefix(path, "lessons/samples/"))
	return string(b), err
}
