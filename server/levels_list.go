package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/views"
)

// levelsList answers GET /api/levels: every level's fault, goal, starting
// settings, knobs and par.
func (a *app) levelsList(c echo.Context) error {
	return c.JSON(http.StatusOK, lessons.Levels())
}

// levelsShow answers GET /levels.
func (a *app) levelsShow(c echo.Context) error {
	p := a.page(c, "level.title")
	return render(c, http.StatusOK, views.LevelsPage(p, lessons.Levels()))
}
