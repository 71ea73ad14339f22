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
	var q gatehouse.ConfirmationQuery
	if err := decodeQuery(r, &q); err != nil {
		return err
	}
	page, err := a.svc.ListConfirmations(r.Context(), principal(r), q.ConfirmationFilter, q.Mine)
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
