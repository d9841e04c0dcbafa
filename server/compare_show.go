package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/views"
)

// compareShow answers GET /compare.
func (a *app) compareShow(c echo.Context) error {
	p := a.page(c, "compare.title")
	l, err := a.lessons.Load("compare", p.Lang)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ComparePage(p, l.Sections, l.Summary, a.panel(p.Lang, "")))
}
