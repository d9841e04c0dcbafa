package faultconn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// appendRequest appends a request frame the way clients encode it: size,
// the v1 or (flexible) v2 request header, then the body.
func appendRequest(dst []byte, req kmsg.Request, correlationID int32, clientID string) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint16(dst, uint16(req.Key()))
	dst = binary.BigEndian.AppendUint16(dst, uint16(req.GetVersion()))
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlationID))
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(clientID)))
	dst = append(dst, clientID...)
	if req.IsFlexible() {
		dst = append(dst, 1, 7, 2, 'h', 'i') // one tagged field, tag 7, 2 bytes
	}
	dst = req.AppendTo(dst)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

// recordBatch encodes one v2 record batch with the given keys. compressed
// only sets the codec bits: the records stay readable, as a compressed
// batch's are not.
func recordBatch(keys []string, compressed bool) []byte {
	var records []byte
	for i, k := range keys {
		r := kmsg.Record{OffsetDelta: int32(i), Key: []byte(k), Value: []byte("v" + k)}
		r.Length = int32(len(r.AppendTo(nil)) - 1) // Length 0 encodes in one byte
		records = r.AppendTo(records)
	}
	b := kmsg.RecordBatch{
		Length:          int32(49 + len(records)),
		Magic:           2,
		LastOffsetDelta: int32(len(keys) - 1),
		ProducerID:      -1,
		ProducerEpoch:   -1,
		FirstSequence:   -1,
		NumRecords:      int32(len(keys)),
		Records:         records,
	}
	if compressed {
		b.Attributes = 2 // lz4
	}
	return b.AppendTo(nil)
}

func produceRequest(version int16, txnID *string, acks int16, batches ...[]byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(version)
	req.TransactionID = txnID
	req.Acks = acks
	req.TimeoutMillis = 5000
	t := kmsg.NewProduceRequestTopic()
	t.Topic = "orders"
	for i, b := range batches {
		p := kmsg.NewProduceRequestTopicPartition()
		p.Partition = int32(i)
		p.Records = b
		t.Partitions = append(t.Partitions, p)
	}
	req.Topics = append(req.Topics, t)
	return req
}

func metadataRequest() *kmsg.MetadataRequest {
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(12)
	return req
}

// sampleRequests is a connection's worth of requests: flexible and
// non-flexible headers, a transactional Produce, a Produce carrying two
// batches back to back, a compressed batch and an acks=0 Produce.
func sampleRequests() []byte {
	tx := "tx-1"
	two := append(recordBatch([]string{"a", "b"}, false), recordBatch([]string{"c"}, false)...)
	var b []byte
	b = appendRequest(b, metadataRequest(), 1, "lab")
	b = appendRequest(b, produceRequest(9, nil, -1, recordBatch([]string{"k0", "k1", "k2"}, false)), 2, "lab")
	b = appendRequest(b, produceRequest(3, &tx, 1, two), 3, "")
	b = appendRequest(b, produceRequest(7, nil, -1, recordBatch([]string{"x"}, true), recordBatch([]string{"y"}, false)), 4, "lab")
	b = appendRequest(b, produceRequest(11, nil, 0, recordBatch([]string{"z"}, false)), 5, "lab")
	return b
}

// wantProduces is what a Rule sees of sampleRequests.
var wantProduces = []Produce{
	{Version: 9, CorrelationID: 2, Acks: -1, Keys: []string{"k0", "k1", "k2"}},
	{Version: 3, CorrelationID: 3, Acks: 1, TransactionalID: "tx-1", Keys: []string{"a", "b", "c"}},
	{Version: 7, CorrelationID: 4, Acks: -1, Keys: []string{"y"}},
	{Version: 11, CorrelationID: 5, Acks: 0, Keys: []string{"z"}},
}

// wire is the broker's end of a connection in memory: it records what it
// is sent and serves canned response bytes.
type wire struct {
	net.Conn // nil: the methods the tests need are below
	mu       sync.Mutex
	sent     []byte
	resp     io.Reader
	closed   bool
}

func (w *wire) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, net.ErrClosed
	}
	w.sent = append(w.sent, p...)
	return len(p), nil
}

func (w *wire) Read(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, net.ErrClosed
	}
	return w.resp.Read(p)
}

func (w *wire) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	return nil
}

func (w *wire) LocalAddr() net.Addr  { return &net.TCPAddr{Port: 1} }
func (w *wire) RemoteAddr() net.Addr { return &net.TCPAddr{Port: 9092} }

