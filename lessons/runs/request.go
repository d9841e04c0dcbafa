package runs

import (
	"github.com/kafka-delivery-lab/lab/lessons"
)

// Request asks for one run: the run's parameters, checked by
// lessons.RunParams.Validate, and how it is driven. Zero values take the
// documented defaults.
type Request struct {
	lessons.RunParams
	// Seed is accepted as the original API showed it, and changes nothing:
	// a run's fault strikes at its middle deposit, every time.
	Seed      int64 `json:"seed"`
	Presenter bool  `json:"presenter"`
	// StartPaused starts the run paused, so a step-through begins at the
	// first deposit.
	StartPaused bool `json:"start_paused"`
	// Client is who asks (the HTTP client's address), for the queue's
	// fair share; never read from a request body.
	Client string `json:"-"`
}
