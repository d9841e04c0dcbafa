// Package faultconn injects real network faults between a Kafka client and a
// Kafka-protocol broker. It wraps the net.Conn a client dials (kafka-go's
// Transport.Dial or Dialer.DialFunc, kgo's Dialer option) and reads the Kafka
// frames crossing it in both directions, so the same fault works against the
// embedded kfake broker and against Apache Kafka.
//
// The faults are the two halves of a lost round trip. DropRequest loses a
// Produce before the broker sees it: a retry is safe. DropResponse loses only
// the answer: the broker has appended the records, the client cannot know,
// and its retry duplicates them unless the producer is idempotent. Either
// way the connection is reset, as a network loss would leave it, so the
// client reacts to a broken connection rather than waiting out a timeout.
//
// Only plaintext connections can be read; for TLS the wrapper would have to
// sit inside the TLS layer.
package faultconn

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Action is what the wire does with one Produce request.
type Action int

const (
	// Pass forwards the request and its response.
	Pass Action = iota
	// DropRequest swallows the request so the broker never sees it, then
	// resets the connection.
	DropRequest
	// DropResponse forwards the request, so the broker appends its records,
	// then swallows the response and resets the connection. With acks=0
	// there is no response to swallow and it acts as Pass.
	DropResponse
)

// String names the action for traces.
func (a Action) String() string {
	switch a {
	case Pass:
		return "pass"
	case DropRequest:
		return "drop request"
	case DropResponse:
		return "drop response"
	}
	return "unknown action"
}

// Produce describes one Produce request (api key 0) seen on the wire.
type Produce struct {
	Version         int16
	CorrelationID   int32
	Acks            int16
	TransactionalID string // "" if null
	// Keys holds the key of every record in the request, in encoded order;
	// a null key reads as "". Records of compressed batches are not
	// decoded, so Keys misses them: kgo compresses with snappy by default
	// (kgo.ProducerBatchCompression(kgo.NoCompression()) turns that off),
	// kafka-go does not compress by default.
	Keys []string
}

// Rule decides what happens to a Produce request. It is called from the
// client's writing goroutine and must be safe for concurrent use: different
// connections call it concurrently.
type Rule func(p *Produce) Action

// Config says which faults to inject and what to report. OnFault and
// OnFrame run on the client's reading and writing goroutines, concurrently,
// and should return quickly.
type Config struct {
	// Rule judges every Produce request. Nil passes everything and parses
	// nothing: bytes are forwarded as they come.
	Rule Rule
	// OnFault is called after a request or its response was dropped.
	OnFault func(a Action, p *Produce)
	// Armed, optional, tells whether Rule may drop anything now. When it
	// returns false the request passes without its record keys being
	// read: the costly part of judging, skipped on a run's hot path.
	Armed func() bool
	// OnFrame, optional, sees the header of every request and response
	// frame: a protocol view of the connection.
	OnFrame func(f Frame)
}

// Frame is the header of one Kafka frame. A response carries only its
// correlation id; APIKey and APIVersion come from the request it answers,
// or are -1 if no request on the connection had that correlation id.
type Frame struct {
	Request       bool
	APIKey        int16
	APIVersion    int16
	CorrelationID int32
	Size          int // the frame's size prefix: bytes after the 4-byte size
}

// ErrCrashed is the cause of every failure Dialer.Sever produces: the dials
// after it, and the reads and writes of the connections it reset.
var ErrCrashed = errors.New("process crashed (Dialer.Sever)")

// maxInFlight bounds the requests a connection remembers while awaiting
// their responses. Clients pipeline a handful; only Produce requests with
// acks=0, which the broker never answers, pile up, and only when OnFrame is
// set without a Rule, since then Produce bodies and their acks are not read.
const maxInFlight = 1024

// FaultyConn is a client connection whose Produce requests, or their
// responses, can be lost. It implements net.Conn. Reads and writes may run
// on different goroutines at once, as both kgo and kafka-go do.
type FaultyConn struct {
	conn   net.Conn
	cfg    *Config
	track  bool    // a Rule or OnFrame needs the frames followed
	dialer *Dialer // nil when made by Wrap

	reset atomic.Pointer[resetError] // set once the wrapper reset the connection

	wmu sync.Mutex
	w   requestStream

	rmu sync.Mutex
	r   responseStream

	qmu      sync.Mutex
	inflight []inflight // requests awaiting a response, oldest at head
	head     int
}

