package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons/broker"
)

type brokerHealth struct {
	Mode      broker.Mode `json:"mode"`
	Addrs     []string    `json:"addrs"`
	Reachable bool        `json:"reachable"`
	Error     string      `json:"error,omitempty"`
}

type health struct {
	Status string       `json:"status"`
	Broker brokerHealth `json:"broker"`
}

// healthShow answers GET /healthz: 200 when the broker answers, 503 when not.
func (a *app) healthShow(c echo.Context) error {
	h := health{Status: "ok", Broker: brokerHealth{Mode: a.broker.Mode(), Addrs: a.broker.Addrs(), Reachable: true}}
	if err := a.broker.Reachable(c.Request().Context()); err != nil {
		h.Status, h.Broker.Reachable = "degraded", false
		h.Broker.Error = "the broker did not answer a metadata request: " + err.Error()
		return c.JSON(http.StatusServiceUnavailable, h)
	}
	return c.JSON(http.StatusOK, h)
}
