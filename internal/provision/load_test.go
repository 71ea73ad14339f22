package provision_test

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestFullRunNamesLatestRevocation: a full run keeps of a person's ended grants only the one
// that ended last per group, and the removal it plans still names that grant, not an earlier
// revocation of the same access, nor drift.
func TestFullRunNamesLatestRevocation(t *testing.T) {
	for _, engine := range []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}} {
		t.Run(engine.name, func(t *testing.T) {
			t.Parallel()
			testFullRunNamesLatestRevocation(t, engine.open(t))
		})
	}
}

func testFullRunNamesLatestRevocation(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, rec, dir := fakeFixture(t, st)
	now := time.Now().UTC().Truncate(time.Second)
	clock := func() time.Time { return now }
	rec.Now = clock
	svc := service.New(st, service.Options{Now: clock})
	p := service.SystemPrincipal("test")
	if run, err := rec.Reconcile(ctx, "app", provision.RunOptions{Cause: "test"}); err != nil || run.Planned != 9 {
		t.Fatalf("first load = %+v, %v", run, err)
	}
	u1, err := st.GetIdentity(ctx, "u1@example.com")
	if err != nil {
		t.Fatal(err)
	}
	// u1's birthright to eng is revoked, granted again, and revoked again a minute later; the
	// account is then put back in the group by hand before anybody reconciles.
	revoke := func() string {
		t.Helper()
		gs, err := st.ListGrants(ctx, gatehouse.GrantFilter{IdentityID: u1.ID, System: "app", Status: "active"})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gs.Items {
			if g.EntitlementID == "app/eng" {
				if _, err := svc.RevokeGrant(ctx, p, g.ID, "test"); err != nil {
					t.Fatal(err)
				}
				return g.ID
			}
		}
		t.Fatal("u1 holds no active eng grant")
		return ""
	}
	first := revoke()
	if run, err := rec.Reconcile(ctx, "app", provision.RunOptions{Cause: "test"}); err != nil || run.Planned != 1 {
		t.Fatalf("run after the first revocation = %+v, %v", run, err)
	}
	now = now.Add(time.Minute)
	if _, err := svc.CreateGrant(ctx, p, service.NewGrant{Identity: u1.ID, Entitlement: "app/eng", Reference: "INC-7",
		Reason: "back on the team"}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	second := revoke()
	ref := dir.accounts
	var acct string
	for id, a := range ref {
		if a.Username == "u1" {
			acct = id
		}
	}
	if err := dir.AddMember(ctx, "eng", connector.AccountRef{ID: acct}); err != nil {
		t.Fatal(err)
	}

	run, err := rec.Reconcile(ctx, "app", provision.RunOptions{Cause: "test"})
	if err != nil || run.Planned != 1 || len(run.Findings) != 0 {
		t.Fatalf("run = %+v, %v: want one removal and no drift", run, err)
	}
	ops, err := st.ListOperations(ctx, gatehouse.OperationFilter{ReconcileID: run.ID})
	if err != nil || len(ops.Items) != 1 {
		t.Fatalf("operations = %+v, %v", ops.Items, err)
	}
	o := ops.Items[0]
	if o.Kind != string(provision.OpRemoveMember) || o.Username != "u1" || o.Group != "eng" {
		t.Fatalf("operation = %+v, want u1 removed from eng", o)
	}
	if o.Cause != provision.GrantCause(second) || !o.RequestedAt.Equal(now) {
		t.Fatalf("removal caused by %s at %s, want %s (the latest revocation, at %s; the first was %s)",
			o.Cause, o.RequestedAt, provision.GrantCause(second), now, first)
	}
}
