package api

import (
	"net/http"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// GET /api/v1/grants?expiring=: the grants in force that end within a window, for notices.
func TestListExpiringGrants(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, f *fixture) {
		body := `{"identity":"E-user","entitlement":"wiki/members","reference":"INC-8","duration":"1d","reason":"outage"}`
		var g gatehouse.Grant
		must(t, f.as(t, "operator", "POST", "/api/v1/grants", body), s201).json(t, &g)
		ids := func(caller, query string) []string {
			t.Helper()
			var page gatehouse.Page[*gatehouse.Grant]
			must(t, f.as(t, caller, "GET", "/api/v1/grants?"+query, ""), s200).json(t, &page)
			var out []string
			for _, x := range page.Items {
				if caller == "user" && x.IdentityID != f.ids["user"].ID {
					t.Errorf("user sees a grant of %s", x.IdentityID)
				}
				out = append(out, x.ID)
			}
			return out
		}
		if got := ids("auditor", "expiring=2d"); !slices.Contains(got, g.ID) {
			t.Errorf("expiring=2d: %v lacks the 1-day grant %s", got, g.ID)
		}
		if got := ids("auditor", "expiring=1h"); slices.Contains(got, g.ID) {
			t.Errorf("expiring=1h lists the 1-day grant")
		}
		if got := ids("user", "expiring=7d"); !slices.Contains(got, g.ID) {
			t.Errorf("user's expiring=7d: %v lacks their grant", got)
		}
		must(t, f.as(t, "user", "GET", "/api/v1/grants?expiring=7d&identity=other@example.com", ""), s403)
		must(t, f.as(t, "auditor", "GET", "/api/v1/grants?expiring=soon", ""), http.StatusBadRequest)
		must(t, f.as(t, "auditor", "GET", "/api/v1/grants?expiring=7d&status=revoked", ""), http.StatusBadRequest)
	})
}