// writeChunks writes data through c in chunks of the given sizes, cycling.
func writeChunks(t testing.TB, c *FaultyConn, data []byte, sizes []int) {
	for i, k := 0, 0; i < len(data); k++ {
		n := min(max(sizes[k%len(sizes)], 1), len(data)-i)
		if m, err := c.Write(data[i : i+n]); err != nil || m != n {
			t.Fatalf("Write(%d bytes) = %d, %v", n, m, err)
		}
		i += n
	}
}

func TestRequestFramesSplitAnywhere(t *testing.T) {
	data := sampleRequests()
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]int, 64)
	for i := range random {
		random[i] = rng.IntN(40) + 1
	}
	splits := map[string][]int{
		"byte by byte":       {1},
		"all frames at once": {len(data)},
		"3 bytes":            {3},
		"header straddles":   {5, 7, 11, 13},
		"random":             random,
	}
	for cut := 1; cut < len(data); cut += 17 {
		splits[fmt.Sprintf("cut at %d", cut)] = []int{cut, len(data)}
	}
	for name, sizes := range splits {
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []Produce
			var frames []Frame
			w := &wire{}
			c := Wrap(w, &Config{
				Rule: func(p *Produce) Action {
					mu.Lock()
					defer mu.Unlock()
					seen = append(seen, *p)
					return Pass
				},
				OnFrame: func(f Frame) { frames = append(frames, f) },
			})
			writeChunks(t, c, data, sizes)
			if !bytes.Equal(w.sent, data) {
				t.Fatalf("forwarded %d bytes, want the %d written, unchanged", len(w.sent), len(data))
			}
			if !slices.EqualFunc(seen, wantProduces, equalProduce) {
				t.Fatalf("Rule saw %+v\nwant %+v", seen, wantProduces)
			}
			var keys []int16
			for _, f := range frames {
				keys = append(keys, f.APIKey)
			}
			if want := []int16{3, 0, 0, 0, 0}; !slices.Equal(keys, want) {
				t.Fatalf("OnFrame saw api keys %v, want %v", keys, want)
			}
		})
	}
}

func equalProduce(a, b Produce) bool {
	return a.Version == b.Version && a.CorrelationID == b.CorrelationID && a.Acks == b.Acks &&
		a.TransactionalID == b.TransactionalID && slices.Equal(a.Keys, b.Keys)
}

// TestDropRequestAmongFrames drops the second of three frames written in
// one Write: the first reaches the broker, nothing after the drop does, and
// the connection is reset.
func TestDropRequestAmongFrames(t *testing.T) {
	var data []byte
	data = appendRequest(data, metadataRequest(), 1, "lab")
	first := len(data)
	data = appendRequest(data, produceRequest(9, nil, -1, recordBatch([]string{"lost"}, false)), 2, "lab")
	data = appendRequest(data, metadataRequest(), 3, "lab")

	var faults []Action
	w := &wire{}
	c := Wrap(w, &Config{
		Rule:    func(*Produce) Action { return DropRequest },
		OnFault: func(a Action, p *Produce) { faults = append(faults, a) },
	})
	if n, err := c.Write(data); n != len(data) || err != nil {
		t.Fatalf("Write = %d, %v; want the lost request to look written", n, err)
	}
	if !bytes.Equal(w.sent, data[:first]) {
		t.Fatalf("broker got %d bytes, want only the %d of the frame before the drop", len(w.sent), first)
	}
	if !slices.Equal(faults, []Action{DropRequest}) {
		t.Fatalf("OnFault calls: %v", faults)
	}
	if _, err := c.Write(data); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("Write after the drop: %v, want ECONNRESET", err)
	}
	if _, err := c.Read(make([]byte, 8)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("Read after the drop: %v, want ECONNRESET", err)
	}
}

// appendResponse appends a response frame: size, correlation id, body.
func appendResponse(dst []byte, correlationID int32, body string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(4+len(body)))
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlationID))
	return append(dst, body...)
}

