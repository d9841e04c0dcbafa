package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kafka-delivery-lab/lab/lessons/runs"
)

// viewer is one websocket watching one run: a reader goroutine for the
// (tiny) client messages and pongs, and this writer.
type viewer struct {
	conn    *websocket.Conn
	feed    *feed
	run     *runs.Run
	closed  chan struct{} // closed when the reader ends
	replies chan []byte   // answers to control messages, sent by the writer
}

type controlReply struct {
	Type   string       `json:"type"` // "control" or "error"
	Error  string       `json:"error,omitempty"`
	Status *runs.Status `json:"run,omitempty"`
}

// tooBig is the close a viewer gets for a message over maxClientMessage.
// gorilla's own read limit sends 1009 without a reason, so the limit is
// applied here: at most maxClientMessage+1 bytes of a message are read,
// whatever size it claims.
var tooBig = websocket.FormatCloseMessage(websocket.CloseMessageTooBig,
	fmt.Sprintf("a message to the server is at most %d bytes: send JSON controls only", maxClientMessage))

func (v *viewer) read() {
	defer close(v.closed)
	_ = v.conn.SetReadDeadline(time.Now().Add(pongWait))
	v.conn.SetPongHandler(func(string) error { return v.conn.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		_, rd, err := v.conn.NextReader()
		if err != nil {
			return
		}
		data, err := io.ReadAll(io.LimitReader(rd, maxClientMessage+1))
		if err != nil {
			return
		}
		if len(data) > maxClientMessage {
			_ = v.conn.WriteControl(websocket.CloseMessage, tooBig, time.Now().Add(writeWait))
			return
		}
		reply := controlReply{Type: "control"}
		var ctl runs.Control
		if err := json.Unmarshal(data, &ctl); err != nil {
			reply = controlReply{Type: "error", Error: "send a JSON control: {\"action\":\"pause\",\"token\":\"…\"}"}
		} else if err := v.run.Apply(ctl.Token, ctl); err != nil {
			reply = controlReply{Type: "error", Error: errorText(err)}
		} else {
			st := v.run.Status()
			reply.Status = &st
		}
		select {
		case v.replies <- mustJSON(reply):
		default: // a client flooding controls gets no more answers
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
		case r := <-v.replies:
			if v.send(websocket.TextMessage, r) != nil {
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
