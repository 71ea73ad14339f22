package api

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// emergencyFixtures remembers, per fixture, that the emergency setup ran, and the reviews made
// for each purpose.
var emergencyFixtures sync.Map // emergencyKey → string (review ref, or "ready")

type emergencyKey struct {
	f       *fixture
	purpose string
}

// emergencyReady makes "operator", "admin" and "granter" (an operator the walk does not call)
// emergency operators, and corp-ldap/breakglass (2h) an emergency entitlement.
func (f *fixture) emergencyReady() {
	f.t.Helper()
	key := emergencyKey{f, "ready"}
	if _, ok := emergencyFixtures.Load(key); ok {
		return
	}
	ctx := context.Background()
	granter := f.person("granter", "IT")
	if _, err := f.svc.SetRoles(ctx, f.sys, granter.ID, []gatehouse.AccessRole{gatehouse.RoleOperator}, "test setup"); err != nil {
		f.t.Fatal(err)
	}
	err := f.st.Update(ctx, func(tx store.Tx) error {
		st, err := tx.GetSettings(ctx)
		if err != nil {
			return err
		}
		st.EmergencyOperators = []string{"operator@example.com", "admin@example.com", "granter@example.com"}
		// Written past catalog apply, so pinned here as apply would: powers go by identity.
		st.EmergencyOperatorIDs = []string{f.ids["operator"].ID, f.ids["admin"].ID, granter.ID}
		if err := tx.PutSettings(ctx, st); err != nil {
			return err
		}
		if err := tx.PutEntitlement(ctx, &gatehouse.Entitlement{ID: "corp-ldap/breakglass", System: "corp-ldap", Name: "Break glass",
			Kind: gatehouse.KindGroup, Risk: gatehouse.RiskStandard, Owner: "admin@example.com", OwnerID: f.ids["admin"].ID, Approval: []string{},
			MaxDuration: gatehouse.Duration(2 * time.Hour), Emergency: true}); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "test", Action: "test.setup", ObjectType: "settings", Reason: "emergency"})
	})
	if err != nil {
		f.t.Fatal(err)
	}
	emergencyFixtures.Store(key, "ready")
}

// emergencyReview is the ref of an open review of a break-glass grant by "granter" for a new
// person, made on first use per purpose.
func (f *fixture) emergencyReview(purpose string) string {
	f.t.Helper()
	f.emergencyReady()
	key := emergencyKey{f, purpose}
	if ref, ok := emergencyFixtures.Load(key); ok {
		return ref.(string)
	}
	who := f.person("emg-"+purpose, "Engineering")
	granter, err := f.svc.GetIdentity(context.Background(), f.sys, "granter@example.com")
	if err != nil {
		f.t.Fatal(err)
	}
	p := &gatehouse.Principal{IdentityID: granter.ID, Email: granter.Email, Roles: granter.Roles}
	eg, err := f.svc.GrantEmergency(context.Background(), p, service.NewEmergencyGrant{Identity: who.Email,
		Entitlement: "corp-ldap/breakglass", Reason: "INC-9 directory outage, walk", Duration: gatehouse.Duration(time.Hour)})
	if err != nil {
		f.t.Fatal(err)
	}
	emergencyFixtures.Store(key, eg.Review.Ref)
	return eg.Review.Ref
}

func TestEmergencyHandlers(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, eng.open(t))
			f.emergencyReady()
			op := f.secrets["operator"]
			grant := `{"identity":"other@example.com","entitlement":"corp-ldap/breakglass","reason":"INC-7 LDAP outage, restart","duration":"1h"}`
			// Refusals with their reasons.
			for _, tc := range []struct{ body, code, msg string }{
				{`{"identity":"operator@example.com","entitlement":"corp-ldap/breakglass","reason":"INC-7 LDAP outage, restart"}`, "forbidden", "yourself"},
				{`{"identity":"other@example.com","entitlement":"corp-ldap/engineering","reason":"INC-7 LDAP outage, restart"}`, "forbidden", "not pre-approved"},
				{`{"identity":"other@example.com","entitlement":"corp-ldap/breakglass","reason":"INC-7 LDAP outage, restart","duration":"3h"}`, "invalid", "exceeds the emergency limit"},
				{`{"identity":"other@example.com","entitlement":"corp-ldap/breakglass","reason":"urgent"}`, "invalid", "15 characters"},
			} {
				a := f.do(t, request{method: "POST", path: "/api/v1/emergency/grants", token: op, body: tc.body})
				if e := a.errorOf(t); e.Code != tc.code || !strings.Contains(e.Message, tc.msg) {
					t.Errorf("%s: %d %+v; want %s containing %q", tc.body, a.status, e, tc.code, tc.msg)
				}
			}
			var eg service.EmergencyGrant
			must(t, f.do(t, request{method: "POST", path: "/api/v1/emergency/grants", token: op, body: grant}), s201).json(t, &eg)
			if eg.Grant.Source != gatehouse.SourceEmergency || eg.Grant.Reference != eg.Review.Ref || !strings.HasPrefix(eg.Review.Ref, "EMG-") {
				t.Errorf("grant %+v review %+v", eg.Grant, eg.Review)
			}
			var list service.EmergencyReviews
			must(t, f.do(t, request{method: "GET", path: "/api/v1/emergency/reviews?open=true", token: f.secrets["auditor"]}), s200).json(t, &list)
			if list.Open != 1 || list.Overdue != 0 || len(list.Items) != 1 {
				t.Errorf("open reviews %+v", list)
			}
			// The granter may not complete the review; the admin (a security approver) may.
			body := `{"who":"other@example.com","why":"INC-7","what":"restarted slapd"}`
			path := "/api/v1/emergency/reviews/" + eg.Review.Ref + "/complete"
			must(t, f.do(t, request{method: "POST", path: path, token: op, body: body}), s403)
			must(t, f.do(t, request{method: "POST", path: path, token: f.secrets["admin"], body: `{"who":"x","why":"y"}`}), 400)
			var done gatehouse.EmergencyReview
			must(t, f.do(t, request{method: "POST", path: path, token: f.secrets["admin"], body: body}), s200).json(t, &done)
			if done.Open() || done.CompletedBy != "admin@example.com" {
				t.Errorf("completed %+v", done)
			}
			must(t, f.do(t, request{method: "POST", path: path, token: f.secrets["admin"], body: body}), 409)
			a := must(t, f.do(t, request{method: "GET", path: "/api/v1/emergency/reviews", token: op}), s200)
			var raw map[string]json.RawMessage
			a.json(t, &raw)
			if string(raw["open"]) != "0" || string(raw["overdue"]) != "0" {
				t.Errorf("counts after review: open %s overdue %s", raw["open"], raw["overdue"])
			}
		})
	}
}
