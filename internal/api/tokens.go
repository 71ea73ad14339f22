package api

import (
	"net/http"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

func (a *api) listTokens(w http.ResponseWriter, r *http.Request) error {
	var f gatehouse.TokenFilter
	if err := decodeQuery(r, &f); err != nil {
		return err
	}
	list, err := a.svc.ListTokens(r.Context(), principal(r), f.IdentityID, f.IncludeRevoked)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(list))
}

func (a *api) createToken(w http.ResponseWriter, r *http.Request) error {
	var in service.TokenRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	nt, err := in.NewToken()
	if err != nil {
		return err
	}
	out, err := a.svc.CreateToken(r.Context(), principal(r), nt)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (a *api) revokeToken(w http.ResponseWriter, r *http.Request) error {
	t, err := a.svc.RevokeToken(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}
