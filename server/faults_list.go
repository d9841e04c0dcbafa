package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons"
)

// faultsList answers GET /api/faults.
func (a *app) faultsList(c echo.Context) error {
	return c.JSON(http.StatusOK, lessons.Faults())
}
