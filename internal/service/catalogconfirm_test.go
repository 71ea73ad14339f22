package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/service"
)

// TestCatalogConfirmationIsBoundToTheGrants: the confirmation of one plan does not apply
// another catalog that revokes as many grants of as many people, but other grants; the old
// ApplyCatalog (no confirmation) is refused; the apply with the right confirmation records the
// revocations it was confirmed for on its catalog.apply event.
func TestCatalogConfirmationIsBoundToTheGrants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st, _ := hrFixture(t)
	admin := service.SystemPrincipal("test")
	if _, err := svc.ImportHR(ctx, admin, "hr.csv", []byte(hrCompany), false); err != nil {
		t.Fatal(err)
	}
	eng := `birthright: 'identity.department == "Eng"'`
	// Each takes app/eng away from one person: E1 (the Lead), or E3 (the contractor).
	notLead := []catalog.File{{Name: "c.yaml", Content: []byte(strings.Replace(hrCatalog, eng,
		`birthright: 'identity.department == "Eng" && identity.title != "Lead"'`, 1))}}
	notContractor := []catalog.File{{Name: "c.yaml", Content: []byte(strings.Replace(hrCatalog, eng,
		`birthright: 'identity.department == "Eng" && identity.employment_type != "contractor"'`, 1))}}

	planA, err := svc.PlanCatalog(ctx, admin, notLead)
	if err != nil {
		t.Fatal(err)
	}
	planB, err := svc.PlanCatalog(ctx, admin, notContractor)
	if err != nil {
		t.Fatal(err)
	}
	a, b := planA.Revocations, planB.Revocations
	if a == nil || b == nil || a.Grants != 1 || b.Grants != 1 || a.People != 1 || b.People != 1 || a.Birthright != 1 || b.Birthright != 1 {
		t.Fatalf("revocations %+v / %+v, want one birthright grant of one person each", a, b)
	}
	if a.Confirmation == b.Confirmation {
		t.Fatalf("two plans revoking different grants share the confirmation %s", a.Confirmation)
	}
	head := auditHead(t, st)
	// B with A's confirmation: refused, naming what B revokes and its confirmation.
	_, err = svc.ApplyCatalogWith(ctx, admin, notContractor, service.CatalogApply{Reason: "t", ConfirmRevocations: a.Confirmation})
	var unconfirmed *catalog.UnconfirmedError
	if !errors.As(err, &unconfirmed) || gatehouse.ErrorCode(err) != gatehouse.ECONFLICT || unconfirmed.Revocations.Confirmation != b.Confirmation ||
		!strings.Contains(err.Error(), "1 grant of 1 person (1 birthright grant the rules no longer give)") {
		t.Fatalf("another plan's confirmation: %v", err)
	}
	// The call without a confirmation (what older callers use) is refused too.
	if _, err := svc.ApplyCatalog(ctx, admin, notContractor, false, "t"); !errors.As(err, &unconfirmed) {
		t.Fatalf("unconfirmed ApplyCatalog: %v", err)
	}
	if auditHead(t, st) != head {
		t.Fatal("a refused apply wrote to the audit log")
	}
	if got := heldBy(t, st, "E3"); !strings.Contains(got, "app/eng") {
		t.Fatalf("a refused apply revoked E3's grant: %s", got)
	}
	// With its own confirmation B applies, and its catalog.apply event records it.
	if _, err := svc.ApplyCatalogWith(ctx, admin, notContractor, service.CatalogApply{Reason: "t", ConfirmRevocations: b.Confirmation}); err != nil {
		t.Fatal(err)
	}
	if got := heldBy(t, st, "E3"); strings.Contains(got, "app/eng") {
		t.Fatalf("E3 kept app/eng: %s", got)
	}
	evs, err := st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "catalog.apply", Limit: 1})
	if err != nil || len(evs.Items) != 1 {
		t.Fatalf("catalog.apply events: %v, %v", evs.Items, err)
	}
	var after struct {
		Revocations *catalog.Revocations `json:"revocations"`
	}
	if err := json.Unmarshal(evs.Items[0].After, &after); err != nil || after.Revocations == nil || *after.Revocations != *b {
		t.Fatalf("catalog.apply after = %s", evs.Items[0].After)
	}
}
