package main

import (
	"bytes"
	"net/http"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/text"
	"github.com/kafka-delivery-lab/lab/views"
)

// langCookie remembers the language a visitor chose with ?lang=.
const langCookie = "lang"

// render writes a templ component as the response. The page is rendered
// into a buffer first: once the status is written a failed render could
// only truncate a 200, while this way its error reaches the error handler,
// which answers 500.
func render(c echo.Context, status int, t templ.Component) error {
	var buf bytes.Buffer
	if err := t.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// lang picks the page language: ?lang= (remembered in a cookie), then the
// cookie, then Accept-Language.
func lang(c echo.Context) text.Lang {
	if l, ok := text.Parse(c.QueryParam("lang")); ok {
		c.SetCookie(&http.Cookie{Name: langCookie, Value: string(l), Path: "/", MaxAge: int((365 * 24 * time.Hour).Seconds()),
			SameSite: http.SameSiteLaxMode, HttpOnly: true})
		return l
	}
	if ck, err := c.Cookie(langCookie); err == nil {
		if l, ok := text.Parse(ck.Value); ok {
			return l
		}
	}
	return text.FromAcceptLanguage(c.Request().Header.Get("Accept-Language"))
}

// page fills in what every page's layout needs.
func (a *app) page(c echo.Context, title string) views.Page {
	l := lang(c)
	return views.Page{
		Lang: l, Title: l.T(title), Path: c.Request().URL.Path,
		BrokerMode: string(a.broker.Mode()), BrokerAddrs: a.broker.Addrs(),
		BrokerUp:   a.brokerUp(c.Request().Context()),
		Cluster:    a.clusterView(c.Request().Context()),
		Guarantees: lessons.Guarantees(),
		Catalog:    pageCatalog,
	}
}
