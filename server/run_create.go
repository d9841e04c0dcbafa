package main

import (
	"net"
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
	// State is "running", or "queued" with QueuePosition, the runs ahead
	// of it, when it waits for room (202).
	State         runs.State `json:"state"`
	QueuePosition *int       `json:"queue_position,omitempty"`
}

// runCreate answers POST /api/runs: starts a run (201), or queues it
// (202) when the lab has no room for it now.
func (a *app) runCreate(c echo.Context) error {
	var req runs.Request
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	req.Client = clientOf(c)
	r, err := a.runs.Start(req)
	if err != nil {
		return err
	}
	st := r.Status()
	out := runCreated{ID: r.ID, WS: "/ws/runs/" + r.ID, ControlToken: r.Token(), Watch: "/runs/" + r.ID, Join: r.JoinPath(),
		State: st.State, QueuePosition: st.QueuePosition}
	return c.JSON(createdStatus(st), out)
}

// createdStatus is 202 Accepted for a run that waits in the queue, 201
// Created for one that started.
func createdStatus(st runs.Status) int {
	if st.State == runs.Queued {
		return http.StatusAccepted
	}
	return http.StatusCreated
}

// clientOf names the client for the queue's fair share: the address the
// connection comes from. Headers such as X-Forwarded-For are not trusted:
// any client could send a new one with every request.
func clientOf(c echo.Context) string {
	host, _, err := net.SplitHostPort(c.Request().RemoteAddr)
	if err != nil {
		return c.Request().RemoteAddr
	}
	return host
}
