package api

// Provisioning: reconcile, its jobs, operations and drift.

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// reconcileRequest is the body of POST /api/v1/reconcile.
type reconcileRequest struct {
	System string `json:"system,omitempty"` // a system id; "" for every system
}

func (a *api) reconcile(w http.ResponseWriter, r *http.Request) error {
	var in reconcileRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	st, err := a.svc.Reconcile(r.Context(), principal(r), in.System)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

func (a *api) reconcileJobs(w http.ResponseWriter, r *http.Request) error {
	var ids []int64
	for _, s := range strings.Split(r.URL.Query().Get("ids"), ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return gatehouse.Errorf(gatehouse.EINVALID, "ids: %q is not a job id", s)
		}
		ids = append(ids, id)
	}
	st, err := a.svc.ReconcileJobs(r.Context(), principal(r), ids)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

func (a *api) listOperations(w http.ResponseWriter, r *http.Request) error {
	var f gatehouse.OperationFilter
	if err := decodeQuery(r, &f); err != nil {
		return err
	}
	page, err := a.svc.ListOperations(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(page))
}

func (a *api) drift(w http.ResponseWriter, r *http.Request) error {
	runs, err := a.svc.Drift(r.Context(), principal(r), r.URL.Query().Get("system"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(runs))
}
