package web_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// TestIdentityManagerByEmployeeID: an identity's manager_id is an employee id, and the page
// looks it up as one. A legacy manager's employee id may be their former email, which a
// newcomer has since taken: the report's page must link the manager, not the newcomer.
func TestIdentityManagerByEmployeeID(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	sys := service.SystemPrincipal("test")
	create := func(in gatehouse.Identity) *gatehouse.Identity {
		t.Helper()
		id, err := f.svc.CreateIdentity(ctx, sys, &in, "test")
		if err != nil {
			t.Fatalf("create %s: %v", in.Email, err)
		}
		return id
	}
	mgr := create(gatehouse.Identity{EmployeeID: "lee.old@example.com", Email: "lee.new@example.com", FirstName: "Lee", LastName: "Legacy", Department: "Engineering"})
	report := create(gatehouse.Identity{EmployeeID: "E901", Email: "rae@example.com", FirstName: "Rae", LastName: "Report", Department: "Engineering", ManagerID: "lee.old@example.com"})
	newcomer := create(gatehouse.Identity{EmployeeID: "E900", Email: "lee.old@example.com", FirstName: "Neil", LastName: "Newcomer", Department: "Sales"})
	if report.ManagerID != mgr.EmployeeID {
		t.Fatalf("manager_id of the report = %q, want %q", report.ManagerID, mgr.EmployeeID)
	}

	res, body := f.get(t, "auditor", "/identities/"+report.ID)
	wantStatus(t, res, body, http.StatusOK)
	manager := section(t, body, "<dt>Manager</dt>", "</dd>")
	wantContains(t, manager, `href="/identities/`+mgr.ID+`"`, "Lee Legacy")
	wantNotContains(t, manager, newcomer.ID, "Neil Newcomer")

	// An ordinary identity sees its own manager's employee id without a link (it may not read
	// the manager's record).
	res, body = f.get(t, "alice", "/identities/"+f.ids["alice"].ID)
	wantStatus(t, res, body, http.StatusOK)
	manager = section(t, body, "<dt>Manager</dt>", "</dd>")
	wantContains(t, manager, "E001")
	wantNotContains(t, manager, "href=")
}
