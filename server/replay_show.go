package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/views"
)

// replayShow answers GET /replay: load a run file, watch it again.
func (a *app) replayShow(c echo.Context) error {
	p := a.page(c, "replay.title")
	return render(c, http.StatusOK, views.ReplayPage(p, replayI18N[p.Lang]))
}
