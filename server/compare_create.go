package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons"
)

type compareRequest struct {
	Fault    lessons.FaultID `json:"fault"`
	Messages *int            `json:"messages"`
}

type compareCreated struct {
	Runs map[lessons.GuaranteeID]string `json:"runs"`
}

// compareCreate answers POST /api/compare: one run per guarantee, same fault.
func (a *app) compareCreate(c echo.Context) error {
	var req compareRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	started, err := a.runs.Compare(req.Fault, req.Messages, clientOf(c))
	if err != nil {
		return err
	}
	out := compareCreated{Runs: map[lessons.GuaranteeID]string{}}
	status := http.StatusCreated
	for g, r := range started {
		out.Runs[g] = r.ID
		if createdStatus(r.Status()) == http.StatusAccepted {
			status = http.StatusAccepted // one of them waits: see its state
		}
	}
	return c.JSON(status, out)
}
