package api

import (
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// TestHRProblemsInDetails: a rejected HR feed's problems are in the error's details, one object
// each with the file, line, field and reason, as a rejected catalog's are — not only in the
// message's text.
func TestHRProblemsInDetails(t *testing.T) {
	t.Parallel()
	f := newFixture(t, engines[0].open(t))
	bad := f.feed("E-bad,not-an-email,B,B,Sales,Rep,,Paris,worker,active,2024-01-02,")
	a := f.do(t, request{method: "POST", path: "/api/v1/hr/imports?dry_run=true", token: f.secrets["operator"], body: bad,
		contentType: "text/csv", header: map[string]string{"X-HR-File": "feed.csv"}})
	must(t, a, http.StatusBadRequest)
	e := a.errorOf(t)
	if e.Code != gatehouse.EINVALID {
		t.Errorf("code %q, want invalid", e.Code)
	}
	fields := map[string]bool{}
	for _, d := range e.Details {
		if d.File != "feed.csv" || d.Line != 7 || d.Message == "" {
			t.Errorf("detail %+v: want feed.csv line 7 with a reason", d)
		}
		fields[d.Field] = true
	}
	if len(e.Details) != 2 || !fields["email"] || !fields["employment_type"] {
		t.Errorf("details %+v, want email and employment_type", e.Details)
	}
}
