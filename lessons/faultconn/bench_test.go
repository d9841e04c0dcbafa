package faultconn

import (
	"io"
	"net"
	"testing"
)

// loopback returns both ends of a TCP connection on loopback.
func loopback(t testing.TB) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// frames returns 64 KiB of back to back frames of 4 KiB: requests (Metadata,
// so a Rule holds none back) or responses.
func frames(request bool) []byte {
	const frameLen = 4 << 10
	var b []byte
	for id := int32(0); len(b) < 64<<10; id++ {
		b = appendResponse(b, id, string(make([]byte, frameLen-8)))
		if request {
			// A request header is the response's size and id, then 4 more bytes.
			copy(b[len(b)-frameLen+4:], []byte{0, 3, 0, 12})
		}
	}
	return b
}

var modes = []struct {
	name string
	cfg  *Config // nil: the plain connection
}{
	{"plain", nil},
	{"wrapped", &Config{}},
	{"wrapped with Rule and OnFrame", &Config{Rule: func(*Produce) Action { return Pass }, OnFrame: func(Frame) {}}},
}

func wrap(c net.Conn, cfg *Config) net.Conn {
	if cfg == nil {
		return c
	}
	return Wrap(c, cfg)
}

// BenchmarkPassthrough compares the throughput of a wrapped connection to a
// plain one on loopback, writing requests and reading responses.
func BenchmarkPassthrough(b *testing.B) {
	for _, m := range modes {
		b.Run("write/"+m.name, func(b *testing.B) {
			client, server := loopback(b)
			go io.Copy(io.Discard, server)
			c, data := wrap(client, m.cfg), frames(true)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Write(data); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("read/"+m.name, func(b *testing.B) {
			client, server := loopback(b)
			data := frames(false)
			go func() {
				for {
					if _, err := server.Write(data); err != nil {
						return
					}
				}
			}()
			c, buf := wrap(client, m.cfg), make([]byte, len(data))
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := io.ReadFull(c, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestPassthroughAllocs: without a Rule or OnFrame, the wrapper forwards
// without allocating.
func TestPassthroughAllocs(t *testing.T) {
	client, server := loopback(t)
	c, data, buf := Wrap(client, &Config{}), frames(true), make([]byte, 64<<10)
	if n := testing.AllocsPerRun(50, func() {
		if _, err := c.Write(data); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(server, buf); err != nil {
			t.Fatal(err)
		}
		if _, err := server.Write(data); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocations per round trip, want 0", n)
	}
}
