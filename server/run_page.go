package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons/text"
	"github.com/kafka-delivery-lab/lab/views"
)

// runPage answers GET /runs/{id}: the run, live. ?presenter=1 gives the
// projector view; the controls appear only in a browser holding the token.
func (a *app) runPage(c echo.Context) error {
	r, err := a.run(c)
	if err != nil {
		return err
	}
	p := a.page(c, "watch.title")
	st := r.Status()
	w := views.Watch{
		RunID: r.ID, Title: text.Named(p.Lang, string(st.Guarantee)) + " · " + text.Named(p.Lang, string(st.Preset)) + " · " + text.Named(p.Lang, string(st.Fault)),
		Presenter: c.QueryParam("presenter") == "1", I18N: scriptI18N[p.Lang], Faults: injectableFaults(),
		JoinCode: r.JoinCode(), Join: st.Join,
	}
	return render(c, http.StatusOK, views.WatchPage(p, w))
}
