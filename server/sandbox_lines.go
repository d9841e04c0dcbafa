package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons"
)

type sandboxLines struct {
	Lines []lessons.ClientLines `json:"lines"`
	Share string                `json:"share"`
	// Refused quotes the client's rule when a client refuses the
	// settings, and Field names the setting; Lines is empty then. It is
	// an answer, not an error: what POST /api/runs would refuse with 400.
	Refused string `json:"refused,omitempty"`
	Field   string `json:"field,omitempty"`
}

// sandboxLinesShow answers GET /api/sandbox/lines: each client library's
// lines for the settings in the query string and their share link, or the
// rule a client refuses them with. A value of the wrong form is a 400.
func (a *app) sandboxLinesShow(c echo.Context) error {
	q := c.QueryParams()
	claim := lessons.GuaranteeID(q.Get("claim"))
	fault := lessons.FaultID(q.Get("fault"))
	s, err := settingsFromQuery(q, lessons.DefaultSettings)
	if err != nil {
		return err
	}
	if _, ok := lessons.LookupFault(fault); !ok {
		fault = lessons.NoFault
	}
	s, fe := checkedSettings(s, claim, "")
	if fe != nil {
		return c.JSON(http.StatusOK, sandboxLines{Lines: []lessons.ClientLines{}, Share: shareLink(claim, fault, s), Refused: fe.Msg, Field: fe.Field})
	}
	return c.JSON(http.StatusOK, sandboxLines{Lines: lessons.Lines(s), Share: shareLink(claim, fault, s)})
}
