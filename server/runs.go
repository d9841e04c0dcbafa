package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons/runs"
)

// run finds the run named by the path's {id}.
func (a *app) run(c echo.Context) (*runs.Run, error) {
	r, ok := a.runs.Get(c.Param("id"))
	if !ok {
		return nil, &apiError{Status: http.StatusNotFound, Msg: "no run with that id: runs are kept for 10 minutes after they end", Field: "id"}
	}
	return r, nil
}
