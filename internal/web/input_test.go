package web_test

import (
	"net/http"
	"net/url"
	"testing"
)

// TestWebBadBytes: a form post, query parameter or path value with a NUL byte or bytes that
// are not UTF-8 gets a 400 page naming the field; nothing is submitted.
func TestWebBadBytes(t *testing.T) {
	t.Parallel()
	f := newRequestFixture(t)
	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"NUL in the justification", url.Values{"op": {"submit"}, "entitlement": {"erp/invoices-read"}, "justification": {goodWhy + "\x00"}}, "Justification: contains a NUL byte."},
		{"invalid UTF-8 in the entitlement", url.Values{"op": {"submit"}, "entitlement": {"erp/\xff"}, "justification": {goodWhy}}, "Entitlement: is not valid UTF-8."},
	} {
		res, body := f.post(t, "alice", "/requests/new", tc.form)
		wantStatus(t, res, body, http.StatusBadRequest)
		wantContains(t, body, tc.want)
	}
	res, body := f.get(t, "alice", "/requests/new?q=a%00b")
	wantStatus(t, res, body, http.StatusBadRequest)
	wantContains(t, body, "Q: contains a NUL byte.")
	res, body = f.get(t, "alice", "/requests/REQ%ff")
	wantStatus(t, res, body, http.StatusBadRequest)
	wantContains(t, body, "Ref: is not valid UTF-8.")
	_, body = f.get(t, "alice", "/requests")
	wantNotContains(t, body, "REQ-")
}
