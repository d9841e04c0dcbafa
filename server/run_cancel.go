package main

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// runCancel answers DELETE /api/runs/{id}, with the run's token as a
// Bearer token: a queued run leaves the queue, a running one is stopped;
// either ends failed, saying it was cancelled, and is kept as any other.
func (a *app) runCancel(c echo.Context) error {
	r, err := a.run(c)
	if err != nil {
		return err
	}
	token, _ := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
	if err := r.Cancel(token); err != nil {
		return err
	}
	// A cancelled run ends within moments: answer with its end, or with
	// where it is after a bound.
	select {
	case <-r.Done:
	case <-c.Request().Context().Done():
	case <-time.After(10 * time.Second):
	}
	return c.JSON(http.StatusOK, r.Status())
}
