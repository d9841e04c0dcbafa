package main

import (
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// hosts is what the lab answers to: loopback names with any port, and the
// host of its public URL when it is deployed (-public-url). A request
// naming any other Host is refused, so that a page the learner visits
// cannot reach the lab by DNS rebinding (its own name, resolved to
// 127.0.0.1): the browser then sends that name as Host.
type hosts struct {
	public *url.URL // nil: loopback only
}

// serves reports whether the lab answers to the Host header h.
func (hs hosts) serves(h string) bool {
	name := h
	if host, _, err := net.SplitHostPort(h); err == nil {
		name = host
	}
	name = strings.ToLower(strings.TrimSuffix(strings.Trim(name, "[]"), "."))
	switch name {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return hs.public != nil && strings.EqualFold(h, hs.public.Host)
}

// sameOrigin reports whether origin (an Origin header) is the lab's own:
// the request's Host, or the public URL's scheme and host (behind a proxy
// that passes on another Host).
func (hs hosts) sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false // "null" from a sandboxed frame or a file: page
	}
	if strings.EqualFold(u.Host, host) {
		return true
	}
	return hs.public != nil && strings.EqualFold(u.Scheme, hs.public.Scheme) && strings.EqualFold(u.Host, hs.public.Host)
}

// guard refuses what a hostile page can make a learner's browser send:
//
//   - a Host the lab does not serve (DNS rebinding): 421;
//   - a state-changing request from another site, by its Origin or its
//     Sec-Fetch-Site: 403;
//   - a state-changing request whose body is not declared JSON: 415. A
//     cross-site form or a fetch with Content-Type text/plain needs no
//     CORS preflight, so without this check it would reach the handler.
//
// It runs before routing, so it covers the websocket upgrade too (whose
// own origin check stays with the upgrader).
func (a *app) guard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r, hs := c.Request(), a.hosts
		if !hs.serves(r.Host) {
			return &apiError{Status: http.StatusMisdirectedRequest, Msg: "this lab does not answer to the host name " + quoteHost(r.Host) + ": open it by its own address (localhost or 127.0.0.1), or start it with -public-url set to the address it is served at"}
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if o := r.Header.Get("Origin"); o != "" && !hs.sameOrigin(o, r.Host) {
			return &apiError{Status: http.StatusForbidden, Msg: "a page from another site cannot drive this lab: open the lab itself and use it there"}
		}
		if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
			return &apiError{Status: http.StatusForbidden, Msg: "a page from another site cannot drive this lab: open the lab itself and use it there"}
		}
		if r.Method == http.MethodDelete && r.ContentLength == 0 {
			return next(c) // a DELETE without a body: it is never a simple request
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			return &apiError{Status: http.StatusUnsupportedMediaType, Msg: "send the body as JSON with the header Content-Type: application/json"}
		}
		return next(c)
	}
}

// quoteHost quotes a Host header for an error sentence, cut short: it is
// the client's input.
func quoteHost(h string) string {
	if len(h) > 64 {
		h = h[:64] + "…"
	}
	return `"` + strings.ToValidUTF8(h, "?") + `"`
}

// parsePublicURL checks -public-url: an absolute http or https URL with a
// host and nothing after it.
func parsePublicURL(s string) (*url.URL, bool) {
	u, err := url.Parse(strings.TrimSuffix(s, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, false
	}
	u.Host = strings.ToLower(u.Host)
	return u, true
}
