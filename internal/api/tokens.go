package api

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// createTokenRequest is the body of POST /api/v1/tokens. TTL is text ("720h", "30d") because
// that is what people type; service.NewToken takes a time.Duration.
type createTokenRequest struct {
	For         string   `json:"for,omitempty"` // id, email or employee_id; "" means the caller
	TTL         string   `json:"ttl,omitempty"` // default 720h
	Description string   `json:"description,omitempty"`
	Scopes      []string `json:"scopes,omitempty"`
}

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
	var in createTokenRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	var ttl time.Duration
	if in.TTL != "" {
		d, err := gatehouse.ParseDuration(in.TTL)
		if err != nil {
			return gatehouse.Errorf(gatehouse.EINVALID, "ttl: %v", err)
		}
		if d == 0 {
			return gatehouse.Errorf(gatehouse.EINVALID, "ttl: must be longer than 0s (omit it for the default %s)", service.DefaultTokenTTL)
		}
		ttl = time.Duration(d)
	}
	out, err := a.svc.CreateToken(r.Context(), principal(r), service.NewToken{
		For: in.For, TTL: ttl, Description: in.Description, Scopes: in.Scopes,
	})
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
