package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons/runs"
	"github.com/kafka-delivery-lab/lab/lessons/trace"
)

// runFile is a run as a file: enough to replay its animation without a
// broker (the /replay page reads it back).
type runFile struct {
	Format string        `json:"format"` // "kafka-delivery-lab/run@1"
	Run    runs.Status   `json:"run"`
	Events []trace.Event `json:"events"`
}

// runTrace answers GET /api/runs/{id}/trace: the run and its kept events,
// as a download.
func (a *app) runTrace(c echo.Context) error {
	r, err := a.run(c)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+r.ID+`.json"`)
	return c.JSON(http.StatusOK, runFile{Format: "kafka-delivery-lab/run@1", Run: r.Status(), Events: r.Events()})
}
