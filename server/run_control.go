package main

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons/runs"
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
