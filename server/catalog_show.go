package main

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// catalogShow answers GET /api/catalog: guarantees, faults, recipes, the
// claim table and the run limits, as one document.
func (a *app) catalogShow(c echo.Context) error {
	return c.JSONBlob(http.StatusOK, []byte(catalogJSON))
}
