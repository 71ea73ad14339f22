package service_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// TestMoverConfirmations follows a mover's request access from the import that keeps it to
// the new manager's decision: who sees the task, who may decide, and that no one decides on
// their own access, not even an admin.
func TestMoverConfirmations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st, _ := hrFixture(t)
	op := &gatehouse.Principal{Email: "ops@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleOperator}}
	admin := service.SystemPrincipal("test")

	before := hrHeader +
		"E1,ann@example.com,Ann,A,Eng,Lead,,Berlin,employee,active,2020-01-01,,C1\n" +
		"E2,bob@example.com,Bob,B,Sales,Rep,E1,Paris,employee,active,2021-01-01,,C2\n" +
		"E3,cid@example.com,Cid,C,Eng,Lead,E1,Berlin,employee,active,2022-01-01,,C1\n" +
		"E4,dee@example.com,Dee,D,Sales,Rep,E1,Berlin,employee,active,2022-01-01,,C1\n"
	if _, err := svc.ImportHR(ctx, op, "hr.csv", []byte(before), false); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"E2", "E4"} {
		if _, err := svc.CreateGrants(ctx, admin, []service.NewGrant{{Identity: who, Entitlement: "app/eng", Source: gatehouse.SourceRequest, Reference: "REQ", Reason: "project"}}); err != nil {
			t.Fatal(err)
		}
	}
	ident := func(key string) *gatehouse.Identity {
		id, err := st.GetIdentity(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	ann, bob, cid, dee := ident("E1"), ident("E2"), ident("E3"), ident("E4")

	// Bob and Dee move to Eng under Cid: their request access is kept, for Cid to confirm.
	after := hrHeader +
		"E1,ann@example.com,Ann,A,Eng,Lead,,Berlin,employee,active,2020-01-01,,C1\n" +
		"E2,bob@example.com,Bob,B,Eng,Dev,E3,Paris,employee,active,2021-01-01,,C2\n" +
		"E3,cid@example.com,Cid,C,Eng,Lead,E1,Berlin,employee,active,2022-01-01,,C1\n" +
		"E4,dee@example.com,Dee,D,Eng,Dev,E3,Berlin,employee,active,2022-01-01,,C1\n"
	res, err := svc.ImportHR(ctx, op, "hr2.csv", []byte(after), false)
	if err != nil {
		t.Fatal(err)
	}
	all, err := svc.ListConfirmations(ctx, op, gatehouse.ConfirmationFilter{}, false)
	if err != nil || len(all.Items) != 2 {
		t.Fatalf("reader's list = %+v, %v", all.Items, err)
	}
	byMover := map[string]*gatehouse.Confirmation{}
	for _, c := range all.Items {
		if c.ManagerID != cid.ID || c.Status != gatehouse.ConfirmationOpen || c.EntitlementID != "app/eng" || c.HRImportID != res.Import.ID {
			t.Errorf("confirmation = %+v", c)
		}
		byMover[c.IdentityID] = c
	}
	events, err := st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "confirmation.create"})
	if err != nil || len(events.Items) != 2 || events.Items[0].Reference != "hr-import:"+res.Import.ID {
		t.Fatalf("create events = %+v, %v", events.Items, err)
	}
	// The same file again opens nothing new.
	if _, err := svc.ImportHR(ctx, op, "hr2.csv", []byte(after), false); err != nil {
		t.Fatal(err)
	}

	// Who sees what: a manager without a Gatehouse role sees what is addressed to them.
	cidP := &gatehouse.Principal{IdentityID: cid.ID, Email: cid.Email}
	annP := &gatehouse.Principal{IdentityID: ann.ID, Email: ann.Email}
	if mine, err := svc.ListConfirmations(ctx, cidP, gatehouse.ConfirmationFilter{}, false); err != nil || len(mine.Items) != 2 {
		t.Fatalf("Cid's list = %+v, %v", mine.Items, err)
	}
	if mine, err := svc.ListConfirmations(ctx, annP, gatehouse.ConfirmationFilter{}, false); err != nil || len(mine.Items) != 0 {
		t.Fatalf("Ann's list = %+v, %v", mine.Items, err)
	}
	if _, err := svc.ListConfirmations(ctx, annP, gatehouse.ConfirmationFilter{ManagerID: cid.ID}, false); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Fatalf("Ann listing Cid's: %v", err)
	}
	if mine, err := svc.ListConfirmations(ctx, op, gatehouse.ConfirmationFilter{}, true); err != nil || len(mine.Items) != 0 {
		t.Fatalf("operator's --mine = %+v, %v", mine.Items, err)
	}
	if _, err := svc.GetConfirmation(ctx, annP, byMover[bob.ID].ID); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Fatalf("Ann reading Cid's: %v", err)
	}

	// Who decides: not the mover, even an admin; not another manager; the addressed one does.
	bobAdmin := &gatehouse.Principal{IdentityID: bob.ID, Email: bob.Email, Roles: []gatehouse.AccessRole{gatehouse.RoleAdmin}}
	_, err = svc.ConfirmConfirmation(ctx, bobAdmin, byMover[bob.ID].ID, "mine")
	if gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN || !strings.Contains(gatehouse.ErrorMessage(err), "own access") {
		t.Fatalf("self-confirmation: %v", err)
	}
	if _, err := svc.ConfirmConfirmation(ctx, annP, byMover[bob.ID].ID, ""); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Fatalf("another manager: %v", err)
	}
	if _, err := svc.ConfirmConfirmation(ctx, op, byMover[bob.ID].ID, ""); gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN {
		t.Fatalf("an operator: %v", err)
	}
	c, err := svc.ConfirmConfirmation(ctx, cidP, byMover[bob.ID].ID, "still on the project")
	if err != nil || c.Status != gatehouse.ConfirmationConfirmed || c.DecidedBy != cid.Email || c.DecidedAt == nil || c.Comment != "still on the project" {
		t.Fatalf("confirm = %+v, %v", c, err)
	}
	if got := heldBy(t, st, "E2"); got != "app/eng(request) app/users(birthright)" {
		t.Errorf("Bob holds %q after confirmation", got)
	}
	if _, err := svc.RevokeConfirmation(ctx, cidP, byMover[bob.ID].ID, ""); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
		t.Fatalf("deciding twice: %v", err)
	}

	// An admin may decide for the manager; revoking revokes the grant, with evidence.
	c, err = svc.RevokeConfirmation(ctx, admin, byMover[dee.ID].ID, "not needed in Eng")
	if err != nil || c.Status != gatehouse.ConfirmationRevoked {
		t.Fatalf("revoke = %+v, %v", c, err)
	}
	g, err := st.GetGrant(ctx, c.GrantID)
	if err != nil || g.RevokedAt == nil || g.RevokeReason != service.RevokeNotConfirmed || g.RevokedBy != admin.Actor() {
		t.Fatalf("revoked grant = %+v, %v", g, err)
	}
	if got := heldBy(t, st, "E4"); got != "app/eng(birthright) app/users(birthright)" && got != "app/users(birthright)" {
		t.Errorf("Dee holds %q after revocation", got)
	}
	revokes, err := st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "grant.revoke", ObjectID: g.ID})
	if err != nil || len(revokes.Items) != 1 || revokes.Items[0].Reason != service.RevokeNotConfirmed || revokes.Items[0].Reference != "confirmation:"+c.ID {
		t.Fatalf("grant.revoke events = %+v, %v", revokes.Items, err)
	}
	decided, err := st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "confirmation."})
	if err != nil || len(decided.Items) != 4 {
		t.Fatalf("confirmation events = %d, %v", len(decided.Items), err)
	}
	if _, err := svc.ListConfirmations(ctx, nil, gatehouse.ConfirmationFilter{}, false); gatehouse.ErrorCode(err) != gatehouse.EUNAUTHORIZED {
		t.Fatalf("anonymous: %v", err)
	}
}

