package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/views"
)

// homeShow answers GET /.
func (a *app) homeShow(c echo.Context) error {
	p := a.page(c, "home.title")
	l, err := a.lessons.Load("home", p.Lang)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Home(p, l.Sections, scriptI18N[p.Lang]))
}
