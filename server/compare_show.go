package main

import (
	"html"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons/content"
	"github.com/kafka-delivery-lab/lab/views"
)

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
