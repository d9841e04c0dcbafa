package broker

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDataDirPersists: with a data dir, the embedded broker keeps its
// topics and records across a restart.
func TestDataDirPersists(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := StartEmbedded(EmbeddedOptions{Port: 0, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.CreateTopics(ctx, "kept"); err != nil {
		t.Fatal(err)
	}
	b.Close()
	b, err = StartEmbedded(EmbeddedOptions{Port: 0, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	topics, err := b.Admin().ListTopics(ctx, "kept")
	if err != nil || !topics.Has("kept") {
		t.Fatalf("after a restart: %v %v", topics.Names(), err)
	}
}

func TestPortTakenSaysWhatToDo(t *testing.T) {
	b, err := StartEmbedded(EmbeddedOptions{Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	port, _ := strconv.Atoi(b.Addrs()[0][strings.LastIndex(b.Addrs()[0], ":")+1:])
	_, err = StartEmbedded(EmbeddedOptions{Port: port})
	if !errors.Is(err, ErrPortTaken) || !strings.Contains(err.Error(), "-embedded-port 0") {
		t.Fatalf("second broker on a taken port: %v", err)
	}
}

func TestConnectRefusesBadAddresses(t *testing.T) {
	for _, addrs := range [][]string{nil, {"no-port"}, {"host:1", "::bad"}} {
		if _, err := Connect(addrs); err == nil {
			t.Errorf("Connect(%q) accepted", addrs)
		}
	}
}
