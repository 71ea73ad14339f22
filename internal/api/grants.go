package api

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

type revokeGrantRequest struct {
	Reason string `json:"reason"`
}

func (a *api) listGrants(w http.ResponseWriter, r *http.Request) error {
	var q gatehouse.GrantQuery
	if err := decodeQuery(r, &q); err != nil {
		return err
	}
	var page gatehouse.Page[*gatehouse.Grant]
	var err error
	if q.Expiring != 0 {
		page, err = a.svc.ListExpiringGrants(r.Context(), principal(r), q.GrantFilter, time.Duration(q.Expiring))
	} else {
		page, err = a.svc.ListGrants(r.Context(), principal(r), q.GrantFilter)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(page))
}

func (a *api) createGrant(w http.ResponseWriter, r *http.Request) error {
	var in service.NewGrant
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	g, err := a.svc.CreateGrant(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/grants/"+g.ID)
	return writeJSON(w, http.StatusCreated, g)
}

func (a *api) getGrant(w http.ResponseWriter, r *http.Request) error {
	g, err := a.svc.GetGrant(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, g)
}

func (a *api) revokeGrant(w http.ResponseWriter, r *http.Request) error {
	var in revokeGrantRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	g, err := a.svc.RevokeGrant(r.Context(), principal(r), r.PathValue("id"), in.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, g)
}

// listAccounts lives with grants: accounts are the observed side of what grants desire.
func (a *api) listAccounts(w http.ResponseWriter, r *http.Request) error {
	var f gatehouse.AccountFilter
	if err := decodeQuery(r, &f); err != nil {
		return err
	}
	page, err := a.svc.ListAccounts(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(page))
}
