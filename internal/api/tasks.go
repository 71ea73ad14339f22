package api

// Manual fulfillment tasks.

import (
	"net/http"

	"github.com/gatehouse/gatehouse/internal/service"
)

func (a *api) listTasks(w http.ResponseWriter, r *http.Request) error {
	var q service.TaskQuery
	if err := decodeQuery(r, &q); err != nil {
		return err
	}
	list, err := a.svc.ListTasks(r.Context(), principal(r), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

func (a *api) getTask(w http.ResponseWriter, r *http.Request) error {
	t, err := a.svc.GetTask(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (a *api) completeTask(w http.ResponseWriter, r *http.Request) error {
	var in service.TaskCompletion
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	t, err := a.svc.CompleteTask(r.Context(), principal(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}
