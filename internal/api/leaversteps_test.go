package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// TestLeaverComesOffPendingSteps: ben's request waits for his manager, who is then terminated.
// The step does not wait for an escalation: in the terminating transaction it falls to the system
// owner, saying why, who may decide it; the leaver's old token decides nothing.
func TestLeaverComesOffPendingSteps(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, f *fixture) {
		r := f.submit(t, "ben", `{"entitlement":"tools/deploy","justification":"`+justification+`"}`)
		if got := strings.Join(r.Steps[0].Approvers, ","); got != f.ids["mgr"].ID {
			t.Fatalf("manager step asks %s, want mgr", got)
		}
		must(t, f.as(t, "admin", "PATCH", "/api/v1/identities/mgr@example.com",
			`{"status":"terminated","end_date":"2026-01-31","reason":"HR-77: resigned"}`), http.StatusOK)

		var got gatehouse.AccessRequest
		must(t, f.as(t, "admin", "GET", "/api/v1/requests/"+r.Ref, ""), http.StatusOK).json(t, &got)
		st := got.Steps[0]
		if strings.Join(st.Approvers, ",") != f.ids["admin"].ID {
			t.Fatalf("manager step now asks %v, want the system owner admin", st.Emails)
		}
		for _, want := range []string{"at termination: mgr@example.com left (terminated)", "so it goes to the owner of system tools"} {
			if !strings.Contains(st.Why, want) {
				t.Errorf("step why %q; want it to say %q", st.Why, want)
			}
		}
		if last := got.Events[len(got.Events)-1]; last.Kind != "rerouted:manager" {
			t.Errorf("last timeline event %q, want rerouted:manager", last.Kind)
		}
		if a := f.as(t, "mgr", "POST", "/api/v1/requests/"+r.Ref+"/approve", `{"comment":"ok"}`); a.status != http.StatusUnauthorized {
			t.Errorf("the leaver's token decided a step: %d", a.status)
		}
		f.approve(t, "admin", r.Ref, http.StatusOK)
		var ev struct {
			Items []gatehouse.AuditEvent `json:"items"`
		}
		must(t, f.as(t, "auditor", "GET", "/api/v1/audit/events?action=request.reroute", ""), http.StatusOK).json(t, &ev)
		if len(ev.Items) != 1 || ev.Items[0].Reference != r.Ref && !strings.Contains(string(ev.Items[0].After), r.Ref) {
			t.Errorf("request.reroute events %+v, want one for %s", ev.Items, r.Ref)
		}
		must(t, f.as(t, "auditor", "GET", "/api/v1/audit/verify", ""), http.StatusOK)
	})
}
