package api

// Manual fulfillment tasks.

import (
	"net/http"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

func (a *api) listTasks(w http.ResponseWriter, r *http.Request) error {
	q := queryOf(r)
	list, err := a.svc.ListTasks(r.Context(), principal(r), service.TaskQuery{
		SystemID: q.str("system"),
		Status:   gatehouse.TaskStatus(q.str("status")),
		Overdue:  q.bool("overdue"),
		Limit:    q.int("limit"),
		Cursor:   q.str("cursor"),
	})
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