// inflight is a request awaiting its response.
type inflight struct {
	correlationID int32
	apiKey        int16
	apiVersion    int16
	drop          *Produce // non-nil: swallow the response and reset
}

// requestStream is where the client's byte stream stands in the request
// frames.
type requestStream struct {
	hdr     [requestHeaderLen]byte
	nhdr    int    // bytes of hdr received; 0 between frames
	body    int    // bytes of the current frame still to come after hdr
	holding bool   // the current frame is a Produce kept in frame for the Rule
	frame   []byte // the held Produce frame
	opaque  bool   // not Kafka framing: forward the rest untouched
	out     []byte // reused for output that is not one run of the caller's buffer
}

// responseStream is where the broker's byte stream stands in the response
// frames.
type responseStream struct {
	hdr    [responseHeaderLen]byte
	nhdr   int  // header bytes held back until the frame's fate is known
	owed   int  // bytes at the end of hdr not yet handed to the client
	body   int  // bytes of the current frame still to pass through
	opaque bool // not Kafka framing: pass the rest untouched
}

// Wrap wraps a client connection to a broker. cfg must not change
// afterwards; nil injects nothing.
func Wrap(c net.Conn, cfg *Config) *FaultyConn {
	if cfg == nil {
		cfg = &Config{}
	}
	return &FaultyConn{conn: c, cfg: cfg, track: cfg.Rule != nil || cfg.OnFrame != nil}
}

