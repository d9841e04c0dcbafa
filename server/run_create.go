package main

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons"
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
		return startError(c, err)
	}
	out := runCreated{ID: r.ID, WS: "/ws/runs/" + r.ID, ControlToken: r.Token(), Watch: "/runs/" + r.ID}
	if code := r.JoinCode(); code != "" {
		out.Join = "/join/" + code
	}
	return c.JSON(http.StatusCreated, out)
}

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
	started, err := a.runs.Compare(req.Fault, req.Messages)
	if err != nil {
		return startError(c, err)
	}
	out := compareCreated{Runs: map[lessons.GuaranteeID]string{}}
	for g, r := range started {
		out.Runs[g] = r.ID
	}
	return c.JSON(http.StatusCreated, out)
}

// retryAfter is a fair guess at when a run slot frees up, in seconds.
const retryAfter = 5

func startError(c echo.Context, err error) error {
	var fe *runs.FieldError
	switch {
	case errors.As(err, &fe):
		return badRequest(fe.Field, "%s", fe.Msg)
	case errors.Is(err, runs.ErrBusy):
		c.Response().Header().Set("Retry-After", strconv.Itoa(retryAfter))
		return &apiError{Status: http.StatusTooManyRequests, Msg: err.Error()}
	case errors.Is(err, runs.ErrClosed):
		return &apiError{Status: http.StatusServiceUnavailable, Msg: err.Error()}
	}
	return err
}
