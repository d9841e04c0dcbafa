package main

import (
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
)

const (
	// writeWait bounds one frame write: a viewer that stops reading is
	// dropped after it, and never slows the run or anyone else.
	writeWait = 10 * time.Second
	// pongWait is how long a silent viewer is kept.
	pongWait = 60 * time.Second
	// pingPeriod must be shorter than pongWait.
	pingPeriod = pongWait * 9 / 10
	// maxClientMessage bounds what a viewer may send: control messages
	// are a few dozen bytes.
	maxClientMessage = 1024
	// maxViewers bounds open websockets across all runs.
	maxViewers = 2000
)

// upgrader refuses cross-origin upgrades: with CheckOrigin unset, gorilla
// answers 403 unless the Origin's host equals the request's Host. Write
// buffers are pooled: a viewer holds one only while it writes, not for the
// life of its socket (16 KiB less per idle viewer: 32 MiB at maxViewers).
var upgrader = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 16 << 10, WriteBufferPool: &sync.Pool{}}

// runWatch answers GET /ws/runs/{id}: the run's live trace.
func (a *app) runWatch(c echo.Context) error {
	r, err := a.run(c)
	if err != nil {
		return err
	}
	select {
	case a.viewerSlots <- struct{}{}:
	default:
		c.Response().Header().Set("Retry-After", "10")
		return &apiError{Status: http.StatusServiceUnavailable, Msg: "too many viewers at once: try again shortly"}
	}
	defer func() { <-a.viewerSlots }()
	conn, err := upgrader.Upgrade(c.Response(), c.Request(), nil)
	if err != nil {
		return nil // the upgrader has answered (403 for a foreign origin)
	}
	f := a.feeds.join(r)
	defer a.feeds.leave(f)
	v := &viewer{conn: conn, feed: f, run: r, closed: make(chan struct{}), replies: make(chan []byte, 4)}
	go v.read()
	v.write()
	return nil
}
