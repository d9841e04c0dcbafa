package main

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/runs"
)

// runSummary is one run in GET /api/runs: enough to pick it and open it.
// Its join code and token are left out: a list anyone can read must not
// hand a presenter's class to strangers.
type runSummary struct {
	ID        string              `json:"id"`
	Guarantee lessons.GuaranteeID `json:"guarantee"`
	Preset    lessons.PresetID    `json:"preset"`
	Fault     lessons.FaultID     `json:"fault"`
	Messages  int                 `json:"messages"`
	State     runs.State          `json:"state"`
	Presenter bool                `json:"presenter"`
	Instance  string              `json:"instance,omitempty"`
	URL       string              `json:"url"`
}

// runsList answers GET /api/runs: every run the lab keeps, on every
// instance that shares its Kafka cluster, unfinished first, then by id.
// Bounded by what the registries keep (Config.MaxKept finished runs per
// instance, and the queue's bound).
func (a *app) runsList(c echo.Context) error {
	all := a.runs.List()
	out := make([]runSummary, 0, len(all))
	for _, r := range all {
		st := r.Status()
		out = append(out, runSummary{ID: st.ID, Guarantee: st.Guarantee, Preset: st.Preset, Fault: st.Fault, Messages: st.Messages,
			State: st.State, Presenter: st.Presenter, Instance: st.Instance, URL: "/runs/" + st.ID})
	}
	ended := func(s runs.State) bool { return s == runs.Done || s == runs.Failed }
	slices.SortFunc(out, func(x, y runSummary) int {
		if ex, ey := ended(x.State), ended(y.State); ex != ey {
			if ex {
				return 1
			}
			return -1
		}
		return cmp.Compare(x.ID, y.ID)
	})
	return c.JSON(http.StatusOK, map[string]any{"runs": out})
}
