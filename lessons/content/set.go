package content

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/kafka-delivery-lab/lab/lessons/text"
)

// SampleSource returns the text of a sample, by its path relative to
// lessons/samples.
type SampleSource func(path string) (string, error)

// Set is every lesson of the content files, in every language, parsed and
// with its samples read and highlighted once, when the set is made. It is
// read-only after New, so callers may share it and its lessons freely.
type Set struct {
	lessons map[key]*Lesson
	errs    map[key]error // lessons whose file is malformed
	global  []error       // files that are not lessons at all
	samples []namedSample // every sample named, once each
	src     SampleSource
}

// New parses the content files and renders each lesson's samples from src.
// src may be nil: every sample then renders as a figure saying it is not
// available (the package needs no file system and does not import the
// samples package; the app passes samples.Read).
//
// The error reports content files that are not lessons (a bad name or
// language): the set cannot be trusted. A malformed lesson does not fail
// New: Load fails for that lesson alone, and Validate reports it.
func New(src SampleSource) (*Set, error) {
	return newSet(files, src)
}

func newSet(fsys fs.FS, src SampleSource) (*Set, error) {
	// Every sample is shown in each language, and some twice in one: each
	// is highlighted once.
	hl := newHighlighter()
	p := parseAll(fsys)
	s := &Set{lessons: map[key]*Lesson{}, errs: p.errs, global: p.global, src: src}
	seen := map[string]bool{}
	for _, k := range sortedKeys(p.lessons) {
		pl := p.lessons[k]
		s.lessons[k] = build(pl, src, hl)
		paths := []string{}
		for _, ref := range pl.samples {
			paths = append(paths, ref.Path)
		}
		for _, ref := range pl.compares {
			paths = append(paths, ref.Old, ref.New)
		}
		for _, p := range paths {
			if !seen[p] {
				seen[p] = true
				s.samples = append(s.samples, namedSample{file: k.String(), path: p})
			}
		}
	}
	return s, errors.Join(p.global...)
}

// Load returns lesson id in language l. It is cheap: lessons are rendered
// once, by New.
func (s *Set) Load(id string, l text.Lang) (*Lesson, error) {
	k := key{id, l}
	if err, ok := s.errs[k]; ok {
		return nil, err
	}
	if les, ok := s.lessons[k]; ok {
		return les, nil
	}
	return nil, fmt.Errorf("content: there is no lesson %q in language %q", id, l)
}

// IDs lists the ids of the lessons present in any language, sorted.
func (s *Set) IDs() []string {
	seen := map[string]bool{}
	for k := range s.lessons {
		seen[k.id] = true
	}
	for k := range s.errs {
		seen[k.id] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

// Validate returns every problem found in the content files, or nil. The
// app may call it at start to refuse to serve broken lessons.
func (s *Set) Validate() error {
	errs := slices.Clone(s.global)
	for _, k := range sortedKeys(s.errs) {
		errs = append(errs, s.errs[k])
	}
	return errors.Join(errs...)
}

// CheckSamples reads every sample the lessons name through the set's
// source and returns what could not be read, or nil.
func (s *Set) CheckSamples() error {
	if s.src == nil {
		return errors.New("content: no sample source (New was given nil)")
	}
	var errs []error
	for _, ref := range s.samples {
		if _, err := s.src(ref.path); err != nil {
			errs = append(errs, fmt.Errorf("%s: sample %s: %w", ref.file, ref.path, err))
		}
	}
	return errors.Join(errs...)
}

// namedSample is a sample and the first lesson file that names it.
type namedSample struct{ file, path string }

// parsedSet is what the content files parse into, before samples are read.
type parsedSet struct {
	lessons map[key]*parsedLesson
	errs    map[key]error
	global  []error
}

func parseAll(fsys fs.FS) parsedSet {
	set := parsedSet{lessons: map[key]*parsedLesson{}, errs: map[key]error{}}
	names, err := fs.Glob(fsys, "*.md")
	if err != nil {
		set.global = append(set.global, err)
		return set
	}
	for _, name := range names {
		base := strings.TrimSuffix(name, ".md")
		dot := strings.LastIndexByte(base, '.')
		if dot < 0 {
			set.global = append(set.global, fmt.Errorf("content: %s: name it <lesson>.<lang>.md", name))
			continue
		}
		lang, ok := text.Parse(base[dot+1:])
		if !ok || string(lang) != base[dot+1:] {
			set.global = append(set.global, fmt.Errorf("content: %s: %q is not a supported language", name, base[dot+1:]))
			continue
		}
		k := key{base[:dot], lang}
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			set.errs[k] = fmt.Errorf("content: %s: %w", name, err)
			continue
		}
		les, err := parseLesson(k.id, lang, src)
		if err != nil {
			set.errs[k] = fmt.Errorf("content: %s: %w", name, err)
			continue
		}
		set.lessons[k] = les
	}
	return set
}

// build makes the lesson pages show: the parsed lesson, with each sample
// read from src and highlighted. A sample that cannot be read or
// highlighted keeps the reason in its Err, so that it renders as a figure
// saying so, never as a broken page. p is left as it is.
func build(p *parsedLesson, src SampleSource, hl *highlighter) *Lesson {
	les := &Lesson{
		ID: p.id, Lang: p.lang, Title: p.title, Summary: p.summary,
		Scenarios: slices.Clone(p.scenarios),
		Samples:   slices.Clone(p.samples),
		Compares:  slices.Clone(p.compares),
	}
	for _, ps := range p.sections {
		sec := Section{ID: ps.id, Title: ps.title, Blocks: make([]Block, len(ps.blocks))}
		for i, b := range ps.blocks {
			if b.Sample != nil {
				sample := readSample(*b.Sample, src, hl)
				b.Sample = &sample
			}
			if b.Compare != nil {
				c := readCompare(*b.Compare, src, hl)
				b.Compare = &c
			}
			sec.Blocks[i] = b
		}
		les.Sections = append(les.Sections, sec)
	}
	return les
}

// readSample fills in s's highlighted code, or the reason there is none.
func readSample(s Sample, src SampleSource, hl *highlighter) Sample {
	code, err := "", errNoSource
	if src != nil {
		code, err = src(s.Path)
	}
	if err == nil {
		s.Code, err = hl.sample(code, s.Language)
	}
	if err != nil {
		s.Code, s.Err = "", err.Error()
	}
	return s
}

var errNoSource = errors.New("no sample source has been set")

func errNoHighlighter(language string) error { return fmt.Errorf("no highlighter for %s", language) }

func sortedKeys[V any](m map[key]V) []key {
	ks := make([]key, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].String() < ks[j].String() })
	return ks
}
