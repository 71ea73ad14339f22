package web_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// seedProvisioning records what the provisioning engine would: a converged run of corp-ldap
// with one applied operation and drift findings, and a failed run of erp with a failed
// operation. The engine is not the UI's to run, so the evidence goes straight into the store.
func (f *fixture) seedProvisioning(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	alice := f.ids["alice"]
	now := time.Now().UTC().Truncate(time.Second)
	done := now.Add(1500 * time.Millisecond)
	err := f.svc.Store().Update(ctx, func(tx store.Tx) error {
		ldap := &gatehouse.Reconcile{SystemID: "corp-ldap", Cause: "hr-import:imp-1", StartedAt: now, Status: gatehouse.ReconcileRunning}
		erp := &gatehouse.Reconcile{SystemID: "erp", Cause: "schedule", StartedAt: now, Status: gatehouse.ReconcileRunning}
		for _, r := range []*gatehouse.Reconcile{ldap, erp} {
			if err := tx.CreateReconcile(ctx, r); err != nil {
				return err
			}
		}
		ops := []*gatehouse.Operation{
			{ReconcileID: ldap.ID, SystemID: "corp-ldap", Kind: "add_member", IdentityID: alice.ID, Username: "alice", Group: "cn=engineering,ou=groups,dc=example,dc=com",
				Cause: "hr-import:imp-1", RequestedAt: now, Status: gatehouse.OpApplied, FinishedAt: &done, Attempts: 1},
			{ReconcileID: erp.ID, SystemID: "erp", Kind: "create_account", IdentityID: f.ids["bob"].ID, Username: "bob",
				Cause: "grant:g-7", RequestedAt: now, Status: gatehouse.OpFailed, FinishedAt: &done, Attempts: 3, Error: "erp: connection refused"},
		}
		if err := tx.CreateOperations(ctx, ops); err != nil {
			return err
		}
		for _, op := range ops {
			if err := tx.UpdateOperation(ctx, op); err != nil {
				return err
			}
		}
		ldap.Status, ldap.FinishedAt, ldap.Planned, ldap.Applied = gatehouse.ReconcileConverged, &done, 1, 1
		ldap.Findings = []gatehouse.DriftFinding{
			{Kind: "unexpected_member", SystemID: "corp-ldap", IdentityID: alice.ID, Username: "alice", Group: "cn=domain-admins,ou=groups,dc=example,dc=com", Action: "enforce", Detail: "a membership nobody granted"},
			{Kind: "orphan_account", SystemID: "corp-ldap", Account: "uid=ghost,ou=people,dc=example,dc=com", Username: "ghost", Action: "report", Detail: "an account with no identity"},
		}
		erp.Status, erp.FinishedAt, erp.Planned, erp.Failed, erp.Error = gatehouse.ReconcileFailed, &done, 1, 1, "1 operation failed"
		for _, r := range []*gatehouse.Reconcile{ldap, erp} {
			if err := tx.UpdateReconcile(ctx, r); err != nil {
				return err
			}
		}
		// Every transaction is audited, as the engine's are.
		return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "system:reconciler", Action: "reconcile.finish", ObjectType: "reconcile", ObjectID: ldap.ID})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOperationsPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	res, body := f.get(t, "auditor", "/operations")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "No operations yet")

	f.seedProvisioning(t)
	res, body = f.get(t, "auditor", "/operations")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "add_member", "create_account", "Corporate Directory", "Finance ERP", "op-applied", "op-failed",
		"cn=engineering,ou=groups,dc=example,dc=com", `href="/hr/imports/imp-1"`, "grant:g-7", "after 1.5s",
		"erp: connection refused", "attempt 3", `href="/identities/`+f.ids["alice"].ID+`"`, `aria-current="page">Provisioning`)

	res, body = f.get(t, "auditor", "/operations?status=failed")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "create_account", "connection refused")
	wantNotContains(t, body, "add_member")

	res, body = f.get(t, "auditor", "/operations?system=corp-ldap")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "add_member")
	wantNotContains(t, body, "create_account")

	res, body = f.get(t, "auditor", "/operations?status=exploded")
	wantStatus(t, res, body, http.StatusBadRequest)

	res, body = f.get(t, "alice", "/operations")
	wantStatus(t, res, body, http.StatusForbidden)
	wantContains(t, body, "auditor, operator or admin role to see provisioning")
	wantNotContains(t, body, "add_member", `href="/operations"`)
}

func TestDriftPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	res, body := f.get(t, "auditor", "/drift")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "No finished reconcile")

	f.seedProvisioning(t)
	res, body = f.get(t, "auditor", "/drift")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "Corporate Directory", "rec-converged", "2 findings", "unexpected_member", "drift-enforce",
		"cn=domain-admins,ou=groups,dc=example,dc=com", "orphan_account", "drift-report", "ghost",
		"Finance ERP", "rec-failed", "1 operation failed", "No drift")

	res, body = f.get(t, "auditor", "/drift?system=erp")
	wantStatus(t, res, body, http.StatusOK)
	wantContains(t, body, "Finance ERP")
	wantNotContains(t, body, "unexpected_member")

	res, body = f.get(t, "auditor", "/drift?system=nope")
	wantStatus(t, res, body, http.StatusNotFound)

	res, body = f.get(t, "alice", "/drift")
	wantStatus(t, res, body, http.StatusForbidden)
}