// TestConfirmationSuperseded: after a second move the earlier manager's confirmation is stale;
// only the newest open one is decided.
func TestConfirmationSuperseded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st, _ := hrFixture(t)
	op := &gatehouse.Principal{Email: "ops@example.com", Roles: []gatehouse.AccessRole{gatehouse.RoleOperator}}
	feed := hrHeader +
		"E1,ann@example.com,Ann,A,Eng,Lead,,Berlin,employee,active,2020-01-01,,C1\n" +
		"E2,bob@example.com,Bob,B,Sales,Rep,E1,Paris,employee,active,2021-01-01,,C2\n" +
		"E3,cid@example.com,Cid,C,Eng,Lead,E1,Berlin,employee,active,2022-01-01,,C1\n"
	if _, err := svc.ImportHR(ctx, op, "hr.csv", []byte(feed), false); err != nil {
		t.Fatal(err)
	}
	gs, err := svc.CreateGrants(ctx, service.SystemPrincipal("test"), []service.NewGrant{{Identity: "E2", Entitlement: "app/eng", Source: gatehouse.SourceRequest, Reference: "REQ", Reason: "project"}})
	if err != nil {
		t.Fatal(err)
	}
	g := gs[0]
	bob, _ := st.GetIdentity(ctx, "E2")
	ann, _ := st.GetIdentity(ctx, "E1")
	cid, _ := st.GetIdentity(ctx, "E3")
	old := &gatehouse.Confirmation{IdentityID: bob.ID, GrantID: g.ID, EntitlementID: g.EntitlementID, ManagerID: ann.ID}
	cur := &gatehouse.Confirmation{IdentityID: bob.ID, GrantID: g.ID, EntitlementID: g.EntitlementID, ManagerID: cid.ID}
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateConfirmations(ctx, []*gatehouse.Confirmation{old}); err != nil {
			return err
		}
		if err := tx.CreateConfirmations(ctx, []*gatehouse.Confirmation{cur}); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "test", Action: "confirmation.create", ObjectType: "confirmation", ObjectID: cur.ID})
	})
	if err != nil {
		t.Fatal(err)
	}
	annP := &gatehouse.Principal{IdentityID: ann.ID, Email: ann.Email}
	if _, err := svc.RevokeConfirmation(ctx, annP, old.ID, ""); gatehouse.ErrorCode(err) != gatehouse.ECONFLICT || !strings.Contains(gatehouse.ErrorMessage(err), "superseded") {
		t.Fatalf("stale confirmation: %v", err)
	}
	if _, err := svc.ConfirmConfirmation(ctx, &gatehouse.Principal{IdentityID: cid.ID, Email: cid.Email}, cur.ID, ""); err != nil {
		t.Fatalf("current confirmation: %v", err)
	}
}
