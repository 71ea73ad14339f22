package api

// Systems' health: the connector test and the provisioning status of one system.

import "net/http"

func (a *api) testSystem(w http.ResponseWriter, r *http.Request) error {
	res, err := a.svc.TestSystem(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

func (a *api) systemStatus(w http.ResponseWriter, r *http.Request) error {
	st, err := a.svc.SystemStatus(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}
