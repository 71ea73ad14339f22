package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Attacks by the people who run Gatehouse on the controls of items 1 to 6, found after those
// controls were built. Each is refused now, on both databases.

// TestOperatorCannotDelegateApprovalsToThemselves: an operator may record a delegation for
// someone who is away, but not hand someone else's approvals to themselves. Before, an operator
// made the security approver's (and a manager's) approvals their own and decided the security
// step of a request alone, a power the catalog gives to named people only.
func TestOperatorCannotDelegateApprovalsToThemselves(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, f *fixture) {
		ends := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
		for _, from := range []string{"sec@example.com", "mgr@example.com"} {
			forbiddenSaying(t, must(t, f.as(t, "operator", "POST", "/api/v1/delegations",
				`{"from":"`+from+`","to":"operator@example.com","ends_at":"`+ends+`","reason":"cover"}`), http.StatusForbidden),
				"to yourself")
			forbiddenSaying(t, must(t, f.as(t, "admin", "POST", "/api/v1/delegations",
				`{"from":"`+from+`","to":"admin@example.com","ends_at":"`+ends+`","reason":"cover"}`), http.StatusForbidden),
				"to yourself")
		}
		r := f.submit(t, "ben", `{"entitlement":"tools/pair","justification":"`+justification+`"}`)
		forbiddenSaying(t, f.approve(t, "operator", r.Ref, http.StatusForbidden), "not one of its approvers")

		// What stays allowed: one's own approvals to someone; an operator recording a delegation
		// between two other people.
		must(t, f.as(t, "sec", "POST", "/api/v1/delegations", `{"to":"operator@example.com","ends_at":"`+ends+`","reason":"away"}`), http.StatusCreated)
		must(t, f.as(t, "operator", "POST", "/api/v1/delegations",
			`{"from":"mgr@example.com","to":"own@example.com","ends_at":"`+ends+`","reason":"mgr is away"}`), http.StatusCreated)
		var done gatehouse.AccessRequest
		f.approve(t, "operator", r.Ref, http.StatusOK).json(t, &done)
		if done.Steps[0].Decision != gatehouse.DecisionApproved {
			t.Errorf("security step %+v; want approved by sec's own delegate", done.Steps[0])
		}
	})
}
