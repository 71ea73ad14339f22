package service_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

func scimClient(email string) *gatehouse.Principal {
	return &gatehouse.Principal{IdentityID: "id-" + email, Email: email, Scopes: []string{gatehouse.ScopeSCIM}}
}

func scimPerson(emp, email, dept string) *gatehouse.Identity {
	return &gatehouse.Identity{EmployeeID: emp, Email: email, FirstName: "F", LastName: emp, Department: dept,
		Status: gatehouse.StatusActive, Attributes: map[string]string{service.AttrSCIMExternalID: "x-" + emp}}
}

func TestSCIMUsersGoThroughJML(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st, _ := hrFixture(t)
	okta := scimClient("okta@example.com")

	// Only a SCIM client may use these methods.
	op := &gatehouse.Principal{Email: "ops@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleAdmin}}
	if _, err := svc.SCIMCreateUser(ctx, op, scimPerson("S1", "s1@example.com", "Eng"), "t"); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Fatalf("admin without the scim scope: %v", err)
	}
	// A joiner: created with the client's source and birthright access, audited with the
	// request as reference.
	ann, err := svc.SCIMCreateUser(ctx, okta, scimPerson("S1", "ann@example.com", "Eng"), "scim:POST /Users")
	if err != nil {
		t.Fatal(err)
	}
	if ann.Source != service.SCIMSource(okta) || ann.Kind != gatehouse.KindPerson || ann.StartDate == "" {
		t.Errorf("created = %+v", ann)
	}
	if got := heldBy(t, st, ann.ID); got != "app/eng(birthright) app/users(birthright)" {
		t.Errorf("joiner holds %q", got)
	}
	evs, err := st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "scim.user.create", Limit: 10})
	if err != nil || len(evs.Items) != 1 || evs.Items[0].Reference != "scim:POST /Users" || evs.Items[0].Actor != "okta@example.com" {
		t.Fatalf("scim event: %v %+v", err, evs.Items)
	}
	// A mover: birthright recomputed, and her requested access kept for her new manager to
	// confirm.
	boss, err := svc.SCIMCreateUser(ctx, okta, scimPerson("S0", "boss@example.com", "Sales"), "t")
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := svc.CreateGrants(ctx, service.SystemPrincipal("test"), []service.NewGrant{{Identity: ann.ID, Entitlement: "app/sales",
		Source: gatehouse.SourceRequest, Reference: "REQ-1", Reason: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	req := reqs[0]
	if ann, err = svc.SCIMGetUser(ctx, okta, ann.ID); err != nil {
		t.Fatal(err)
	}
	next := scimPerson("S1", "ann@example.com", "Sales")
	next.ManagerID = "S0"
	if _, err := svc.SCIMReplaceUser(ctx, okta, ann.ID, next, service.SCIMVersion(ann), "scim:PUT"); err != nil {
		t.Fatal(err)
	}
	if got := heldBy(t, st, ann.ID); got != "app/sales(request) app/users(birthright)" {
		t.Errorf("mover holds %q", got)
	}
	conf, err := st.ListConfirmations(ctx, gatehouse.ConfirmationFilter{IdentityID: ann.ID, Limit: 10})
	if err != nil || len(conf.Items) != 1 || conf.Items[0].GrantID != req.ID || conf.Items[0].ManagerID != boss.ID {
		t.Errorf("mover confirmations: %v %+v", err, conf.Items)
	}
	// A replace at an old version is stale; an unchanged replace writes nothing.
	var stale *service.SCIMStaleError
	if _, err := svc.SCIMReplaceUser(ctx, okta, ann.ID, scimPerson("S1", "ann@example.com", "Eng"), service.SCIMVersion(ann), "t"); !errors.As(err, &stale) {
		t.Errorf("stale replace: %v", err)
	}
	head := auditHead(t, st)
	same := scimPerson("S1", "ann@example.com", "Sales")
	same.ManagerID = "S0"
	if _, err := svc.SCIMReplaceUser(ctx, okta, ann.ID, same, "", "t"); err != nil || auditHead(t, st) != head {
		t.Errorf("unchanged replace: %v, audit %d → %d", err, head, auditHead(t, st))
	}
	// Another client reads but may not change or take over.
	entra := scimClient("entra@example.com")
	if _, err := svc.SCIMGetUser(ctx, entra, ann.ID); err != nil {
		t.Errorf("read by another client: %v", err)
	}
	if _, err := svc.SCIMReplaceUser(ctx, entra, ann.ID, scimPerson("S1", "ann@example.com", "Eng"), "", "t"); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN ||
		!strings.Contains(err.Error(), service.SCIMSource(okta)) {
		t.Errorf("replace by another client: %v", err)
	}
	if _, err := svc.SCIMCreateUser(ctx, entra, scimPerson("S9", "ANN@example.com", "Eng"), "t"); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT ||
		!strings.Contains(err.Error(), service.SCIMSource(okta)) {
		t.Errorf("create over another client's person: %v", err)
	}
	if err := svc.SCIMDeleteUser(ctx, entra, ann.ID, "", "t"); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Errorf("delete by another client: %v", err)
	}
	// A leaver by delete: terminated, grants revoked, hidden; a create brings the person back.
	if err := svc.SCIMDeleteUser(ctx, okta, ann.ID, "", "scim:DELETE"); err != nil {
		t.Fatal(err)
	}
	if got := heldBy(t, st, ann.ID); got != "" {
		t.Errorf("leaver holds %q", got)
	}
	// The evidence names who ended the access: the SCIM client, not HR.
	revokes, err := st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "grant.revoke", Limit: 1})
	if err != nil || len(revokes.Items) != 1 || revokes.Items[0].Reason != "leaver: deactivated by "+service.SCIMSource(okta) {
		t.Errorf("leaver's revocation = %+v, %v", revokes.Items, err)
	}
	if _, err := svc.SCIMGetUser(ctx, okta, ann.ID); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("deleted user: %v", err)
	}
	if n, err := svc.SCIMCountUsers(ctx, okta, gatehouse.IdentityFilter{}); err != nil || n != 1 { // the boss
		t.Errorf("count after delete = %d, %v", n, err)
	}
	back, err := svc.SCIMCreateUser(ctx, okta, scimPerson("S1", "ann@example.com", "Eng"), "t")
	if err != nil || back.ID != ann.ID || back.Status != gatehouse.StatusActive || back.Attributes[service.AttrSCIMDeleted] != "" {
		t.Fatalf("rehire: %+v %v", back, err)
	}
	if got := heldBy(t, st, ann.ID); got != "app/eng(birthright) app/users(birthright)" {
		t.Errorf("rehire holds %q", got)
	}
}

