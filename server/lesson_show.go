package main

import (
	"encoding/json"
	"html"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/content"
	"github.com/kafka-delivery-lab/lab/lessons/samples"
	"github.com/kafka-delivery-lab/lab/lessons/text"
	"github.com/kafka-delivery-lab/lab/views"
)

func init() {
	// Lessons show the sample files that the tests run.
	content.SetSamples(samples.Read)
}

// lessonShow answers GET /lessons/{guarantee}.
func (a *app) lessonShow(c echo.Context) error {
	g, ok := lessons.LookupGuarantee(lessons.GuaranteeID(c.Param("guarantee")))
	if !ok {
		return &apiError{Status: http.StatusNotFound, Msg: "no such lesson: there are at-most-once, at-least-once and exactly-once"}
	}
	p := a.page(c, "")
	l, err := content.Load(string(g.ID), p.Lang)
	if err != nil {
		return err
	}
	p.Title = l.Title
	return render(c, http.StatusOK, views.LessonPage(p, views.Lesson{
		Guarantee: string(g.ID), Title: l.Title, Summary: l.Summary,
		Sections: sections(l), Panel: a.panel(p.Lang, string(g.ID)),
	}))
}

// compareShow answers GET /compare.
func (a *app) compareShow(c echo.Context) error {
	p := a.page(c, "compare.title")
	l, err := content.Load("compare", p.Lang)
	if err != nil {
		return err
	}
	intro := views.Section{}
	for _, s := range sections(l) {
		intro.HTML += s.HTML
	}
	if intro.HTML == "" {
		intro.HTML = "<p>" + html.EscapeString(l.Summary) + "</p>"
	}
	return render(c, http.StatusOK, views.ComparePage(p, intro, a.panel(p.Lang, "")))
}

func sections(l *content.Lesson) []views.Section {
	out := make([]views.Section, len(l.Sections))
	for i, s := range l.Sections {
		out[i] = views.Section{ID: s.ID, Title: s.Title, HTML: s.HTML}
	}
	return out
}

// scriptTexts are the text keys the pages' scripts show.
var scriptTexts = []string{"panel.", "trace.", "verdict.", "result.", "error.", "explain.", "compare.", "control.", "watch.", "predict.", "replay.", "progress.", "fault."}

// scriptI18N is, per language, the JSON of those texts: built once, since
// the texts never change while the app runs.
var scriptI18N = func() map[text.Lang]string {
	out := map[text.Lang]string{}
	for _, l := range text.Langs {
		t := map[string]string{}
		for _, k := range text.Keys(l) {
			for _, prefix := range scriptTexts {
				if strings.HasPrefix(k, prefix) {
					t[k] = l.T(k)
				}
			}
		}
		b, _ := json.Marshal(t) // a map of strings always encodes
		out[l] = string(b)
	}
	return out
}()

func (a *app) panel(l text.Lang, guarantee string) views.RunPanel {
	var faults []string
	for _, f := range lessons.Faults() {
		faults = append(faults, string(f.ID))
	}
	return views.RunPanel{Guarantee: guarantee, Faults: faults, I18N: scriptI18N[l], Broker: a.broker.Addrs()[0]}
}
