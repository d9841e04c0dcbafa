package main

import (
	"github.com/kafka-delivery-lab/lab/lessons/content"
	"github.com/kafka-delivery-lab/lab/views"
)

// sections hands a lesson's prose to the views, which know nothing of the
// content package.
func sections(l *content.Lesson) []views.Section {
	out := make([]views.Section, len(l.Sections))
	for i, s := range l.Sections {
		out[i] = views.Section{ID: s.ID, Title: s.Title, HTML: s.HTML}
	}
	return out
}