// The HR feed and SCIM clients are separate sources: neither overwrites the other's people.
func TestSCIMAndHRDoNotOverwriteEachOther(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st, _ := hrFixture(t)
	okta := scimClient("okta@example.com")
	admin := service.SystemPrincipal("test")
	if _, err := svc.ImportHR(ctx, admin, "hr.csv", []byte(hrHeader+"H1,hr@example.com,Hr,One,Eng,Dev,,Berlin,employee,active,2020-01-01,,C1\n"), false); err != nil {
		t.Fatal(err)
	}
	scimAnn, err := svc.SCIMCreateUser(ctx, okta, scimPerson("S1", "ann@example.com", "Eng"), "t")
	if err != nil {
		t.Fatal(err)
	}
	// The feed names the SCIM person (and omits nobody it owns): skipped, unchanged.
	res, err := svc.ImportHR(ctx, admin, "hr.csv", []byte(hrHeader+
		"H1,hr@example.com,Hr,One,Eng,Dev,,Berlin,employee,active,2020-01-01,,C1\n"+
		"S1,ann@example.com,Over,Written,Sales,Dev,,Berlin,employee,terminated,2020-01-01,,C1\n"), false)
	if err != nil || res.Plan.Summary.Skipped != 1 || res.Plan.Summary.Leavers != 0 {
		t.Fatalf("import: %v %+v", err, res.Plan.Summary)
	}
	if a, _ := st.GetIdentity(ctx, scimAnn.ID); a.Status != gatehouse.StatusActive || a.FirstName != "F" || a.Source != service.SCIMSource(okta) {
		t.Errorf("HR overwrote a SCIM person: %+v", a)
	}
	// A feed without the SCIM person does not make them a leaver either.
	res, err = svc.ImportHR(ctx, admin, "hr.csv", []byte(hrHeader+"H1,hr@example.com,Hr,One,Eng,Dev,,Berlin,employee,active,2020-01-01,,C1\n"), false)
	if err != nil || res.Plan.Summary.Leavers != 0 {
		t.Fatalf("import without the SCIM person: %v %+v", err, res.Plan.Summary)
	}
	// SCIM cannot change, delete or re-create the HR person.
	hr, _ := st.GetIdentity(ctx, "H1")
	if _, err := svc.SCIMReplaceUser(ctx, okta, hr.ID, scimPerson("H1", "hr@example.com", "Sales"), "", "t"); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN ||
		!strings.Contains(err.Error(), jml.Source) {
		t.Errorf("SCIM replace of an HR person: %v", err)
	}
	if err := svc.SCIMDeleteUser(ctx, okta, hr.ID, "", "t"); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Errorf("SCIM delete of an HR person: %v", err)
	}
	if _, err := svc.SCIMCreateUser(ctx, okta, scimPerson("H1", "new@example.com", "Eng"), "t"); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT ||
		!strings.Contains(err.Error(), jml.Source) {
		t.Errorf("SCIM create with an HR employee id: %v", err)
	}
	if h, _ := st.GetIdentity(ctx, "H1"); h.Department != "Eng" || h.Source != jml.Source {
		t.Errorf("HR person changed: %+v", h)
	}
}

