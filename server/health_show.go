package main

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons/broker"
	"github.com/kafka-delivery-lab/lab/lessons/cluster"
)

type brokerHealth struct {
	Mode      broker.Mode `json:"mode"`
	Addrs     []string    `json:"addrs"`
	Reachable bool        `json:"reachable"`
	Error     string      `json:"error,omitempty"`
	// Cluster, in cluster mode, is each broker the lab owns, whether it
	// is up, and which one is the controller.
	Cluster *cluster.Status `json:"cluster,omitempty"`
}

type health struct {
	Status string       `json:"status"`
	Broker brokerHealth `json:"broker"`
	// Instance names this lab instance when several share one Kafka
	// cluster (lessons/fleet): which one a load balancer sent you to.
	Instance string `json:"instance,omitempty"`
}

// healthShow answers GET /healthz: 200 when the broker answers, 503 when not.
func (a *app) healthShow(c echo.Context) error {
	h := health{Status: "ok", Broker: brokerHealth{Mode: a.broker.Mode(), Addrs: a.broker.Addrs(), Reachable: true}}
	if s, ok := a.runs.(sharedRuns); ok {
		h.Instance = s.fleet.ID()
	}
	if a.cluster != nil {
		st := a.cluster.Status(c.Request().Context())
		h.Broker.Cluster = &st
	}
	if err := a.broker.Reachable(c.Request().Context()); err != nil {
		h.Status, h.Broker.Reachable = "degraded", false
		h.Broker.Error = "the broker did not answer a metadata request: " + err.Error()
		return c.JSON(http.StatusServiceUnavailable, h)
	}
	return c.JSON(http.StatusOK, h)
}

// brokerCheckEvery bounds how often pages ask the broker whether it is up:
// a page shows the answer of at most this long ago, and rendering a page
// costs no broker round trip.
const brokerCheckEvery = 2 * time.Second

// brokerUp is the broker's reachability for pages, cached. Only the first
// page waits for the answer; after that a stale answer is refreshed in the
// background, so that with the broker down (a check then takes up to its
// 2 s timeout) no page waits for it, nor queues behind one that does.
func (a *app) brokerUp(ctx context.Context) bool {
	a.health.mu.Lock()
	defer a.health.mu.Unlock()
	switch {
	case a.health.at.IsZero():
		a.health.up = a.broker.Reachable(ctx) == nil
		a.health.at = time.Now()
	case time.Since(a.health.at) > brokerCheckEvery:
		a.health.at = time.Now() // one check at a time
		go func() {
			up := a.broker.Reachable(context.Background()) == nil
			a.health.mu.Lock()
			a.health.up, a.health.at = up, time.Now()
			a.health.mu.Unlock()
		}()
	}
	return a.health.up
}
