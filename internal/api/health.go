package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gatehouse/gatehouse"
)

// statusAnswer is the body of the health routes.
type statusAnswer struct {
	Status string `json:"status"`
}

// healthz says the process serves requests. It deliberately checks nothing else: a liveness
// probe that fails when the database is down would make an orchestrator restart healthy
// replicas in a loop.
func (a *api) healthz(w http.ResponseWriter, _ *http.Request) error {
	return writeJSON(w, http.StatusOK, statusAnswer{Status: "ok"})
}

// readyz says the replica can do useful work: its database answers a ping in time and, after
// a write failed because the database was full or read-only, takes writes again (the store
// then probes with a committed write, and says "database is full" or "database is read-only").
func (a *api) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), a.opts.ReadyTimeout)
	defer cancel()
	if err := a.svc.Store().Ping(ctx); err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.EUNAVAILABLE {
			return err // a write fault: its message says which, the log gets the cause
		}
		// The joined error carries a safe message for the caller and the cause for the log.
		return errors.Join(
			gatehouse.Errorf(gatehouse.EUNAVAILABLE, "the database does not answer"),
			fmt.Errorf("ping %s: %w", a.svc.Store().Engine(), err))
	}
	return writeJSON(w, http.StatusOK, statusAnswer{Status: "ready"})
}
