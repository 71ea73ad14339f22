package api

// The exceptions register (service/exceptions.go).

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

func (a *api) createException(w http.ResponseWriter, r *http.Request) error {
	var in service.NewException
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	e, err := a.svc.CreateException(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/exceptions/"+e.Ref)
	return writeJSON(w, http.StatusCreated, e)
}

func (a *api) listExceptions(w http.ResponseWriter, r *http.Request) error {
	var in service.ExceptionQuery
	if err := decodeQuery(r, &in); err != nil {
		return err
	}
	page, err := a.svc.ListExceptions(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(page))
}

func (a *api) getException(w http.ResponseWriter, r *http.Request) error {
	e, err := a.svc.GetException(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, e)
}

func (a *api) approveException(w http.ResponseWriter, r *http.Request) error {
	return a.decideException(w, r, a.svc.ApproveException)
}

func (a *api) rejectException(w http.ResponseWriter, r *http.Request) error {
	return a.decideException(w, r, a.svc.RejectException)
}

func (a *api) revokeException(w http.ResponseWriter, r *http.Request) error {
	return a.decideException(w, r, a.svc.RevokeException)
}

func (a *api) decideException(w http.ResponseWriter, r *http.Request,
	decide func(ctx context.Context, p *gatehouse.Principal, id string, d service.ExceptionDecision) (*gatehouse.Exception, error)) error {
	var d service.ExceptionDecision
	if err := decodeJSON(r, &d); err != nil {
		return err
	}
	e, err := decide(r.Context(), principal(r), r.PathValue("id"), d)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, e)
}
