package api

import (
	"net/http"
	"net/url"

	"github.com/gatehouse/gatehouse"
)

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