// TestResponsesSplitAnywhere reads responses in buffers of every size up to
// 9 bytes, so headers straddle reads: the client gets every byte unchanged
// and OnFrame names each response by its request. The acks=0 Produce
// (correlation id 5) gets no response and must not confuse the matching.
func TestResponsesSplitAnywhere(t *testing.T) {
	var resp []byte
	for _, id := range []int32{1, 2, 3, 4, 6} {
		resp = appendResponse(resp, id, "response body "+string(rune('a'+id)))
	}
	requests := appendRequest(sampleRequests(), metadataRequest(), 6, "lab")
	for size := 1; size <= 9; size++ {
		var frames []Frame
		w := &wire{resp: bytes.NewReader(resp)}
		c := Wrap(w, &Config{
			Rule: func(*Produce) Action { return Pass },
			OnFrame: func(f Frame) {
				if !f.Request {
					frames = append(frames, f)
				}
			},
		})
		writeChunks(t, c, requests, []int{len(requests)})
		got, err := io.ReadAll(io.LimitReader(readerFunc(func(p []byte) (int, error) { return c.Read(p[:min(len(p), size)]) }), int64(len(resp)+1)))
		if err != nil || !bytes.Equal(got, resp) {
			t.Fatalf("read size %d: got %d bytes, %v; want the %d sent", size, len(got), err, len(resp))
		}
		want := []Frame{
			{APIKey: 3, APIVersion: 12, CorrelationID: 1, Size: 19},
			{APIKey: 0, APIVersion: 9, CorrelationID: 2, Size: 19},
			{APIKey: 0, APIVersion: 3, CorrelationID: 3, Size: 19},
			{APIKey: 0, APIVersion: 7, CorrelationID: 4, Size: 19},
			{APIKey: 3, APIVersion: 12, CorrelationID: 6, Size: 19},
		}
		if !slices.Equal(frames, want) {
			t.Fatalf("read size %d: OnFrame saw %+v\nwant %+v", size, frames, want)
		}
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// TestDropResponseAmongFrames drops the response to the second request:
// the client reads the first response whole, then an ECONNRESET instead of
// the dropped one, even when the broker's bytes trickle in one at a time.
func TestDropResponseAmongFrames(t *testing.T) {
	var requests []byte
	requests = appendRequest(requests, metadataRequest(), 1, "lab")
	requests = appendRequest(requests, produceRequest(9, nil, -1, recordBatch([]string{"k"}, false)), 2, "lab")
	first := appendResponse(nil, 1, "metadata")
	resp := appendResponse(first, 2, "produce ok")

	client, broker := net.Pipe()
	defer broker.Close()
	var faults []Action
	c := Wrap(client, &Config{
		Rule:    func(*Produce) Action { return DropResponse },
		OnFault: func(a Action, p *Produce) { faults = append(faults, a) },
	})
	defer c.Close()
	go func() {
		buf := make([]byte, len(requests))
		if _, err := io.ReadFull(broker, buf); err != nil {
			return
		}
		for i := range resp {
			if _, err := broker.Write(resp[i : i+1]); err != nil {
				return
			}
		}
	}()
	if _, err := c.Write(requests); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, len(first))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, first) {
		t.Fatalf("first response: %q, %v", got, err)
	}
	if n, err := c.Read(make([]byte, 64)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("reading the dropped response: %d bytes, %v; want ECONNRESET", n, err)
	}
	if !slices.Equal(faults, []Action{DropResponse}) {
		t.Fatalf("OnFault calls: %v", faults)
	}
}

// TestMalformedFramesPass: a frame too short to hold a header, and a
// Produce that does not decode, are forwarded untouched for the broker to
// reject.
func TestMalformedFramesPass(t *testing.T) {
	garbage := []byte{0, 0, 0, 12, 0, 0, 0, 9, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff} // Produce v9, body cut short
	short := []byte{0, 0, 0, 2, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}                      // size 2: not Kafka framing
	for _, data := range [][]byte{garbage, short, append(slices.Clone(garbage), short...)} {
		var called bool
		w := &wire{}
		c := Wrap(w, &Config{Rule: func(*Produce) Action { called = true; return DropRequest }})
		writeChunks(t, c, data, []int{1})
		if !bytes.Equal(w.sent, data) || called {
			t.Fatalf("forwarded %x (Rule called: %v), want %x untouched", w.sent, called, data)
		}
	}
}

func TestProduceTooLargeToHold(t *testing.T) {
	w := &wire{}
	c := Wrap(w, &Config{Rule: func(*Produce) Action { return Pass }})
	header := []byte{0x04, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 1} // 64 MiB + 1 after the size field
	if _, err := c.Write(header); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("Write: %v, want the connection reset", err)
	}
	if !w.closed {
		t.Fatal("connection left open")
	}
}
