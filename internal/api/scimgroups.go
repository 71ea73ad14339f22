package api

// SCIM groups, read-only: they are written by identity sources over SCIM (/scim/v2), and
// reviewed here.

import (
	"net/http"

	"github.com/gatehouse/gatehouse"
)

func (a *api) listSCIMGroups(w http.ResponseWriter, r *http.Request) error {
	var f gatehouse.SCIMGroupFilter
	if err := decodeQuery(r, &f); err != nil {
		return err
	}
	page, err := a.svc.ListSCIMGroups(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(page))
}

func (a *api) getSCIMGroup(w http.ResponseWriter, r *http.Request) error {
	g, err := a.svc.GetSCIMGroup(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, g)
}
