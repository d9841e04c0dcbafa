package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons"
)

// guaranteesList answers GET /api/guarantees.
func (a *app) guaranteesList(c echo.Context) error {
	return c.JSON(http.StatusOK, lessons.Guarantees())
}