// Write forwards the client's bytes. A Produce request is held back until
// it is whole, to ask the Rule; other bytes go through as they come. A
// dropped request still reports success: its bytes left the client, as
// they would before a network loss; the reset shows on the next read or
// write.
func (c *FaultyConn) Write(p []byte) (int, error) {
	if c.dialer != nil {
		c.dialer.hold()
	}
	if !c.track {
		n, err := c.conn.Write(p)
		return n, c.netErr("write", err)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.reset.Load() != nil {
		return 0, c.netErr("write", net.ErrClosed)
	}

	s := &c.w
	o := output{p: p, buf: s.out[:0]}
	var dropped *Produce
	for i := 0; i < len(p) && dropped == nil; {
		if s.opaque {
			o.run(i, len(p))
			break
		}
		if s.nhdr < requestHeaderLen {
			start := i
			n := copy(s.hdr[s.nhdr:], p[i:])
			s.nhdr += n
			i += n
			if s.nhdr < requestHeaderLen {
				break // the next Write brings the rest of the header
			}
			inP := n == requestHeaderLen // the header is p[start:i]
			h := parseRequestHeader(s.hdr[:])
			if h.size < requestHeaderLen-4 {
				s.opaque = true // the broker closes on such a frame
				o.keep(inP, start, i, s.hdr[:])
				continue
			}
			if c.cfg.OnFrame != nil {
				c.cfg.OnFrame(Frame{Request: true, APIKey: h.apiKey, APIVersion: h.apiVersion, CorrelationID: h.correlationID, Size: int(h.size)})
			}
			s.body = int(h.size) - (requestHeaderLen - 4)
			switch {
			case h.apiKey != produceKey || c.cfg.Rule == nil:
				c.expect(h, nil)
				o.keep(inP, start, i, s.hdr[:])
			case h.size > maxBufferedFrame:
				c.resetConn(resetTooLarge)
				return 0, c.netErr("write", net.ErrClosed)
			case inP && s.body <= len(p)-i:
				// The whole frame is in p: judge it in place.
				i += s.body
				s.body, s.nhdr = 0, 0
				if dropped = c.judge(p[start:i]); dropped == nil {
					o.run(start, i)
				}
				continue
			default:
				s.holding = true
				s.frame = append(s.frame[:0], s.hdr[:]...)
			}
		}
		n := min(s.body, len(p)-i)
		if s.holding {
			s.frame = append(s.frame, p[i:i+n]...)
		} else {
			o.run(i, i+n)
		}
		s.body -= n
		i += n
		if s.body > 0 {
			continue
		}
		s.nhdr = 0
		if s.holding {
			s.holding = false
			if dropped = c.judge(s.frame); dropped == nil {
				o.held(s.frame)
			}
		}
	}

	out := o.bytes()
	s.out = o.buf[:0]
	if len(out) > 0 {
		if _, err := c.conn.Write(out); err != nil {
			return 0, c.netErr("write", err)
		}
	}
	if dropped != nil {
		c.resetConn(resetDroppedRequest)
		if c.cfg.OnFault != nil {
			c.cfg.OnFault(DropRequest, dropped)
		}
	}
	return len(p), nil
}

// judge asks the Rule about a whole Produce frame and records the response
// the connection now awaits. It returns the Produce if the request is to be
// dropped.
func (c *FaultyConn) judge(frame []byte) *Produce {
	h := parseRequestHeader(frame)
	armed := c.cfg.Armed == nil || c.cfg.Armed()
	p, ok := parseProduce(frame, armed)
	if !ok {
		c.expect(h, nil) // the broker answers with an error, or closes
		return nil
	}
	if !armed {
		if p.Acks != 0 {
			c.expect(h, nil)
		}
		return nil
	}
	switch c.cfg.Rule(p) {
	case DropRequest:
		return p
	case DropResponse:
		if p.Acks != 0 {
			c.expect(h, p)
		}
	default:
		if p.Acks != 0 {
			c.expect(h, nil)
		}
	}
	return nil
}

// expect records a request awaiting its response. It runs before the
// request's bytes are written, so the response cannot arrive first.
func (c *FaultyConn) expect(h requestHeader, drop *Produce) {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if len(c.inflight)-c.head >= maxInFlight {
		c.head++
	}
	if c.head > 0 && len(c.inflight) == cap(c.inflight) {
		n := copy(c.inflight, c.inflight[c.head:])
		c.inflight, c.head = c.inflight[:n], 0
	}
	c.inflight = append(c.inflight, inflight{h.correlationID, h.apiKey, h.apiVersion, drop})
}

// answered takes the request a response answers. A broker answers a
// connection's requests in order, so requests queued before it that do not
// match were never going to be answered: Produce requests with acks=0.
func (c *FaultyConn) answered(correlationID int32) (inflight, bool) {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	for c.head < len(c.inflight) {
		r := c.inflight[c.head]
		c.head++
		if r.correlationID == correlationID {
			if c.head == len(c.inflight) {
				c.inflight, c.head = c.inflight[:0], 0
			}
			return r, true
		}
	}
	c.inflight, c.head = c.inflight[:0], 0
	return inflight{}, false
}

// Read hands the broker's bytes to the client. Only the first 8 bytes of a
// response frame, size and correlation id, are held back until the frame's
// fate is known; the rest is read straight into the client's buffer. When a
// response to drop starts, the connection is reset and Read fails, after
// returning any bytes of earlier frames.
func (c *FaultyConn) Read(p []byte) (int, error) {
	if c.dialer != nil {
		// What arrives while the process is frozen waits for it in the
		// socket; a read already waiting hands over nothing until it
		// wakes.
		c.dialer.hold()
		defer c.dialer.hold()
	}
	if !c.track {
		n, err := c.conn.Read(p)
		return n, c.netErr("read", err)
	}
	if len(p) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	s := &c.r
	for {
		if c.reset.Load() != nil {
			return 0, c.netErr("read", net.ErrClosed)
		}
		if s.owed > 0 {
			n := copy(p, s.hdr[responseHeaderLen-s.owed:])
			s.owed -= n
			return n, nil
		}
		if s.nhdr > 0 {
			// Complete a held-back header before anything else.
			n, err := c.conn.Read(s.hdr[s.nhdr:])
			s.nhdr += n
			if err != nil {
				return 0, c.netErr("read", err)
			}
			if s.nhdr == responseHeaderLen {
				s.nhdr = 0
				if !c.onResponse(s.hdr[:]) {
					s.owed = responseHeaderLen
				}
			}
			continue
		}
		n, err := c.conn.Read(p)
		if n = c.scanResponses(p[:n]); n > 0 || err != nil {
			return n, c.netErr("read", err)
		}
	}
}

// scanResponses follows the response frames in b and returns how many of
// its bytes the client gets: all of them, unless a header is incomplete at
// the end (held back) or a dropped response starts.
func (c *FaultyConn) scanResponses(b []byte) int {
	s := &c.r
	for i := 0; i < len(b); {
		switch {
		case s.opaque:
			return len(b)
		case s.body > 0:
			n := min(s.body, len(b)-i)
			s.body -= n
			i += n
		case len(b)-i < responseHeaderLen:
			s.nhdr = copy(s.hdr[:], b[i:])
			return i
		case c.onResponse(b[i : i+responseHeaderLen]):
			return i
		default:
			i += responseHeaderLen
		}
	}
	return len(b)
}

// onResponse takes a response header and reports whether the response is
// dropped, in which case the connection has been reset.
func (c *FaultyConn) onResponse(h []byte) bool {
	s := &c.r
	size := int32(binary.BigEndian.Uint32(h))
	correlationID := int32(binary.BigEndian.Uint32(h[4:]))
	if size < responseHeaderLen-4 {
		s.opaque = true
		return false
	}
	s.body = int(size) - (responseHeaderLen - 4)
	req, ok := c.answered(correlationID)
	if c.cfg.OnFrame != nil {
		f := Frame{APIKey: -1, APIVersion: -1, CorrelationID: correlationID, Size: int(size)}
		if ok {
			f.APIKey, f.APIVersion = req.apiKey, req.apiVersion
		}
		c.cfg.OnFrame(f)
	}
	if req.drop == nil {
		return false
	}
	c.resetConn(resetDroppedResponse)
	if c.cfg.OnFault != nil {
		c.cfg.OnFault(DropResponse, req.drop)
	}
	return true
}

// resetConn aborts the connection with an RST rather than a FIN: the broker
// sees the connection reset, not an orderly close, and the client's pending
// and later reads and writes fail with ECONNRESET, as after a network loss.
// Both kgo and kafka-go classify ECONNRESET as a retryable network error.
func (c *FaultyConn) resetConn(why *resetError) {
	if !c.reset.CompareAndSwap(nil, why) {
		return
	}
	if tc, ok := c.conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.conn.Close()
}

// netErr replaces the error of a connection the wrapper reset, whatever it
// was (often "use of closed network connection"), with the reset.
func (c *FaultyConn) netErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if r := c.reset.Load(); r != nil {
		return &net.OpError{Op: op, Net: "tcp", Source: c.conn.LocalAddr(), Addr: c.conn.RemoteAddr(), Err: r}
	}
	return err
}

