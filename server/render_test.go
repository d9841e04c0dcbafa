package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// TestFailedRenderIs500: a component that fails half-way gives a 500 from
// the error handler, never the half it wrote under a 200.
func TestFailedRenderIs500(t *testing.T) {
	a, _ := newTestApp(t, 1)
	broken := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, _ = io.WriteString(w, "<p>half a page")
		return errors.New("the template broke")
	})
	a.GET("/broken", func(c echo.Context) error { return render(c, http.StatusOK, broken) })
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, labRequest("GET", "/broken", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500: %s", rec.Code, rec.Body)
	}
	if body := rec.Body.String(); strings.Contains(body, "half a page") {
		t.Fatalf("the failed render's output was sent: %s", body)
	}
}
