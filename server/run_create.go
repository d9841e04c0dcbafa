package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons/runs"
)

type runCreated struct {
	ID string `json:"id"`
	WS string `json:"ws"`
	// ControlToken lets the creator pause, step, resume and inject faults;
	// it is returned here only, and kept only in the creator's browser.
	ControlToken string `json:"control_token"`
	Join         string `json:"join,omitempty"`
	Watch        string `json:"watch"`
}

// runCreate answers POST /api/runs: starts a run.
func (a *app) runCreate(c echo.Context) error {
	var req runs.Request
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	r, err := a.runs.Start(req)
	if err != nil {
		return err
	}
	out := runCreated{ID: r.ID, WS: "/ws/runs/" + r.ID, ControlToken: r.Token(), Watch: "/runs/" + r.ID, Join: r.JoinPath()}
	return c.JSON(http.StatusCreated, out)
}
