package web

import (
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/urlquery"
)

// formLimit bounds a form post that is not a file upload; every form's text fits (a
// justification is at most gatehouse.MaxReasonLength characters).
const formLimit = 64 << 10

// checkInput refuses a page request whose path values or query parameters hold a NUL byte or
// bytes that are not UTF-8, naming the parameter (a 400 page). PostgreSQL refuses such bytes
// and nobody means them; the service refuses control characters and over-long text where they
// make no sense. Form fields are checked by checkForm.
func checkInput(r *http.Request) error {
	// The pattern's wildcards ("GET /identities/{id}") name the path values.
	for _, seg := range strings.Split(r.Pattern, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := strings.TrimSuffix(strings.Trim(seg, "{}"), "...")
			if name == "$" {
				continue
			}
			if err := gatehouse.CheckBytes(name, r.PathValue(name)); err != nil {
				return err
			}
		}
	}
	return checkValues(r.URL.Query())
}

// checkForm does the same for the fields of a form post, once the post is known to come from
// Gatehouse's own pages. A file upload (multipart) is checked by the parser of its content.
func checkForm(w http.ResponseWriter, r *http.Request) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, formLimit)
	if err := r.ParseForm(); err != nil {
		return gatehouse.Errorf(gatehouse.EINVALID, "the form could not be read (at most %d KiB)", formLimit>>10)
	}
	return checkValues(r.PostForm)
}

// decodeFilter reads a list page's filter from its query with the decoder the API uses
// (package urlquery), so a page's link and the API's list route take the same parameters.
// Values are trimmed first: they come from a person typing in a search box.
func decodeFilter(q url.Values, dst any) error {
	trimmed := url.Values{}
	for name, vs := range q {
		for _, v := range vs {
			trimmed.Add(name, strings.TrimSpace(v))
		}
	}
	return urlquery.Decode(trimmed, dst)
}

func checkValues(vals url.Values) error {
	for name, vs := range vals {
		if err := gatehouse.CheckBytes("field name", name); err != nil {
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
