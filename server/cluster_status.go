package main

import (
	"context"
	"sync"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons/cluster"
	"github.com/kafka-delivery-lab/lab/views"
)

// clusterStatus is the owned cluster's status for pages, cached as
// brokerUp caches reachability: a page shows an answer of at most
// brokerCheckEvery ago, and only the first page waits for one (while a
// leader-crash has two brokers paused, an answer takes up to 2 s).
type clusterStatus struct {
	mu sync.Mutex
	at time.Time
	st cluster.Status
}

func (a *app) clusterView(ctx context.Context) []views.ClusterBroker {
	if a.cluster == nil {
		return nil
	}
	cs := &a.clusterStatus
	cs.mu.Lock()
	switch {
	case cs.at.IsZero():
		cs.st, cs.at = a.cluster.Status(ctx), time.Now()
	case time.Since(cs.at) > brokerCheckEvery:
		cs.at = time.Now() // one check at a time
		go func() {
			st := a.cluster.Status(context.Background())
			cs.mu.Lock()
			cs.st, cs.at = st, time.Now()
			cs.mu.Unlock()
		}()
	}
	st := cs.st
	cs.mu.Unlock()
	out := make([]views.ClusterBroker, len(st.Brokers))
	for i, b := range st.Brokers {
		out[i] = views.ClusterBroker{ID: int(b.ID), Addr: b.Addr, State: string(b.State), Up: b.Up, Controller: b.ID == st.Controller}
	}
	return out
}
