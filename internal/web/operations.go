package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse"
)

const forbiddenProvisioning = "You need the auditor, operator or admin role to see provisioning."

type operationsView struct {
	System, Status    string
	Filtered          bool
	Systems           []*gatehouse.System
	SystemNames       map[string]string
	Statuses          []gatehouse.OperationStatus
	Items             []*gatehouse.Operation
	NextURL, FirstURL string
}

// operations lists provisioning operations newest first: the evidence of every change made in
// a target system, filtered by system and status (failed ones, mostly).
func (h *handler) operations(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	ctx := r.Context()
	q := r.URL.Query()
	var f gatehouse.OperationFilter
	if err := decodeFilter(q, &f); err != nil {
		return err
	}
	v := operationsView{
		System:   f.SystemID,
		Status:   string(f.Status),
		Statuses: []gatehouse.OperationStatus{gatehouse.OpFailed, gatehouse.OpPending, gatehouse.OpRunning, gatehouse.OpApplied},
	}
	if v.Status != "" && !gatehouse.OperationStatus(v.Status).Valid() {
		return gatehouse.Errorf(gatehouse.EINVALID, "status %q is not one of pending, running, applied, failed", v.Status)
	}
	v.Filtered = f.SystemID != "" || f.Status != "" || f.IdentityID != "" || f.ReconcileID != ""
	f.Limit = pageSize
	page, err := h.svc.ListOperations(ctx, p, f)
	if err != nil {
		return deny(err, forbiddenProvisioning)
	}
	v.Items = page.Items
	if page.NextCursor != "" {
		v.NextURL = pageURL("/operations", q, page.NextCursor)
	}
	if f.Cursor != "" {
		v.FirstURL = pageURL("/operations", q, "")
	}
	if v.Systems, v.SystemNames, err = h.systemNames(r, p); err != nil {
		return err
	}
	h.render(w, r, p, http.StatusOK, "operations", &view{Title: "Operations", Section: "operations", Data: v})
	return nil
}

type driftView struct {
	System      string
	Systems     []*gatehouse.System
	SystemNames map[string]string
	Runs        []*gatehouse.Reconcile
	Findings    int
}

// drift shows, per system, the last finished reconcile and the differences it found between
// the target and the desired state, with whether they are repaired or only reported.
func (h *handler) drift(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	v := driftView{System: strings.TrimSpace(r.URL.Query().Get("system"))}
	runs, err := h.svc.Drift(r.Context(), p, v.System)
	if err != nil {
		return deny(err, forbiddenProvisioning)
	}
	v.Runs = runs
	for _, run := range runs {
		v.Findings += len(run.Findings)
	}
	if v.Systems, v.SystemNames, err = h.systemNames(r, p); err != nil {
		return err
	}
	h.render(w, r, p, http.StatusOK, "drift", &view{Title: "Drift", Section: "drift", Data: v})
	return nil
}

func (h *handler) systemNames(r *http.Request, p *gatehouse.Principal) ([]*gatehouse.System, map[string]string, error) {
	list, err := h.svc.ListSystems(r.Context(), p)
	if err != nil {
		return nil, nil, err
	}
	names := make(map[string]string, len(list))
	for _, s := range list {
		names[s.ID] = s.Name
	}
	return list, names, nil
}

// causeURL links an operation's cause to its page, when it has one.
func causeURL(cause string) string {
	if id, ok := strings.CutPrefix(cause, "hr-import:"); ok && id != "" {
		return "/hr/imports/" + url.PathEscape(id)
	}
	return ""
}
