package faultconn_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons/faultconn"
)

// TestFreezeHoldsEveryConnection: while a dialer is frozen its connections
// neither write nor hand over what arrived, past their deadlines, and a
// dial waits; Thaw lets all of it go on.
func TestFreezeHoldsEveryConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	echoed := make(chan struct{})
	go func() {
		defer close(echoed)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 4)
		if n, err := c.Read(buf); err == nil {
			c.Write(buf[:n])
		}
	}()
	d := faultconn.NewDialer(faultconn.Config{})
	c, err := d.DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d.Freeze()
	c.SetDeadline(time.Now().Add(50 * time.Millisecond)) // a frozen process's deadlines pass unnoticed
	wrote := make(chan error, 1)
	go func() { _, err := c.Write([]byte("ping")); wrote <- err }()
	select {
	case err := <-wrote:
		t.Fatalf("a frozen connection wrote (%v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	c.SetDeadline(time.Time{})
	d.Thaw()
	if err := <-wrote; err != nil {
		t.Fatalf("write after Thaw: %v", err)
	}
	buf := make([]byte, 4)
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "ping" {
		t.Fatalf("read after Thaw: %q, %v", buf[:n], err)
	}
	<-echoed
}
