package api

import (
	"net/http"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

type createIdentityRequest struct {
	gatehouse.Identity
	Reason string `json:"reason,omitempty"`
}

type updateIdentityRequest struct {
	service.IdentityPatch
	Reason string `json:"reason,omitempty"`
}

type setRolesRequest struct {
	// A pointer, so that a missing list is told apart from an empty one (remove all roles).
	Roles  *[]gatehouse.AccessRole `json:"roles,omitempty"`
	Reason string                  `json:"reason,omitempty"`
}

func (a *api) me(w http.ResponseWriter, r *http.Request) error {
	me, err := a.svc.Me(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, me)
}

func (a *api) listIdentities(w http.ResponseWriter, r *http.Request) error {
	var f gatehouse.IdentityFilter
	if err := decodeQuery(r, &f); err != nil {
		return err
	}
	page, err := a.svc.ListIdentities(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(page))
}

func (a *api) createIdentity(w http.ResponseWriter, r *http.Request) error {
	var in createIdentityRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	id, err := a.svc.CreateIdentity(r.Context(), principal(r), &in.Identity, in.Reason)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/identities/"+id.ID)
	return writeJSON(w, http.StatusCreated, id)
}

func (a *api) getIdentity(w http.ResponseWriter, r *http.Request) error {
	id, err := a.svc.GetIdentity(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	id.SourceName = a.svc.SourceLabel(r.Context(), id.Source) // the SCIM account's email, for people
	return writeJSON(w, http.StatusOK, id)
}

func (a *api) updateIdentity(w http.ResponseWriter, r *http.Request) error {
	var in updateIdentityRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	id, err := a.svc.UpdateIdentity(r.Context(), principal(r), r.PathValue("id"), in.IdentityPatch, in.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, id)
}

func (a *api) setRoles(w http.ResponseWriter, r *http.Request) error {
	var in setRolesRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Roles == nil {
		return gatehouse.Errorf(gatehouse.EINVALID, "roles: required; send [] to remove every role")
	}
	id, err := a.svc.SetRoles(r.Context(), principal(r), r.PathValue("id"), *in.Roles, in.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, id)
}

// nonNil makes an empty page encode as "items": [] rather than null, which clients would
// otherwise have to special-case.
func nonNil[T any](p gatehouse.Page[T]) gatehouse.Page[T] {
	if p.Items == nil {
		p.Items = []T{}
	}
	return p
}

// listOf wraps an unpaged list in the shape of a page, so every list answer looks alike.
func listOf[T any](items []T) gatehouse.Page[T] {
	return nonNil(gatehouse.Page[T]{Items: items})
}
