package api

import (
	"net/http"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// requestDecision is the body of approve, deny, return and cancel: a comment (required to deny
// or return; the requester reads it).
type requestDecision struct {
	Comment string `json:"comment,omitempty"`
}

// resubmitBody is the body of resubmit: the new justification.
type resubmitBody struct {
	Justification string `json:"justification"`
}

func (a *api) createRequest(w http.ResponseWriter, r *http.Request) error {
	var in service.NewRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	req, err := a.svc.CreateRequest(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/requests/"+req.Ref)
	return writeJSON(w, http.StatusCreated, req)
}

func (a *api) previewRequest(w http.ResponseWriter, r *http.Request) error {
	var in service.NewRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	pv, err := a.svc.PreviewRequest(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pv)
}

func (a *api) listRequests(w http.ResponseWriter, r *http.Request) error {
	var q gatehouse.RequestQuery
	if err := decodeQuery(r, &q); err != nil {
		return err
	}
	page, err := a.svc.ListRequests(r.Context(), principal(r), service.RequestView(q.View), q.RequestFilter)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(page))
}

func (a *api) getRequest(w http.ResponseWriter, r *http.Request) error {
	req, err := a.svc.GetRequest(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, req)
}

// readRequestComment reads the optional {"comment"} body.
func readRequestComment(r *http.Request) (string, error) {
	var in requestDecision
	if r.ContentLength == 0 {
		return "", nil
	}
	err := decodeJSON(r, &in)
	return in.Comment, err
}

// decideRequestWith adapts a service decision to a handler.
func decideRequestWith(call func(s *service.Service) func(r *http.Request, p *gatehouse.Principal, id, comment string) (*gatehouse.AccessRequest, error)) func(a *api, w http.ResponseWriter, r *http.Request) error {
	return func(a *api, w http.ResponseWriter, r *http.Request) error {
		comment, err := readRequestComment(r)
		if err != nil {
			return err
		}
		req, err := call(a.svc)(r, principal(r), r.PathValue("id"), comment)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, req)
	}
}

var (
	approveRequestHandler = decideRequestWith(func(s *service.Service) func(*http.Request, *gatehouse.Principal, string, string) (*gatehouse.AccessRequest, error) {
		return func(r *http.Request, p *gatehouse.Principal, id, c string) (*gatehouse.AccessRequest, error) {
			return s.ApproveRequest(r.Context(), p, id, c)
		}
	})
	denyRequestHandler = decideRequestWith(func(s *service.Service) func(*http.Request, *gatehouse.Principal, string, string) (*gatehouse.AccessRequest, error) {
		return func(r *http.Request, p *gatehouse.Principal, id, c string) (*gatehouse.AccessRequest, error) {
			return s.DenyRequest(r.Context(), p, id, c)
		}
	})
	returnRequestHandler = decideRequestWith(func(s *service.Service) func(*http.Request, *gatehouse.Principal, string, string) (*gatehouse.AccessRequest, error) {
		return func(r *http.Request, p *gatehouse.Principal, id, c string) (*gatehouse.AccessRequest, error) {
			return s.ReturnRequest(r.Context(), p, id, c)
		}
	})
	cancelRequestHandler = decideRequestWith(func(s *service.Service) func(*http.Request, *gatehouse.Principal, string, string) (*gatehouse.AccessRequest, error) {
		return func(r *http.Request, p *gatehouse.Principal, id, c string) (*gatehouse.AccessRequest, error) {
			return s.CancelRequest(r.Context(), p, id, c)
		}
	})
)

func (a *api) resubmitRequest(w http.ResponseWriter, r *http.Request) error {
	var in resubmitBody
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	req, err := a.svc.ResubmitRequest(r.Context(), principal(r), r.PathValue("id"), in.Justification)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, req)
}

func (a *api) createDelegation(w http.ResponseWriter, r *http.Request) error {
	var in service.NewDelegation
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	d, err := a.svc.SetDelegation(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, d)
}