func TestSCIMLeaverGuardHoldsAndApproves(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st, _ := hrFixture(t)
	okta := scimClient("okta@example.com")
	// hrCatalog's guard: max(min_count 1, 0.5 × active). Four active people of this source: 2
	// removals an hour pass, the third is held.
	var ids []string
	for n := range 4 {
		i, err := svc.SCIMCreateUser(ctx, okta, scimPerson(fmt.Sprintf("S%d", n), fmt.Sprintf("p%d@example.com", n), "Eng"), "t")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, i.ID)
	}
	if err := svc.SCIMDeleteUser(ctx, okta, ids[0], "", "t"); err != nil {
		t.Fatal(err)
	}
	leave := scimPerson("S1", "p1@example.com", "Eng")
	leave.Status = gatehouse.StatusTerminated
	if _, err := svc.SCIMReplaceUser(ctx, okta, ids[1], leave, "", "t"); err != nil {
		t.Fatal(err)
	}
	err := svc.SCIMDeleteUser(ctx, okta, ids[2], "", "scim:DELETE /Users/"+ids[2])
	var held *service.SCIMHeldError
	if !errors.As(err, &held) || held.Import.ID == "" || !strings.Contains(err.Error(), "approve HR import "+held.Import.ID) {
		t.Fatalf("third removal: %v", err)
	}
	if got := heldBy(t, st, ids[2]); got != "app/eng(birthright) app/users(birthright)" {
		t.Errorf("held person lost access: %q", got)
	}
	imp, err := st.GetHRImport(ctx, held.Import.ID)
	if err != nil || imp.Status != gatehouse.ImportHeld || imp.Format != service.SCIMImportFormat || imp.RowCount != 1 ||
		!strings.Contains(imp.Content, `"scim_source":"`+service.SCIMSource(okta)+`"`) || !strings.Contains(imp.Reason, "3 people") {
		t.Fatalf("held import: %+v %v", imp, err)
	}
	// The content is in the HR JSON shape the feed parser reads.
	if rows, err := jml.ParseHRJSON("held.json", strings.NewReader(imp.Content)); err != nil || len(rows) != 1 || rows[0].Email != "p2@example.com" {
		t.Errorf("held content as an HR file: %v %v", rows, err)
	}
	// A reactivation (not a removal) still passes.
	if _, err := svc.SCIMReplaceUser(ctx, okta, ids[1], scimPerson("S1", "p1@example.com", "Eng"), "", "t"); err != nil {
		t.Errorf("rehire while the guard is tripped: %v", err)
	}
	// An admin approves: planned as a delta owned by the source.
	res, err := svc.ApproveHRImport(ctx, service.SystemPrincipal("test"), imp.ID, "confirmed")
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.Summary.Leavers != 1 || res.Plan.Summary.Skipped != 0 {
		t.Errorf("approval plan: %+v", res.Plan.Summary)
	}
	p2, _ := st.GetIdentity(ctx, ids[2])
	if p2.Status != gatehouse.StatusTerminated || p2.Source != service.SCIMSource(okta) || p2.Attributes[service.AttrSCIMDeleted] != "true" ||
		p2.Attributes[service.AttrSCIMExternalID] != "x-S2" {
		t.Errorf("approved person: %+v", p2)
	}
	if got := heldBy(t, st, ids[2]); got != "" {
		t.Errorf("approved leaver holds %q", got)
	}
	for _, id := range []string{ids[1], ids[3]} {
		if i, _ := st.GetIdentity(ctx, id); i.Status != gatehouse.StatusActive {
			t.Errorf("approval touched %s: %s", id, i.Status)
		}
	}
}

// recordingQueue records the reconciles a committed change asks for.
type recordingQueue struct {
	all         int
	deprovision bool
	causes      []string
}

func (q *recordingQueue) ReconcileTx(_ context.Context, _ store.Tx, t provision.Trigger) error {
	if t.All {
		q.all++
	}
	q.causes = append(q.causes, t.Cause)
	q.deprovision = q.deprovision || t.Deprovision
	return nil
}

func (q *recordingQueue) ScheduleExpiryTx(context.Context, store.Tx, time.Time) error { return nil }

// A SCIM change reconciles every system, in its transaction, as an HR import does; a leaver's
// as deprovisioning (critical systems first).
func TestSCIMChangesReconcile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, st, now := hrFixture(t)
	q := &recordingQueue{}
	svc := service.New(st, service.Options{Now: func() time.Time { return *now }, Jobs: q})
	okta := scimClient("okta@example.com")
	ann, err := svc.SCIMCreateUser(ctx, okta, scimPerson("S1", "ann@example.com", "Eng"), "t")
	if err != nil {
		t.Fatal(err)
	}
	if q.all != 1 || q.deprovision {
		t.Fatalf("after a joiner: %+v", q)
	}
	if err := svc.SCIMDeleteUser(ctx, okta, ann.ID, "", "t"); err != nil {
		t.Fatal(err)
	}
	if q.all != 2 || !q.deprovision {
		t.Fatalf("after a leaver: %+v", q)
	}
}
