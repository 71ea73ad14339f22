package api

import (
	"net/http"

	"github.com/gatehouse/gatehouse"
)

// decideConfirmationRequest is the optional body of confirm and revoke.
type decideConfirmationRequest struct {
	Comment string `json:"comment,omitempty"`
}

func (a *api) listConfirmations(w http.ResponseWriter, r *http.Request) error {
	q := queryOf(r)
	page, err := a.svc.ListConfirmations(r.Context(), principal(r), gatehouse.ConfirmationFilter{
		Status: gatehouse.ConfirmationStatus(q.str("status")), ManagerID: q.str("manager_id"),
		IdentityID: q.str("identity_id"), Limit: q.int("limit"), Cursor: q.str("cursor"),
	}, q.bool("mine"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(page))
}

func (a *api) getConfirmation(w http.ResponseWriter, r *http.Request) error {
	c, err := a.svc.GetConfirmation(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

// readComment reads the optional {"comment"} body of confirm and revoke.
func readComment(r *http.Request) (string, error) {
	var in decideConfirmationRequest
	if r.ContentLength == 0 {
		return "", nil
	}
	err := decodeJSON(r, &in)
	return in.Comment, err
}

func (a *api) confirmConfirmation(w http.ResponseWriter, r *http.Request) error {
	comment, err := readComment(r)
	if err != nil {
		return err
	}
	c, err := a.svc.ConfirmConfirmation(r.Context(), principal(r), r.PathValue("id"), comment)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (a *api) revokeConfirmation(w http.ResponseWriter, r *http.Request) error {
	comment, err := readComment(r)
	if err != nil {
		return err
	}
	c, err := a.svc.RevokeConfirmation(r.Context(), principal(r), r.PathValue("id"), comment)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}