// resetError is why the wrapper reset a connection. It unwraps to
// ECONNRESET in an *os.SyscallError, what a client sees when its peer
// resets, since that is how clients recognize a retryable network error.
type resetError struct {
	cause   string
	crashed bool // reset by Dialer.Sever
}

var (
	resetDroppedRequest  = &resetError{cause: "Produce request dropped"}
	resetDroppedResponse = &resetError{cause: "Produce response dropped"}
	resetTooLarge        = &resetError{cause: "Produce request too large to hold back for the Rule"}
	resetCrashed         = &resetError{cause: ErrCrashed.Error(), crashed: true}
)

func (e *resetError) Error() string {
	return "connection reset by peer (faultconn: " + e.cause + ")"
}

func (e *resetError) Unwrap() []error {
	errs := []error{os.NewSyscallError("faultconn", syscall.ECONNRESET)}
	if e.crashed {
		errs = append(errs, ErrCrashed)
	}
	return errs
}

// Close closes the connection. Closing a connection the wrapper already
// reset succeeds, as it would for a connection the peer reset.
func (c *FaultyConn) Close() error {
	if c.dialer != nil {
		c.dialer.forget(c)
	}
	if c.reset.Load() != nil {
		return nil
	}
	return c.conn.Close()
}

// LocalAddr returns the client's address.
func (c *FaultyConn) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// RemoteAddr returns the broker's address.
func (c *FaultyConn) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }

// SetDeadline sets the read and write deadlines of the connection.
func (c *FaultyConn) SetDeadline(t time.Time) error { return c.conn.SetDeadline(t) }

// SetReadDeadline sets the read deadline of the connection.
func (c *FaultyConn) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline of the connection.
func (c *FaultyConn) SetWriteDeadline(t time.Time) error { return c.conn.SetWriteDeadline(t) }

