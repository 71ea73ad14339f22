package scimserver

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// checkInput refuses a path or query parameter holding a NUL byte or bytes that are not UTF-8
// (400 invalidValue, naming the parameter): PostgreSQL refuses them, and nobody means them.
// Bodies are checked by readBody.
func checkInput(r *http.Request) error {
	for _, seg := range strings.Split(r.URL.Path, "/") {
		if err := gatehouse.CheckBytes("id", seg); err != nil {
			return err
		}
	}
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil // the handlers say what is wrong
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
