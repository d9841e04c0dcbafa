package main

import (
	"net/http"
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
// answers 403 unless the Origin's host equals the request's Host.
var upgrader = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 16 << 10}

// runWatch answers GET /ws/runs/{id}: the run's live trace.
func (a *app) runWatch(c echo.Context) error {
	r, ok := a.runs.Get(c.Param("id"))
	if !ok {
		return &apiError{Status: http.StatusNotFound, Msg: "no run with that id: runs are kept for 10 minutes after they end", Field: "id"}
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
	v := &viewer{conn: conn, feed: f, closed: make(chan struct{})}
	go v.read()
	v.write()
	return nil
}

// viewer is one websocket watching one run: a reader goroutine for the
// (tiny) client messages and pongs, and this writer.
type viewer struct {
	conn   *websocket.Conn
	feed   *feed
	closed chan struct{} // closed when the reader ends
}

func (v *viewer) read() {
	defer close(v.closed)
	v.conn.SetReadLimit(maxClientMessage)
	_ = v.conn.SetReadDeadline(time.Now().Add(pongWait))
	v.conn.SetPongHandler(func(string) error { return v.conn.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		// Viewers have nothing to say yet; a message over the limit ends
		// the socket with 1009 (message too big), sent by gorilla.
		if _, _, err := v.conn.ReadMessage(); err != nil {
			return
		}
	}
}

func (v *viewer) write() {
	defer v.conn.Close()
	ping := time.NewTicker(pingPeriod)
	defer ping.Stop()
	snap, next := v.feed.snapshot()
	if v.send(websocket.TextMessage, snap) != nil {
		return
	}
	for {
		frames, wake, behind, done := v.feed.since(next)
		if behind {
			snap, next = v.feed.snapshot()
			if v.send(websocket.TextMessage, snap) != nil {
				return
			}
			continue
		}
		for _, fr := range frames {
			if v.send(websocket.TextMessage, fr.data) != nil {
				return
			}
			next = fr.n + 1
		}
		if len(frames) > 0 {
			continue // more may have come, or the end, while we wrote
		}
		if done {
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "run finished")
			_ = v.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(writeWait))
			return
		}
		select {
		case <-wake:
		case <-ping.C:
			if v.send(websocket.PingMessage, nil) != nil {
				return
			}
		case <-v.closed:
			return
		}
	}
}

func (v *viewer) send(kind int, data []byte) error {
	_ = v.conn.SetWriteDeadline(time.Now().Add(writeWait))
	return v.conn.WriteMessage(kind, data)
}
