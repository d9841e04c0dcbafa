package main

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// runShow answers GET /api/runs/{id}.
func (a *app) runShow(c echo.Context) error {
	r, ok := a.runs.Get(c.Param("id"))
	if !ok {
		return &apiError{Status: http.StatusNotFound, Msg: "no run with that id: runs are kept for 10 minutes after they end", Field: "id"}
	}
	return c.JSON(http.StatusOK, r.Status())
}