// output collects what one Write forwards: runs of the caller's buffer,
// written as they are when nothing comes between them, and bytes held back
// from earlier Writes, which force a copy.
type output struct {
	p        []byte
	from, to int // a run of p not yet copied into buf
	buf      []byte
}

// run forwards p[i:j].
func (o *output) run(i, j int) {
	if i == j {
		return
	}
	if o.to == i && o.to > o.from {
		o.to = j
		return
	}
	o.flushRun()
	o.from, o.to = i, j
}

// held forwards bytes that are not in p.
func (o *output) held(b []byte) {
	o.flushRun()
	o.buf = append(o.buf, b...)
}

// keep forwards a request header: as part of p's run if it lay whole in
// p[i:j], else from the copy gathered across Writes.
func (o *output) keep(inP bool, i, j int, hdr []byte) {
	if inP {
		o.run(i, j)
	} else {
		o.held(hdr)
	}
}

func (o *output) flushRun() {
	o.buf = append(o.buf, o.p[o.from:o.to]...)
	o.from, o.to = 0, 0
}

// bytes returns everything to forward, without a copy if it is one run of p.
func (o *output) bytes() []byte {
	if len(o.buf) == 0 {
		return o.p[o.from:o.to]
	}
	o.flushRun()
	return o.buf
}

// Dialer dials plain TCP and wraps every connection. Use one Dialer per
// client instance: Sever acts on all of its connections.
type Dialer struct {
	cfg  Config
	dial net.Dialer

	mu      sync.Mutex
	conns   map[*FaultyConn]struct{}
	severed bool
	// frozen, while not nil, is closed when Thaw ends a Freeze.
	frozen atomic.Pointer[chan struct{}]
}

// NewDialer returns a Dialer whose connections follow cfg.
func NewDialer(cfg Config) *Dialer {
	return &Dialer{cfg: cfg, conns: make(map[*FaultyConn]struct{})}
}

// DialContext dials addr and wraps the connection. It has the signature both
// kafka-go's Transport.Dial and kgo.Dialer take.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.hold()
	if d.isSevered() {
		return nil, crashedDialErr(network)
	}
	conn, err := d.dial.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c := Wrap(conn, &d.cfg)
	c.dialer = d
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.severed {
		conn.Close()
		return nil, crashedDialErr(network)
	}
	d.conns[c] = struct{}{}
	return c, nil
}

// Sever resets every open connection of this dialer and makes every later
// dial fail with ErrCrashed. This is how the lab kills a consumer or
// processor "process": unlike closing the client, it sends no LeaveGroup
// and no EndTxn, so the broker only learns of the death when the session
// or transaction times out.
func (d *Dialer) Sever() {
	d.mu.Lock()
	d.severed = true
	conns := d.conns
	d.conns = make(map[*FaultyConn]struct{})
	d.mu.Unlock()
	for c := range conns {
		c.resetConn(resetCrashed)
	}
}

// Freeze stops every connection of this dialer where it stands, and every
// later dial, until Thaw: a read or write waits, ignoring its deadline, as
// in a process stopped by a long GC pause or a suspended VM. The client
// sends nothing, heartbeats included, so the broker sees a member go
// silent, and its own timers keep running: on Thaw it may find its
// deadlines long past, as a woken process does.
func (d *Dialer) Freeze() {
	ch := make(chan struct{})
	d.frozen.CompareAndSwap(nil, &ch)
}

// Thaw ends a Freeze: what waited goes on.
func (d *Dialer) Thaw() {
	if ch := d.frozen.Swap(nil); ch != nil {
		close(*ch)
	}
}

// hold waits while the dialer is frozen.
func (d *Dialer) hold() {
	if ch := d.frozen.Load(); ch != nil {
		<-*ch
	}
}

func (d *Dialer) isSevered() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.severed
}

func (d *Dialer) forget(c *FaultyConn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.conns, c)
}

// crashedDialErr is a dial error, so clients treat it as an unreachable
// broker rather than a failed request.
func crashedDialErr(network string) error {
	return &net.OpError{Op: "dial", Net: network, Err: ErrCrashed}
}
