package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/urlquery"
)

// A request's input, read in one place: path values and query parameters are checked against
// the route table before a handler runs, and JSON bodies are decoded strictly. Responses are
// written by writeJSON and writeError (errors.go).

// paramKind is the type of a query parameter.
type paramKind int

const (
	kindString paramKind = iota
	kindInt
	kindBool
	kindTime // RFC 3339
)

// param is one query parameter of a route. The route table's params are both documented in the
// OpenAPI document and enforced by checkQuery, so a handler reads only values that are known to
// be well formed.
type param struct {
	name     string
	kind     paramKind
	enum     []string // allowed values of a string parameter; nil: any
	min, max int      // bounds of an int parameter
	desc     string
}

// checkQuery refuses a query with an unknown, repeated or ill-formed parameter, naming it. A
// misspelt filter (?departmnet=) silently ignored would return everything, which is worse than
// an error.
func checkQuery(r *http.Request, rt *route) error {
	if r.URL.RawQuery == "" {
		return nil
	}
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return gatehouse.Errorf(gatehouse.EINVALID, "query: %v", err)
	}
	for name, vs := range vals {
		i := slices.IndexFunc(rt.query, func(p param) bool { return p.name == name })
		if i < 0 {
			if len(rt.query) == 0 {
				return gatehouse.Errorf(gatehouse.EINVALID, "query parameter %q: %s %s takes no query parameters", name, rt.method, rt.path)
			}
			known := make([]string, len(rt.query))
			for j, p := range rt.query {
				known[j] = p.name
			}
			return gatehouse.Errorf(gatehouse.EINVALID, "query parameter %q is not known here; known: %s", name, strings.Join(known, ", "))
		}
		if len(vs) > 1 {
			return gatehouse.Errorf(gatehouse.EINVALID, "query parameter %q is given %d times; give it once", name, len(vs))
		}
		if err := rt.query[i].check(vs[0]); err != nil {
			return err
		}
	}
	return nil
}

func (p param) check(v string) error {
	switch p.kind {
	case kindInt:
		n, err := strconv.Atoi(v)
		if err != nil {
			return gatehouse.Errorf(gatehouse.EINVALID, "%s: %q is not a whole number", p.name, v)
		}
		if n < p.min || n > p.max {
			return gatehouse.Errorf(gatehouse.EINVALID, "%s: %d is outside %d..%d", p.name, n, p.min, p.max)
		}
	case kindBool:
		if v != "true" && v != "false" {
			return gatehouse.Errorf(gatehouse.EINVALID, "%s: %q is not true or false", p.name, v)
		}
	case kindTime:
		if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
			return gatehouse.Errorf(gatehouse.EINVALID, "%s: %q is not an RFC 3339 time (example: 2026-01-31T09:00:00Z)", p.name, v)
		}
	default:
		if p.enum != nil && !slices.Contains(p.enum, v) {
			return gatehouse.Errorf(gatehouse.EINVALID, "%s: %q is not one of %s", p.name, v, strings.Join(p.enum, ", "))
		}
	}
	return nil
}

// decodeQuery reads a list route's filter from the query (checked by checkQuery already) with
// the one codec the client encodes it with.
func decodeQuery(r *http.Request, dst any) error {
	return urlquery.Decode(r.URL.Query(), dst)
}

// decodeJSON reads the request body into v. Unknown fields are refused (a misspelt field must
// not be silently dropped), and so is anything after the JSON value.
func decodeJSON(r *http.Request, v any) error {
	// The body is bounded (endpoint), so it is read whole: NULs and bytes that are not UTF-8
	// are refused by the raw bytes, since the decoder would silently replace them.
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyError(err)
	}
	if err := gatehouse.CheckJSON(raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return gatehouse.Errorf(gatehouse.EINVALID, "body: unexpected data after the JSON object")
	}
	return nil
}

// bodyError turns a JSON decoding error into a message that says what is wrong and where.
func bodyError(err error) error {
	var (
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
		tooBig   *http.MaxBytesError
		appError *gatehouse.Error
	)
	switch {
	case errors.As(err, &tooBig):
		return err // answered by writeError with the limit
	case errors.Is(err, io.EOF):
		return gatehouse.Errorf(gatehouse.EINVALID, "body: a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return gatehouse.Errorf(gatehouse.EINVALID, "body: the JSON ends too early")
	case errors.As(err, &syntax):
		return gatehouse.Errorf(gatehouse.EINVALID, "body: invalid JSON at byte %d: %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return gatehouse.Errorf(gatehouse.EINVALID, "body: must be a JSON object, not %s", typ.Value)
		}
		return gatehouse.Errorf(gatehouse.EINVALID, "%s: expected %s, got %s", field, jsonTypeName(typ.Type), typ.Value)
	case errors.As(err, &appError):
		return gatehouse.Errorf(gatehouse.EINVALID, "body: %s", appError.Message)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no error type for this one; its text is stable since Go 1.10.
		return gatehouse.Errorf(gatehouse.EINVALID, "body: unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return gatehouse.Errorf(gatehouse.EINVALID, "body: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonTypeName says in JSON words what a Go type expects.
func jsonTypeName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[gatehouse.Duration]() {
		return "a duration string such as \"8h\" or \"30d\""
	}
	if t == reflect.TypeFor[time.Time]() {
		return "an RFC 3339 time string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another type"
}

// checkInput refuses a request whose path values or query parameters hold a NUL byte or bytes
// that are not UTF-8, naming the parameter. Such bytes are never meant: PostgreSQL refuses
// them (a 500 instead of a 400), SQLite would store them, and a terminal or log that shows them
// can be fooled. JSON bodies are checked by decodeJSON, the HR feed by package jml, and the
// domain validation refuses control characters where they make no sense.
func checkInput(r *http.Request, rt *route) error {
	for _, name := range rt.pathParams() {
		if err := gatehouse.CheckBytes(name, r.PathValue(name)); err != nil {
			return err
		}
	}
	if r.URL.RawQuery == "" {
		return nil
	}
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil // checkQuery says what is wrong
	}
	for name, vs := range vals {
		if err := gatehouse.CheckBytes("query parameter name", name); err != nil {
			return err
		}
		for _, v := range vs {
			if err := gatehouse.CheckBytes(name, v); err != nil {
				return err
			}
		}
	}
	return nil
}
