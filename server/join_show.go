package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons/text"
)

// joinShow answers GET /join/{code}: a student's way into a presenter's
// run.
func (a *app) joinShow(c echo.Context) error {
	r, ok := a.runs.Join(c.Param("code"))
	if !ok {
		return &apiError{Status: http.StatusNotFound, Msg: "no live run has that join code: check the code on the presenter's screen", Field: "code"}
	}
	target := "/runs/" + r.ID
	if l, ok := text.Parse(c.QueryParam("lang")); ok {
		target += "?lang=" + string(l)
	}
	return c.Redirect(http.StatusSeeOther, target)
}
