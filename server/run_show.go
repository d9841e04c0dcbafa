package main

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// runShow answers GET /api/runs/{id}.
func (a *app) runShow(c echo.Context) error {
	r, err := a.run(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r.Status())
}
