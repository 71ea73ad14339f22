package api

import (
	"net/http"

	"github.com/gatehouse/gatehouse/internal/service"
)

// listSoDViolations answers the detective SoD report: everyone who holds a conflicting pair
// today. It is one list with its counts, not paged: the report is computed over all active
// grants in one pass, and a page of it would cost the same as the whole.
func (a *api) listSoDViolations(w http.ResponseWriter, r *http.Request) error {
	var f service.SoDViolationFilter
	if err := decodeQuery(r, &f); err != nil {
		return err
	}
	rep, err := a.svc.SoDViolations(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}
