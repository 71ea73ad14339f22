package api

import (
	"net/http"

	"github.com/gatehouse/gatehouse"
)

func (a *api) listAuditEvents(w http.ResponseWriter, r *http.Request) error {
	var f gatehouse.AuditFilter
	if err := decodeQuery(r, &f); err != nil {
		return err
	}
	page, err := a.svc.ListAuditEvents(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(page))
}

// verifyAudit answers 200 whether or not the chain is intact: a broken chain is a finding about
// the data, not a failed request, and the body says where it breaks.
func (a *api) verifyAudit(w http.ResponseWriter, r *http.Request) error {
	v, err := a.svc.VerifyAudit(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

// createCheckpoint signs a checkpoint of the audit chain's head now and answers it; the server
// also writes it to its checkpoint directory (and webhook) as every checkpoint. 409 when the
// server has no audit key, or when the chain head is behind the newest checkpoint.
func (a *api) createCheckpoint(w http.ResponseWriter, r *http.Request) error {
	c, err := a.svc.Checkpoint(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, c)
}
