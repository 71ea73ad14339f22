package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

var serviceEngines = []struct {
	name string
	open func(testing.TB) store.Store
}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}}

func wantForbidden(t *testing.T, what string, err error, saying string) {
	t.Helper()
	if gatehouse.ErrorCode(err) != gatehouse.EFORBIDDEN || !strings.Contains(err.Error(), saying) {
		t.Errorf("%s: err = %v; want forbidden saying %q", what, err, saying)
	}
}

// TestServiceRenameDoesNotMoveSecurity: the security approver's address is given to orphan
// (after an admin renamed sec); orphan, signed in as sec@example.com, neither decides the security step nor
// an exception; sec, renamed, still does. The operator could not have renamed sec.
func TestServiceRenameDoesNotMoveSecurity(t *testing.T) {
	t.Parallel()
	for _, eng := range serviceEngines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newReqFixture(t, eng.open(t))
			ctx := context.Background()
			sys := service.SystemPrincipal("test")
			away, taken := "sec-away@example.com", "sec@example.com"
			_, err := f.svc.UpdateIdentity(ctx, f.p["op"], "sec@example.com", service.IdentityPatch{Email: &away}, "take over")
			wantForbidden(t, "operator renames the security approver", err, "security approver")
			if _, err := f.svc.UpdateIdentity(ctx, sys, "sec@example.com", service.IdentityPatch{Email: &away}, "name change"); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.UpdateIdentity(ctx, f.p["op"], "orphan@example.com", service.IdentityPatch{Email: &taken}, "reuse"); err != nil {
				t.Fatal(err)
			}
			f.p["orphan"].Email, f.p["sec"].Email = taken, away // as Authenticate would now say

			r := f.create(t, "ann", service.NewRequest{Entitlement: "app/admins", Duration: gatehouse.Duration(4 * time.Hour)})
			for _, who := range []string{"boss", "owner"} {
				if _, err := f.svc.ApproveRequest(ctx, f.p[who], r.Ref, ""); err != nil {
					t.Fatalf("%s approves: %v", who, err)
				}
			}
			_, err = f.svc.ApproveRequest(ctx, f.p["orphan"], r.Ref, "")
			wantForbidden(t, "the address's new holder approves security", err, "not one of its approvers")
			if r, err = f.svc.ApproveRequest(ctx, f.p["sec"], r.Ref, ""); err != nil || r.State != gatehouse.RequestProvisioning {
				t.Fatalf("renamed sec approves: %v, %v", r, err)
			}

			exc, err := f.svc.CreateException(ctx, sys, service.NewException{For: "boss@example.com", Rule: "eng-vs-vault",
				Rationale: "on-call cover", Controls: "weekly log review", Expires: gatehouse.Duration(30 * 24 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.svc.ApproveException(ctx, f.p["orphan"], exc.Ref, service.ExceptionDecision{Comment: "fine"})
			wantForbidden(t, "the address's new holder approves the exception", err, "security approvers")
			if _, err := f.svc.ApproveException(ctx, f.p["sec"], exc.Ref, service.ExceptionDecision{Comment: "accepted"}); err != nil {
				t.Fatalf("renamed sec approves the exception: %v", err)
			}
		})
	}
}

// TestServiceOnePersonOneStep: op holds delegations from boss (manager) and owner; op decides
// the manager step and is refused the owner step. Self changes of email, status or roles are
// refused.
func TestServiceOnePersonOneStep(t *testing.T) {
	t.Parallel()
	for _, eng := range serviceEngines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newReqFixture(t, eng.open(t))
			ctx := context.Background()
			for _, from := range []string{"boss", "owner"} {
				if _, err := f.svc.SetDelegation(ctx, f.p[from], service.NewDelegation{To: "op@example.com", EndsAt: f.clock().Add(24 * time.Hour)}); err != nil {
					t.Fatal(err)
				}
			}
			r := f.create(t, "ann", service.NewRequest{Entitlement: "app/eng"})
			if _, err := f.svc.ApproveRequest(ctx, f.p["op"], r.Ref, ""); err != nil {
				t.Fatalf("op decides the manager step as boss's delegate: %v", err)
			}
			_, err := f.svc.ApproveRequest(ctx, f.p["op"], r.Ref, "")
			wantForbidden(t, "op decides the owner step too", err, "you decided the manager step")
			if r, err = f.svc.ApproveRequest(ctx, f.p["owner"], r.Ref, ""); err != nil || r.State != gatehouse.RequestProvisioning {
				t.Fatalf("owner approves: %v, %v", r, err)
			}

			mail, suspended := "op2@example.com", gatehouse.StatusLeave
			_, err = f.svc.UpdateIdentity(ctx, f.p["op"], "op@example.com", service.IdentityPatch{Email: &mail}, "")
			wantForbidden(t, "own email", err, "nobody changes their own email")
			_, err = f.svc.UpdateIdentity(ctx, f.p["op"], "op@example.com", service.IdentityPatch{Status: &suspended}, "")
			wantForbidden(t, "own status", err, "nobody changes their own status")
		})
	}
}
