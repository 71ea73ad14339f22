package sqlstore_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestMigrationPinsDesignatedPowers: migration 0015 pins the owners and approvers of a catalog
// applied before it to the identities their emails name, on both engines, as the next catalog
// apply would; an email naming nobody pins no one.
func TestMigrationPinsDesignatedPowers(t *testing.T) {
	t.Parallel()
	for _, eng := range []struct {
		name string
		open func(testing.TB) storetest.Harness
	}{{"sqlite", storetest.NewSQLite}, {"postgres", storetest.NewPostgres}} {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			h := eng.open(t)
			ctx := context.Background()
			ids := map[string]string{}
			err := h.Store.Update(ctx, func(tx store.Tx) error {
				for _, name := range []string{"sec", "ops", "own", "named"} {
					i := &gatehouse.Identity{EmployeeID: "E-" + name, Email: name + "@Example.com", Status: gatehouse.StatusActive, Kind: gatehouse.KindPerson}
					if err := tx.CreateIdentity(ctx, i); err != nil {
						return err
					}
					ids[name] = i.ID
				}
				// As stored before 0015: emails, no pins.
				if err := tx.PutSettings(ctx, gatehouse.Settings{SecurityApprovers: []string{"gone@example.com", "SEC@example.com"},
					EmergencyOperators: []string{"ops@example.com"}}); err != nil {
					return err
				}
				if err := tx.PutSystem(ctx, &gatehouse.System{ID: "app", Name: "App", Owner: "own@example.com", Tier: gatehouse.TierStandard,
					Connector: gatehouse.Connector{Type: "manual"}}); err != nil {
					return err
				}
				if err := tx.PutEntitlement(ctx, &gatehouse.Entitlement{ID: "app/x", System: "app", Name: "X", Kind: gatehouse.KindGroup,
					Risk: gatehouse.RiskStandard, Owner: "own@example.com", Approval: []string{"manager", "Named@example.com", "gone@example.com"}}); err != nil {
					return err
				}
				return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "test", Action: "test.setup", ObjectType: "catalog"})
			})
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile("migrations/" + eng.name + "/0015_designated_powers.sql")
			if err != nil {
				t.Fatal(err)
			}
			for _, stmt := range strings.Split(string(b), ";\n") {
				if i := strings.Index(stmt, "UPDATE "); i >= 0 {
					if err := h.Exec(ctx, stmt[i:]); err != nil {
						t.Fatalf("%s: %v", stmt[i:], err)
					}
				}
			}
			st, err := h.Store.GetSettings(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(st.SecurityApproverIDs, []string{"", ids["sec"]}) || !slices.Equal(st.EmergencyOperatorIDs, []string{ids["ops"]}) {
				t.Errorf("settings pins %q, %q", st.SecurityApproverIDs, st.EmergencyOperatorIDs)
			}
			if st.SecurityApprovers[1] != "SEC@example.com" || st.LeaverGuard != (gatehouse.LeaverGuard{}) {
				t.Errorf("settings changed beyond the pins: %+v", st)
			}
			sys, err := h.Store.GetSystem(ctx, "app")
			if err != nil {
				t.Fatal(err)
			}
			e, err := h.Store.GetEntitlement(ctx, "app/x")
			if err != nil {
				t.Fatal(err)
			}
			if sys.OwnerID != ids["own"] || e.OwnerID != ids["own"] || e.ApproverID("named@example.com") != ids["named"] || len(e.ApproverIDs) != 1 {
				t.Errorf("system owner %q, entitlement owner %q, approvers %v", sys.OwnerID, e.OwnerID, e.ApproverIDs)
			}
		})
	}
}
