package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/views"
)

// levelShow answers GET /levels/{id}: the level's story, goal and fault,
// and the settings panel at its start, its fixed knobs disabled.
func (a *app) levelShow(c echo.Context) error {
	l, ok := lessons.LookupLevel(c.Param("id"))
	if !ok {
		return &apiError{Status: http.StatusNotFound, Msg: "no such level: /levels lists them"}
	}
	p := a.page(c, "level."+l.ID+".title")
	v := views.Sandbox{Settings: l.Start, Claim: l.Goal, Fault: l.Fault, Level: &l, I18N: sandboxI18N[p.Lang], Lines: lessons.Lines(l.Start)}
	return render(c, http.StatusOK, views.LevelPage(p, v))
}
