package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons"
)

type sandboxLines struct {
	Lines []lessons.ClientLines `json:"lines"`
	Share string                `json:"share"`
}

// sandboxLinesShow answers GET /api/sandbox/lines: each client library's
// lines for the settings in the query string, and their share link; a 400
// quoting the client's rule for settings a client refuses.
func (a *app) sandboxLinesShow(c echo.Context) error {
	q := c.QueryParams()
	claim := lessons.GuaranteeID(q.Get("claim"))
	fault := lessons.FaultID(q.Get("fault"))
	s, err := settingsFromQuery(q, lessons.DefaultSettings)
	if err != nil {
		return err
	}
	s, fe := checkedSettings(s, claim, "")
	if fe != nil {
		return fe
	}
	if _, ok := lessons.LookupFault(fault); !ok {
		fault = lessons.NoFault
	}
	return c.JSON(http.StatusOK, sandboxLines{Lines: lessons.Lines(s), Share: shareLink(claim, fault, s)})
}
