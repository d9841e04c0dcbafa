// Package content holds the lessons' prose, in Korean and English, as
// Markdown files next to this one (<id>.<lang>.md), and turns them into
// what the pages show.
//
// A lesson file is a "# Title", a one-paragraph summary, then "## Title {#id}"
// sections. Two directives, each on a line of its own at the top level of a
// section, connect the prose to the lab:
//
//	::run guarantee=at-least-once preset=strict fault=produce-ack-lost messages=20 pace=150 label="Lose an ack"
//	::sample at-least-once/producer.py
//
// ::run becomes a button that starts that scenario; ::sample embeds a file
// of lessons/samples, highlighted. Two more directives shape the page:
//
//	::notes What each setting does
//	- `acks=1`: …
//	::end
//
// puts the Markdown between the two lines in a note that opens on demand
// (the views draw a <details> whose <summary> is the text after ::notes);
// notes do not nest and hold no other directive. And
//
//	::compare seed/at-most-once_consumer.py at-most-once/consumer.py
//
// shows two samples side by side, the commonly copied one first, with the
// lines that differ marked (diff.go). Inline, {{outcome guarantee preset
// fault}} binds the sentence it is in to a row of the claim table and
// renders that row; a sentence that states a run's outcome without one
// fails to load (outcome.go). A section's body is a list of blocks:
// prose (HTML from the Markdown), a run, a sample, notes or a comparison;
// the views render all but the prose. New parses and checks the files once: a malformed file
// (an unknown fault, a section without an id, raw attributes) makes Load
// fail for that lesson and Validate report it. What a lesson must contain
// (its sections, its runs, its samples, the same in both languages) is
// checked by the content test.
//
// The files are parse.go (Markdown and directives), outcome.go (outcome
// sentences), set.go (the lesson set: New, Load, Validate) and
// highlight.go (the samples' colours).
package content

import (
	"embed"
	"slices"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/text"
)

//go:embed *.md
var files embed.FS

// RequiredSections are the section ids every guarantee lesson has, in this
// order.
var RequiredSections = []string{"idea", "try", "producer", "consumer", "pros", "cons", "fits", "mistakes", "clients"}

// Lesson is one page's prose in one language. Lessons are shared between
// callers: treat them as read-only.
type Lesson struct {
	ID        string // "at-most-once", "at-least-once", "exactly-once", "home", "compare"
	Lang      text.Lang
	Title     string // plain text
	Summary   string // plain text: the paragraph under the title
	Sections  []Section
	Scenarios []Scenario   // every ::run, in order
	Samples   []SampleRef  // every ::sample, in order
	Compares  []CompareRef // every ::compare, in order
}

// Section is one "## Title {#id}" of a lesson: its blocks, in order, the
// first of which is prose that starts with the section's <h2 id="…">
// heading.
type Section struct {
	ID     string
	Title  string // plain text
	Blocks []Block
}

// Block is one piece of a section's body: exactly one of its fields is
// set.
type Block struct {
	// HTML is prose rendered from the Markdown, safe to place in a page as
	// is: raw HTML in the files is dropped and javascript: links are not
	// links.
	HTML     string
	Scenario *Scenario // a ::run: a button that starts it
	Sample   *Sample   // a ::sample: the file, highlighted
	Notes    *Notes    // a ::notes … ::end: Markdown shown on demand
	Compare  *Compare  // a ::compare: two samples, the differences marked
}

// Notes is a ::notes block: its summary, always shown, and its body, shown
// when the reader opens it.
type Notes struct {
	Summary string // plain text: the text after ::notes
	HTML    string // the Markdown between ::notes and ::end, rendered as the prose is
}

// CompareRef is a pair of samples a lesson compares: Old, the commonly
// copied code, and New, the corrected sample. Both are in one language.
type CompareRef struct {
	Old, New string // paths relative to lessons/samples
	Language string // "go" or "python"
	Section  string // the id of the section it is in
}

// Compare is a comparison as a page shows it: both files, line by line,
// each line marked as in both, only in Old or only in New.
type Compare struct {
	CompareRef
	OldLines, NewLines []DiffLine
	// Err says why the comparison cannot be shown (a file that cannot be
	// read or highlighted); the lines are then empty.
	Err string
}

// DiffLine is one line of a compared file.
type DiffLine struct {
	Code string // the line as HTML spans with chroma's classes, no newline
	Op   DiffOp
	// Folded counts the unchanged lines of the corrected sample a Folded
	// line stands for.
	Folded int
}

// DiffOp says where a line of a comparison is found.
type DiffOp string

const (
	Same    DiffOp = "same"    // in both files (or only a comment or blank: not a difference)
	Removed DiffOp = "removed" // only in Old, the common code
	Added   DiffOp = "added"   // only in New, the corrected code
	// Fold stands for a run of unchanged lines of the corrected sample far
	// from any change: the lesson shows that sample whole elsewhere.
	Fold DiffOp = "fold"
)

// Scenario is a run a lesson offers: the parameters of POST /api/runs.
type Scenario struct {
	Guarantee lessons.GuaranteeID
	Preset    lessons.PresetID
	Fault     lessons.FaultID
	Messages  int
	PaceMs    int
	Notify    lessons.NotifyID // the notification sink: plain or idempotent
	// Partitions and Processors are the run's shape: one of each unless
	// the scenario is about partitions (lessons.ClaimShape).
	Partitions int
	Processors int
	Label      string // in the lesson's language
	Section    string // the id of the section it is in
	// Expect is what the run shows: its row of the claim table, which an
	// expect="lost=… duplicated=…" on the directive may restate but never
	// contradict.
	Expect lessons.Claim
}

// SampleRef is a code sample a lesson shows.
type SampleRef struct {
	Path     string // relative to lessons/samples
	Language string // "go" or "python"
	Section  string // the id of the section it is in
}

// Sample is a code sample as a page shows it.
type Sample struct {
	SampleRef
	Anchor string // the id of its <pre>, unique in its lesson
	// Code is the file as HTML spans with chroma's classes (HighlightCSS),
	// or "" when Err says why the file cannot be shown.
	Code string
	Err  string
}

// Section returns the section with the given id.
func (l *Lesson) Section(id string) (Section, bool) {
	i := slices.IndexFunc(l.Sections, func(s Section) bool { return s.ID == id })
	if i < 0 {
		return Section{}, false
	}
	return l.Sections[i], true
}
