package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons/clients"
	"github.com/kafka-delivery-lab/lab/views"
)

// clientsShow answers GET /clients: the measured client matrix, from the
// committed lessons/clients/matrix.json.
func (a *app) clientsShow(c echo.Context) error {
	m, err := clients.Load()
	if err != nil {
		return err
	}
	p := a.page(c, "clients.title")
	return render(c, http.StatusOK, views.ClientsPage(p, m))
}
