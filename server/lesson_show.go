package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/views"
)

// lessonShow answers GET /lessons/{guarantee}.
func (a *app) lessonShow(c echo.Context) error {
	g, ok := lessons.LookupGuarantee(lessons.GuaranteeID(c.Param("guarantee")))
	if !ok {
		return &apiError{Status: http.StatusNotFound, Msg: "no such lesson: there are at-most-once, at-least-once and exactly-once"}
	}
	p := a.page(c, "")
	l, err := a.lessons.Load(string(g.ID), p.Lang)
	if err != nil {
		return err
	}
	p.Title = l.Title
	return render(c, http.StatusOK, views.LessonPage(p, views.Lesson{
		Guarantee: string(g.ID), Title: l.Title, Summary: l.Summary,
		Sections: l.Sections, Panel: a.panel(p.Lang, string(g.ID)),
	}))
}
