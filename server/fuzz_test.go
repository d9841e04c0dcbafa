package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/pipeline"
	"github.com/kafka-delivery-lab/lab/lessons/runs"
)

// Top-level fields of the two request bodies (API.md, "Runs").
var (
	runFields     = []string{"guarantee", "preset", "fault", "messages", "pace_ms", "seed", "presenter", "start_paused"}
	compareFields = []string{"fault", "messages"}
)

// FuzzRunRequest feeds arbitrary bodies to POST /api/runs and POST
// /api/compare through the real app and checks what API.md promises for
// any input: a 201, 400, 413 or 429, never a 5xx (a panic would be one:
// the app recovers into a 500); a JSON answer, and for a 4xx a JSON object
// with an "error" sentence and a "field", if any, that the body really has;
// a 413 only for a body over the limit; and a request is accepted only if
// its body is one JSON object whose keys are documented fields, each once,
// spelt exactly.
//
// The registry allows one run at a time and a paused one-deposit run holds
// that slot, so a valid body is answered 429 after full validation and
// fuzzing starts no runs. Should the slot free up (the paused run reaches
// its deadline), a run a body starts is paused at once and holds it.
//
//	go test -run XXX -fuzz FuzzRunRequest -fuzztime 60s ./server/
func FuzzRunRequest(f *testing.F) {
	reg := runs.New(pipeline.Env{Brokers: testBroker.Addrs(), Admin: testBroker.Admin(), Tuning: pipeline.DefaultTuning()},
		runs.Config{MaxConcurrent: 1})
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = reg.Shutdown(ctx)
	})
	one := 1
	if _, err := reg.Start(runs.Request{RunParams: lessons.RunParams{Guarantee: lessons.AtMostOnce, Fault: lessons.NoFault, Messages: &one}, StartPaused: true}); err != nil {
		f.Fatal(err)
	}
	a := newApp(testBroker, reg, testLessons)

	for _, body := range []string{
		// TestBadInput's bodies.
		`{"fault":"none"}`,
		`{"guarantee":"at-most-once"}`,
		`{"guarantee":"at-most-once","fault":"none","colour":"red"}`,
		`{"guarantee":"twice","fault":"none"}`,
		`{"guarantee":"at-most-once","preset":"loose","fault":"none"}`,
		`{"guarantee":"at-most-once","fault":"meteor"}`,
		`{"guarantee":"at-most-once","fault":"none","messages":0}`,
		`{"guarantee":"at-most-once","fault":"none","messages":-1}`,
		`{"guarantee":"at-most-once","fault":"none","messages":1000000000}`,
		`{"guarantee":"at-most-once","fault":"none","messages":1e30}`,
		`{"guarantee":"at-most-once","fault":"none","messages":"abc"}`,
		`{"guarantee":"at-most-once","fault":"none","messages":1.5}`,
		`{"guarantee":"at-most-once","fault":"none","pace_ms":-5}`,
		`{"guarantee":"at-most-once","fault":"none","pace_ms":5001}`,
		`{"guarantee":7,"fault":"none"}`,
		`{"guarantee":`,
		`[1,2]`,
		`{"guarantee":"at-most-once","fault":"none"} x`,
		`{"guarantee":"at-most-once","fault":"none"}{}`,
		``,
		`{}`,
		`{"fault":"meteor"}`,
		`{"fault":"none","messages":0}`,
		`{"fault":"none","guarantee":"x"}`,
		// Valid bodies (answered 429: the slot is taken).
		`{"guarantee":"at-least-once","preset":"strict","fault":"produce-ack-lost","messages":1000,"pace_ms":0,"seed":42}`,
		`{"guarantee":"exactly-once","preset":"common","fault":"processor-crash","messages":1,"presenter":true,"start_paused":true}`,
		`{"fault":"produce-request-lost","messages":10}`,
		` {"guarantee":"at-most-once","fault":"none","messages":null,"pace_ms":null} ` + "\n",
		// Edges of the decoder.
		`null`, `"x"`, `1`, `true`, `{"seed":1e400}`, `{"seed":-9223372036854775809}`, `{"presenter":"yes"}`,
		`{"guarantee":"\u0061t-most-once","fault":"none"}`, `{"\u0066ault":"none"}`, `{"a\"b":1}`, `{"\u00ff":1}`,
		`{"GUARANTEE":"at-most-once","Fault":"none"}`, `{"fault":"none","fault":"none"}`,
		`{"guarantee":"at-most-once","fault":"none","messages":{"n":1}}`, "\xff\xfe{}",
		// No body over the 64 KiB limit here (TestBadInput sends one): the
		// fuzzer would spend its time minimizing its mutations.
	} {
		f.Add(false, []byte(body))
		f.Add(true, []byte(body))
	}

	f.Fuzz(func(t *testing.T, compare bool, body []byte) {
		path, fields := "/api/runs", runFields
		if compare {
			path, fields = "/api/compare", compareFields
		}
		req := labRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)

		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("POST %s %q → %d %s: "+format, append([]any{path, body, rec.Code, rec.Body}, args...)...)
		}
		switch rec.Code {
		case http.StatusCreated, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		default:
			fail("want 201, 400, 413 or 429")
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			fail("Content-Type %q, want JSON", ct)
		}
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out == nil {
			fail("the answer is not a JSON object: %v", err)
		}

		accepted := rec.Code == http.StatusCreated || rec.Code == http.StatusTooManyRequests
		if accepted {
			keys, ok := objectKeys(body)
			if !ok {
				fail("accepted a body that is not one JSON object")
			}
			seen := map[string]bool{}
			for _, k := range keys {
				if !slices.Contains(fields, k) {
					fail("accepted field %q: not one of %v (names are case-sensitive)", k, fields)
				}
				if seen[k] {
					fail("accepted field %q twice", k)
				}
				seen[k] = true
			}
		}
		switch rec.Code {
		case http.StatusCreated:
			// The slot was free: hold it with this run, paused.
			ids := []string{}
			if id, ok := out["id"].(string); ok {
				ids = append(ids, id)
			}
			if m, ok := out["runs"].(map[string]any); ok {
				for _, id := range m {
					if s, ok := id.(string); ok {
						ids = append(ids, s)
					}
				}
			}
			if len(ids) == 0 {
				fail("a 201 without the run's id")
			}
			for _, id := range ids {
				r, ok := reg.Get(id)
				if !ok {
					fail("run %s is not in the registry", id)
				}
				r.Pipeline.Pacer.Pause()
			}
			return
		case http.StatusTooManyRequests:
			if rec.Header().Get("Retry-After") == "" {
				fail("a 429 without Retry-After")
			}
		case http.StatusRequestEntityTooLarge:
			if len(body) <= maxBody {
				fail("413 for a body of %d bytes, within the %d-byte limit", len(body), maxBody)
			}
		}
		msg, _ := out["error"].(string)
		if len(strings.TrimSpace(msg)) < 10 {
			fail("want an error sentence")
		}
		field, isString := out["field"].(string)
		if _, present := out["field"]; present && !isString {
			fail("field is not a string")
		}
		if field != "" && !slices.Contains(fields, field) {
			keys, _ := objectKeys(body)
			if !slices.Contains(keys, field) {
				fail("field %q is neither a documented field nor a key of the body %q", field, keys)
			}
		}
	})
}

// objectKeys returns the keys of the top-level object the body starts with,
// decoded, in order, duplicates included; false if the body is not one JSON
// object with nothing but white space after it.
func objectKeys(body []byte) ([]string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return keys, false
		}
		k, ok := tok.(string)
		if !ok {
			return keys, false
		}
		keys = append(keys, k)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return keys, false
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return keys, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return keys, false
	}
	return keys, true
}
