package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/fleet"
	"github.com/kafka-delivery-lab/lab/lessons/runs"
)

// Runs is what the handlers need of the lab's runs: start them, and find
// them by id or join code. The handlers declare it, so that they depend on
// these methods and not on how runs.Registry keeps its runs (and a
// test may hand them any registry that answers these).
type Runs interface {
	// Start starts or queues one run, or returns a *runs.FieldError,
	// runs.ErrBusy, runs.ErrQueueFull, runs.ErrFairShare or
	// runs.ErrClosed.
	Start(req runs.Request) (*runs.Run, error)
	// Compare starts or queues one run per guarantee under the same
	// fault, all or none, for client.
	Compare(fault lessons.FaultID, messages *int, client string) (map[lessons.GuaranteeID]*runs.Run, error)
	Get(id string) (*runs.Run, bool)
	Join(code string) (*runs.Run, bool)
	// List is every run the lab keeps, on every instance.
	List() []*runs.Run
}

// run finds the run named by the path's {id}.
func (a *app) run(c echo.Context) (*runs.Run, error) {
	r, ok := a.runs.Get(c.Param("id"))
	if !ok {
		return nil, &apiError{Status: http.StatusNotFound, Msg: "no run with that id: runs are kept for 10 minutes after they end", Field: "id"}
	}
	return r, nil
}

// sharedRuns are the runs of every lab instance on one Kafka cluster:
// this instance's from its registry, the others' from their mirrors
// (lessons/fleet). A new run always starts here.
type sharedRuns struct {
	*runs.Registry
	fleet *fleet.Fleet
}

func (s sharedRuns) Get(id string) (*runs.Run, bool) {
	if r, ok := s.Registry.Get(id); ok {
		return r, true
	}
	return s.fleet.Get(id)
}

func (s sharedRuns) List() []*runs.Run {
	return append(s.Registry.List(), s.fleet.List()...)
}

func (s sharedRuns) Join(code string) (*runs.Run, bool) {
	if r, ok := s.Registry.Join(code); ok {
		return r, true
	}
	return s.fleet.Join(code)
}
