package web_test

import (
	"net/http"
	"testing"
)

// TestListPagesTakeTheAPIsFilters: a list page reads its filter with the API's decoder, so it
// takes every parameter GET /api/v1/identities takes (manager_id here, which the page's form
// does not show) and refuses an ill-formed one, naming it, as the API does.
func TestListPagesTakeTheAPIsFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	res, body := f.get(t, "auditor", "/identities?manager_id=E001")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "alice@example.com", "1 identity match")
	wantNotContains(t, body, "bob@example.com")

	res, body = f.get(t, "auditor", "/identities?limit=ten")
	wantStatus(t, res, body, http.StatusBadRequest)
	wantContains(t, body, "Limit: ", "is not a whole number")

	res, body = f.get(t, "auditor", "/catalog/entitlements?requestable=maybe")
	wantStatus(t, res, body, http.StatusBadRequest)
	wantContains(t, body, "Requestable: ", "is not true or false")
}
