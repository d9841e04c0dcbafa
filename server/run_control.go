package main

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons/runs"
	"github.com/kafka-delivery-lab/lab/lessons/text"
)

// runControl answers POST /api/runs/{id}/control: pause, resume, step, pace
// or fault, with the run's token as a Bearer token.
func (a *app) runControl(c echo.Context) error {
	r, err := a.run(c)
	if err != nil {
		return err
	}
	var ctl runs.Control
	if err := decodeJSON(c, &ctl); err != nil {
		return err
	}
	token, _ := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
	if err := r.Apply(token, ctl); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r.Status())
}

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
