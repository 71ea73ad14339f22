package provision_test

import (
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestServiceStatesChanges: what the service's writers state, beyond TestTriggerTargets: a
// time-bound grant reconciles its system for its person and schedules its expiry; the sweep
// that ends it deprovisions it, for that person; a termination by hand reconciles every
// system, deprovisioning, for the leaver; a held HR import changed nothing and asks for
// nothing.
func TestServiceStatesChanges(t *testing.T) {
	st := storetest.OpenSQLite(t)
	ctx := t.Context()
	q := &recordingQueue{}
	svc := service.New(st, service.Options{Jobs: q})
	p := service.SystemPrincipal("test")
	if _, err := svc.CreateIdentity(ctx, p, &gatehouse.Identity{Email: "owner@example.com", Kind: gatehouse.KindService}, "test"); err != nil {
		t.Fatal(err)
	}
	guarded := "settings: {leaver_guard: {max_fraction: 0.01, min_count: 1}}\n" + fakeCatalog
	if _, err := svc.ApplyCatalog(ctx, p, []catalog.File{{Name: "c.yaml", Content: []byte(guarded)}}, false, "test"); err != nil {
		t.Fatal(err)
	}
	if e := q.last(t); !e.all || e.cause != provision.CauseCatalog || e.identities != nil {
		t.Fatalf("catalog apply enqueued %+v", e)
	}
	rows := hrHeader + hrRow(1, "Eng", "active") + hrRow(2, "Eng", "active") + hrRow(3, "Sales", "active")
	res, err := svc.ImportHR(ctx, p, "hr.csv", []byte(rows), false)
	if err != nil || res.Import.Status != gatehouse.ImportApplied {
		t.Fatalf("import: %+v, %v", res, err)
	}
	if e := q.last(t); !e.all || !e.deprovision || e.cause != provision.HRImportCause(res.Import.ID) {
		t.Fatalf("import enqueued %+v", e)
	}
	p3, err := st.GetIdentity(ctx, "p3@example.com")
	if err != nil {
		t.Fatal(err)
	}

	g, err := svc.CreateGrant(ctx, p, service.NewGrant{Identity: p3.ID, Entitlement: "app/eng", Reference: "INC-1",
		Duration: gatehouse.Duration(time.Hour), Reason: "a short task"})
	if err != nil {
		t.Fatal(err)
	}
	if e := q.last(t); e.all || e.deprovision || !slices.Equal(e.systems, []string{"app"}) || !slices.Equal(e.identities, []string{p3.ID}) ||
		e.cause != provision.GrantCause(g.ID) {
		t.Fatalf("time-bound grant enqueued %+v", e)
	}
	if len(q.expiries) != 1 || !q.expiries[0].Equal(*g.ExpiresAt) {
		t.Fatalf("expiries scheduled %v, want %s", q.expiries, g.ExpiresAt)
	}
	if n, err := svc.ExpireGrants(ctx, g.ExpiresAt.Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("expire = %d, %v", n, err)
	}
	if e := q.last(t); !e.deprovision || !slices.Equal(e.systems, []string{"app"}) || !slices.Equal(e.identities, []string{p3.ID}) {
		t.Fatalf("expiry enqueued %+v, want app deprovisioned for p3", e)
	}

	terminated := gatehouse.StatusTerminated
	p2, err := svc.UpdateIdentity(ctx, p, "p2@example.com", service.IdentityPatch{Status: &terminated}, "left")
	if err != nil {
		t.Fatal(err)
	}
	if e := q.last(t); !e.all || !e.deprovision || !slices.Equal(e.identities, []string{p2.ID}) {
		t.Fatalf("termination by hand enqueued %+v, want every system deprovisioned for p2", e)
	}

	held, err := svc.ImportHR(ctx, p, "hr.csv", []byte(hrHeader+hrRow(1, "Eng", "terminated")+hrRow(3, "Sales", "terminated")), false)
	if err != nil || held.Import.Status != gatehouse.ImportHeld {
		t.Fatalf("guarded import: %+v, %v", held, err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.calls) != 0 {
		t.Errorf("a held import enqueued %+v, want nothing (it changed nothing)", q.calls)
	}
}
