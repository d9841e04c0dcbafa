package main

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/kafka-delivery-lab/lab/lessons/broker"
	"github.com/kafka-delivery-lab/lab/lessons/cluster"
	"github.com/kafka-delivery-lab/lab/lessons/content"
	"github.com/kafka-delivery-lab/lab/web"
)

// maxBody bounds every request body; run requests are a few hundred bytes.
const maxBody = 64 << 10

// BrokerInfo is what the handlers need to know about the cluster.
type BrokerInfo interface {
	Mode() broker.Mode
	Addrs() []string
	Reachable(ctx context.Context) error
}

// ClusterInfo is the cluster the lab owns (-cluster), as /healthz and
// the header show it.
type ClusterInfo interface {
	Status(ctx context.Context) cluster.Status
}

// app is the web application: routes and the handlers' dependencies.
type app struct {
	*echo.Echo
	broker      BrokerInfo
	runs        Runs
	lessons     *content.Set
	feeds       feeds
	viewerSlots chan struct{}
	hosts       hosts // the host names the lab answers to (guard.go)
	health      struct {
		mu sync.Mutex
		at time.Time
		up bool
	}

	cluster ClusterInfo // nil unless the lab owns the cluster
	// clusterStatus caches the owned cluster's status for pages.
	clusterStatus clusterStatus
}

func newApp(b BrokerInfo, registry Runs, lessons *content.Set) *app {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	a := &app{Echo: e, broker: b, runs: registry, lessons: lessons, viewerSlots: make(chan struct{}, maxViewers)}
	e.HTTPErrorHandler = a.handleError
	e.Use(middleware.Recover())
	e.Pre(a.guard) // before routing: a foreign Host gets no 404 either
	e.Use(securityHeaders)
	e.Use(limitBody)
	a.routes()
	return a
}

// routes lists every route of the app.
func (a *app) routes() {
	a.GET("/", a.homeShow)
	a.GET("/lessons/:guarantee", a.lessonShow)
	a.GET("/compare", a.compareShow)
	a.GET("/clients", a.clientsShow)
	a.GET("/healthz", a.healthShow)
	a.GET("/api/guarantees", a.guaranteesList)
	a.GET("/api/faults", a.faultsList)
	a.GET("/api/catalog", a.catalogShow)
	a.GET("/api/runs", a.runsList)
	a.POST("/api/runs", a.runCreate)
	a.GET("/api/runs/:id", a.runShow)
	a.DELETE("/api/runs/:id", a.runCancel)
	a.POST("/api/compare", a.compareCreate)
	a.POST("/api/runs/:id/control", a.runControl)
	a.GET("/api/runs/:id/trace", a.runTrace)
	a.GET("/replay", a.replayShow)
	a.GET("/ws/runs/:id", a.runWatch)
	a.GET("/runs/:id", a.runPage)
	a.GET("/join/:code", a.joinShow)
	a.GET("/sandbox", a.sandboxShow)
	a.GET("/api/sandbox/lines", a.sandboxLinesShow)
	a.GET("/levels", a.levelsShow)
	a.GET("/levels/:id", a.levelShow)
	a.GET("/api/levels", a.levelsList)
	a.GET(web.Prefix+"*", echo.WrapHandler(web.Handler()))
	a.GET("/favicon.ico", faviconShow)
}

// faviconShow answers GET /favicon.ico, which browsers ask for on their
// own: the embedded SVG icon the pages' <link rel=icon> names, under its
// content-hashed URL.
func faviconShow(c echo.Context) error {
	return c.Redirect(http.StatusFound, web.URL("favicon.svg"))
}

// securityHeaders sets a strict Content-Security-Policy (no inline script
// or style) and friends on every response.
var securityHeaders = middleware.SecureWithConfig(middleware.SecureConfig{
	ContentSecurityPolicy: "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
	ContentTypeNosniff:    "nosniff",
	ReferrerPolicy:        "no-referrer",
	XFrameOptions:         "DENY",
})

// limitBody caps every request body at maxBody; reading past it fails with
// an *http.MaxBytesError that decodeJSON turns into a 413.
func limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		r.Body = http.MaxBytesReader(c.Response(), r.Body, maxBody)
		return next(c)
	}
}
