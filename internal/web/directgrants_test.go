package web_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// TestEntitlementPageShowsDirectGrants: the entitlement page lists its active direct grants with
// who granted them and why, for readers; an employee does not see them.
func TestEntitlementPageShowsDirectGrants(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	admin := f.ids["admin"]
	p := &gatehouse.Principal{IdentityID: admin.ID, Email: admin.Email, Roles: admin.Roles}
	if _, err := f.svc.CreateGrant(context.Background(), p, service.NewGrant{Identity: f.ids["bob"].Email,
		Entitlement: "corp-ldap/domain-admins", Reference: "CHG-4711", Reason: "Quarterly domain controller patching"}); err != nil {
		t.Fatal(err)
	}
	res, body := f.get(t, "auditor", "/catalog/entitlements/corp-ldap/domain-admins")
	wantStatus(t, res, body, http.StatusOK)
	direct := section(t, body, `id="direct-title"`, "</section>")
	wantContains(t, direct, "Direct grants", "Bob Berg", "it@example.com", "Quarterly domain controller patching", "CHG-4711",
		"Alice Anders", "system:test", "test fixture", "INC-7")
	res, body = f.get(t, "alice", "/catalog/entitlements/corp-ldap/domain-admins")
	wantStatus(t, res, body, http.StatusOK)
	wantNotContains(t, body, "Direct grants", "Quarterly domain controller patching")
}
