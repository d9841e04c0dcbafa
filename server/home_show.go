package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/views"
)

// homeShow answers GET /.
func (a *app) homeShow(c echo.Context) error {
	p := a.page(c, "home.title")
	l, err := a.lessons.Load("home", p.Lang)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Home(p, homeTable, l.Sections, homeI18N[p.Lang]))
}

// homeTable is the home page's comparison: each guarantee's strict preset
// under each injectable fault, as the claim table states and the pipeline
// tests measure it.
var homeTable = func() views.HomeTable {
	t := views.HomeTable{Faults: injectableFaults()}
	for _, g := range lessons.Guarantees() {
		row := views.HomeRow{Guarantee: g}
		for _, f := range t.Faults {
			c, _ := lessons.LookupClaim(g.ID, lessons.Strict, f.ID)
			row.Claims = append(row.Claims, c)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}()
