package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/pipeline"
	"github.com/kafka-delivery-lab/lab/lessons/runs"
)

// apiError is the body of every error response (API.md): a sentence that
// says what to do, and the input at fault if there is one.
type apiError struct {
	Status int    `json:"-"`
	Msg    string `json:"error"`
	Field  string `json:"field,omitempty"`
}

func (e *apiError) Error() string { return e.Msg }

func badRequest(field, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...), Field: field}
}

// handleError answers every failed request with a JSON error. Anything that
// is not an *apiError or an echo error is a bug: it is logged and answered
// with a 500 that leaks nothing.
func (a *app) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var ae *apiError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &he):
		ae = &apiError{Status: he.Code, Msg: httpErrorText(he)}
	default:
		ae = runsError(err)
		switch {
		case ae == nil:
			c.Logger().Error(err)
			ae = &apiError{Status: http.StatusInternalServerError, Msg: "something went wrong inside the lab; the error has been logged"}
		case ae.Status == http.StatusTooManyRequests && errors.Is(err, runs.ErrBusy):
			c.Response().Header().Set("Retry-After", strconv.Itoa(retryAfter))
		case ae.Status == http.StatusTooManyRequests:
			c.Response().Header().Set("Retry-After", strconv.Itoa(retryAfterQueue))
		}
	}
	_ = c.JSON(ae.Status, ae)
}

// retryAfter is a fair guess at when a run slot frees up, in seconds.
const retryAfter = 5

// retryAfterQueue is a fair guess, in seconds, at when a full queue has
// room again: a queue of lesson runs drains in tens of seconds.
const retryAfterQueue = 30

// bearerHint tells an HTTP client how to present a run's control token:
// the domain's refusal says only that the token is needed.
const bearerHint = ": send it as Authorization: Bearer <token>"

// runsError maps the run registry's refusals to HTTP, or returns nil: a
// bad field 400, no control token 403, an action the run's state does not
// allow or a cluster fault without the cluster it needs 409, all slots taken and no room in the queue 429 (handleError adds Retry-After), shutting
// down 503, no answer in time from the instance that owns the run 504. It adds what only HTTP can say, such as where the token goes.
func runsError(err error) *apiError {
	var fe *lessons.FieldError
	switch {
	case errors.As(err, &fe):
		return &apiError{Status: http.StatusBadRequest, Msg: fe.Msg, Field: fe.Field}
	case errors.Is(err, runs.ErrForbidden):
		return &apiError{Status: http.StatusForbidden, Msg: err.Error() + bearerHint}
	case errors.Is(err, runs.ErrFinished), errors.Is(err, runs.ErrNotPaused), errors.Is(err, runs.ErrQueued), errors.Is(err, runs.ErrNoRoom), errors.Is(err, pipeline.ErrNeedsCluster):
		return &apiError{Status: http.StatusConflict, Msg: err.Error()}
	case errors.Is(err, runs.ErrBusy), errors.Is(err, runs.ErrQueueFull), errors.Is(err, runs.ErrFairShare):
		return &apiError{Status: http.StatusTooManyRequests, Msg: err.Error()}
	case errors.Is(err, runs.ErrClosed):
		return &apiError{Status: http.StatusServiceUnavailable, Msg: err.Error()}
	case errors.Is(err, runs.ErrNoAnswer):
		return &apiError{Status: http.StatusGatewayTimeout, Msg: err.Error()}
	}
	return nil
}

// errorText is the sentence a client is told of a failed request: the
// HTTP answer's, so that a control refused over the websocket reads as it
// does from POST /api/runs/{id}/control.
func errorText(err error) string {
	if ae := runsError(err); ae != nil {
		return ae.Msg
	}
	return err.Error()
}

func httpErrorText(he *echo.HTTPError) string {
	switch he.Code {
	case http.StatusNotFound:
		return "no such page or endpoint: see / for the lessons and API.md for the API"
	case http.StatusMethodNotAllowed:
		return "this endpoint does not take that method"
	}
	if m, ok := he.Message.(string); ok {
		return m
	}
	return http.StatusText(he.Code)
}

// decodeJSON reads exactly one JSON object into v, refusing unknown fields,
// wrong types and trailing data, with an error that names the field. Field
// names are exact: encoding/json would also take "Guarantee" for
// "guarantee" and keep the last of a repeated field, which the API does not.
func decodeJSON(c echo.Context, v any) error {
	var read bytes.Buffer // what the decoder read: the whole body once it saw EOF
	dec := json.NewDecoder(io.TeeReader(c.Request().Body, &read))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(err)
		}
		return badRequest("", "the body has data after its JSON object: send exactly one object")
	}
	return exactFields(read.Bytes(), v)
}

// exactFields refuses a key of body's object that matches none of v's
// fields exactly, or that comes twice. body is known to be one valid JSON
// value that decoded into v.
func exactFields(body []byte, v any) error {
	var names []string
	if t := reflect.TypeOf(v); t != nil && t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct {
		for _, f := range reflect.VisibleFields(t.Elem()) {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.IsExported() && !f.Anonymous && name != "-" {
				names = append(names, cmp.Or(name, f.Name))
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil // null
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		key, _ := tok.(string)
		switch {
		case !slices.Contains(names, key):
			for _, n := range names {
				if strings.EqualFold(n, key) {
					return badRequest(key, "unknown field %s: field names are exact, did you mean %q? (see API.md for the fields)", strconv.Quote(key), n)
				}
			}
			return badRequest(key, "unknown field %s: remove it (see API.md for the fields)", strconv.Quote(key))
		case seen[key]:
			return badRequest(key, "field %s appears more than once: send it once", strconv.Quote(key))
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil
		}
	}
	return nil
}

// bodyKey is a decoder's field path as the body spells it: the fields of
// an embedded struct (runs.Request embeds lessons.RunParams) are the
// body's own keys, but the decoder names them through the Go field
// ("RunParams.guarantee").
func bodyKey(path string) string {
	parts := strings.Split(path, ".")
	kept := parts[:0]
	for _, p := range parts {
		if p != "" && !unicode.IsUpper(rune(p[0])) {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, ".")
}

func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return &apiError{Status: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("the body is larger than %d KiB: send a small JSON object", maxBody>>10)}
	case errors.Is(err, io.EOF):
		return badRequest("", "the body is empty: send a JSON object")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("", "the body is not valid JSON: send one JSON object, e.g. {\"guarantee\":\"at-least-once\",\"fault\":\"none\"}")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("", "the body must be a JSON object")
		}
		want := typ.Type.String()
		switch typ.Type.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			want = "a whole number"
		case reflect.String: // the IDs too
			want = "a string"
		case reflect.Bool:
			want = "true or false"
		}
		field := bodyKey(typ.Field)
		return badRequest(field, "%s must be %s", field, want)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		// The decoder quotes the key Go-style: unquote it, so that field
		// is the key as the body has it, even one with a quote in it.
		field, uerr := strconv.Unquote(name)
		if uerr != nil {
			field = strings.Trim(name, `"`)
		}
		return badRequest(field, "unknown field %s: remove it (see API.md for the fields)", name)
	}
	return badRequest("", "the body could not be read as JSON: %s", err)
}
