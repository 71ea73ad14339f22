package api

import (
	"net/http"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// Emergency (break-glass) access: designated operators grant at once; readers follow the
// post-event reviews; operators and security approvers other than the granter complete them.

func (a *api) grantEmergency(w http.ResponseWriter, r *http.Request) error {
	var in service.NewEmergencyGrant
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	out, err := a.svc.GrantEmergency(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/emergency/reviews/"+out.Review.Ref)
	return writeJSON(w, http.StatusCreated, out)
}

func (a *api) listEmergencyReviews(w http.ResponseWriter, r *http.Request) error {
	var f gatehouse.EmergencyReviewFilter
	if err := decodeQuery(r, &f); err != nil {
		return err
	}
	out, err := a.svc.ListEmergencyReviews(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *api) getEmergencyReview(w http.ResponseWriter, r *http.Request) error {
	out, err := a.svc.GetEmergencyReview(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *api) completeEmergencyReview(w http.ResponseWriter, r *http.Request) error {
	var in service.EmergencyReviewCompletion
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	out, err := a.svc.CompleteEmergencyReview(r.Context(), principal(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}
