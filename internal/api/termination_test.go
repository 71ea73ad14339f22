package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// withAccess creates a person with a working Gatehouse token and two delegations: their
// approvals to the operator, and the auditor's approvals to them.
func (f *fixture) withAccess(t *testing.T, name string) (*gatehouse.Identity, string) {
	t.Helper()
	ctx := context.Background()
	id := f.person(name, "Engineering")
	secret := f.token(name, 0).Secret
	must(t, f.do(t, request{method: "GET", path: "/api/v1/me", token: secret}), s200)
	ends := f.clock.now().Add(30 * 24 * time.Hour)
	for _, d := range []service.NewDelegation{
		{From: id.ID, To: f.ids["operator"].ID, EndsAt: ends, Reason: "holiday"},
		{From: f.ids["auditor"].ID, To: id.ID, EndsAt: ends, Reason: "holiday"},
	} {
		if _, err := f.svc.SetDelegation(ctx, f.sys, d); err != nil {
			t.Fatal(err)
		}
	}
	return id, secret
}

// wantGatehouseAccessEnded checks that id's token answers 401 and was revoked with one
// token.revoke event whose reason contains why and whose reference is ref, that both its
// delegations ended with a delegation.end event each, and returns the token.revoke event.
func (f *fixture) wantGatehouseAccessEnded(t *testing.T, id *gatehouse.Identity, secret, why, ref string) *gatehouse.AuditEvent {
	t.Helper()
	ctx := context.Background()
	if a := f.do(t, request{method: "GET", path: "/api/v1/me", token: secret}); a.status != http.StatusUnauthorized {
		t.Fatalf("%s's token after termination: status %d, want 401", id.Email, a.status)
	}
	toks, err := f.st.ListTokens(ctx, gatehouse.TokenFilter{IdentityID: id.ID, IncludeRevoked: true})
	if err != nil || len(toks) != 1 || toks[0].RevokedAt == nil {
		t.Fatalf("tokens of %s = %+v, %v: want one, revoked", id.Email, toks, err)
	}
	evs, err := f.st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "token.revoke", ObjectID: toks[0].ID, Limit: 10})
	if err != nil || len(evs.Items) != 1 || !strings.Contains(evs.Items[0].Reason, why) || evs.Items[0].Reference != ref {
		t.Fatalf("token.revoke of %s = %+v, %v: want one, reason containing %q, reference %q", id.Email, evs.Items, err, why, ref)
	}
	now := f.clock.now()
	from, err1 := f.st.ListDelegations(ctx, gatehouse.DelegationFilter{FromID: id.ID, ActiveAt: now})
	to, err2 := f.st.ListDelegations(ctx, gatehouse.DelegationFilter{ToID: id.ID, ActiveAt: now})
	if err1 != nil || err2 != nil || len(from)+len(to) != 0 {
		t.Fatalf("delegations of %s still in force: %+v %+v %v %v", id.Email, from, to, err1, err2)
	}
	ended, err := f.st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "delegation.end", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range ended.Items {
		var d gatehouse.Delegation
		if json.Unmarshal(ev.Before, &d) == nil && (d.FromID == id.ID || d.ToID == id.ID) && ev.Reference == ref {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("delegation.end events for %s: %d, want 2", id.Email, n)
	}
	return evs.Items[0]
}

// wantAuditIntact checks the chain still verifies.
func (f *fixture) wantAuditIntact(t *testing.T) {
	t.Helper()
	var v service.Verification
	must(t, f.as(t, "auditor", "GET", "/api/v1/audit/verify", ""), s200).json(t, &v)
	if !v.OK {
		t.Fatalf("audit verify: %+v", v)
	}
}

// TestTerminationEndsGatehouseAccess: terminating a person, through an HR import or by hand,
// revokes their Gatehouse tokens (each with a token.revoke event, in the transaction that
// terminates them) and ends the delegations from and to them. A rehire or a status correction
// does not bring the old token back. Before, the token was refused only while the person was
// terminated, and worked again after the rehire or the correction.
func TestTerminationEndsGatehouseAccess(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, eng.open(t))
			ctx := context.Background()

			// An HR import makes hana a leaver.
			hana, hanaSecret := f.withAccess(t, "hana")
			var lines []string
			for _, l := range strings.Split(f.feed(), "\n") {
				if strings.HasPrefix(l, "E-hana,") {
					l = strings.Replace(l, ",active,", ",terminated,", 1)
				}
				lines = append(lines, l)
			}
			var res service.HRImportResult
			must(t, f.do(t, request{method: "POST", path: "/api/v1/hr/imports", token: f.secrets["operator"],
				body: strings.Join(lines, "\n"), contentType: "text/csv"}), s201).json(t, &res)
			if res.Import == nil || res.Import.Status != gatehouse.ImportApplied || res.Plan.Summary.Leavers != 1 {
				t.Fatalf("import: %+v", res)
			}
			ref := "hr-import:" + res.Import.ID
			revoke := f.wantGatehouseAccessEnded(t, hana, hanaSecret, "leaver", ref)
			// In the import's transaction: after hana's identity.update, before the hr.import
			// event that closes it.
			upd, err := f.st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "identity.update", ObjectID: hana.ID, Limit: 1})
			if err != nil || len(upd.Items) != 1 {
				t.Fatal(upd, err)
			}
			closing, err := f.st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "hr.import", ObjectID: res.Import.ID, Limit: 1})
			if err != nil || len(closing.Items) != 1 {
				t.Fatal(closing, err)
			}
			if !(upd.Items[0].Seq < revoke.Seq && revoke.Seq < closing.Items[0].Seq) || revoke.Actor != "operator@example.com" {
				t.Fatalf("token.revoke seq %d by %s; want between identity.update %d and hr.import %d, by the importer",
					revoke.Seq, revoke.Actor, upd.Items[0].Seq, closing.Items[0].Seq)
			}
			// Rehired by the next feed: the old token stays dead.
			must(t, f.do(t, request{method: "POST", path: "/api/v1/hr/imports", token: f.secrets["operator"],
				body:        f.feed("E-hana,hana@example.com,Hana,Tester,Engineering,Engineer,,,employee,active,2024-01-02,"),
				contentType: "text/csv"}), s201).json(t, &res)
			if got, _ := f.st.GetIdentity(ctx, hana.ID); got.Status != gatehouse.StatusActive {
				t.Fatalf("rehire: status %s", got.Status)
			}
			must(t, f.do(t, request{method: "GET", path: "/api/v1/me", token: hanaSecret}), http.StatusUnauthorized)

			// By hand: identities update --status terminated, then a "correction" back.
			leo, leoSecret := f.withAccess(t, "leo")
			must(t, f.as(t, "operator", "PATCH", "/api/v1/identities/"+leo.ID, `{"status":"terminated","reason":"left"}`), s200)
			f.wantGatehouseAccessEnded(t, leo, leoSecret, "leaver: terminated by operator@example.com: left", "")
			must(t, f.as(t, "operator", "PATCH", "/api/v1/identities/"+leo.ID, `{"status":"active","reason":"oops"}`), s200)
			must(t, f.do(t, request{method: "GET", path: "/api/v1/me", token: leoSecret}), http.StatusUnauthorized)
			// A token issued after the correction works: only the old ones ended.
			fresh := f.token("leo", 0).Secret
			must(t, f.do(t, request{method: "GET", path: "/api/v1/me", token: fresh}), s200)

			f.wantAuditIntact(t)
		})
	}
}

// TestHRMassTerminationRevokesEveryToken: a large HR import that terminates many people with
// tokens revokes every one of them, each with its own event, in the one import.
func TestHRMassTerminationRevokesEveryToken(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, eng.open(t))
			ctx := context.Background()
			const n = 30
			f.apply(strings.Replace(seedCatalog, "settings:\n", "settings:\n  leaver_guard: {max_fraction: 1, min_count: 1000}\n", 1))
			var keep strings.Builder
			var secrets []string
			var tokens []string
			for i := range n {
				name := "bulk" + string(rune('a'+i/26)) + string(rune('a'+i%26))
				f.person(name, "Sales")
				for range 2 {
					ct := f.token(name, 0)
					secrets, tokens = append(secrets, ct.Secret), append(tokens, ct.Token.ID)
				}
			}
			for _, l := range strings.Split(f.feed(), "\n") {
				if !strings.HasPrefix(l, "E-bulk") {
					keep.WriteString(l + "\n")
				}
			}
			var res service.HRImportResult
			must(t, f.do(t, request{method: "POST", path: "/api/v1/hr/imports", token: f.secrets["operator"],
				body: keep.String(), contentType: "text/csv"}), s201).json(t, &res)
			if res.Import == nil || res.Plan.Summary.Leavers != n {
				t.Fatalf("import: %+v", res.Plan.Summary)
			}
			// A few through the API (failed sign-ins are rate limited), all in the store.
			for _, s := range secrets[:3] {
				must(t, f.do(t, request{method: "GET", path: "/api/v1/me", token: s}), http.StatusUnauthorized)
			}
			for _, id := range tokens {
				if tok, err := f.st.GetToken(ctx, id); err != nil || tok.RevokedAt == nil {
					t.Fatalf("token %s after the import: %+v, %v; want revoked", id, tok, err)
				}
			}
			evs, err := f.st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "token.revoke", Limit: gatehouse.MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			for _, ev := range evs.Items {
				if ev.Reference == "hr-import:"+res.Import.ID {
					got++
				}
			}
			if got != 2*n {
				t.Fatalf("token.revoke events of the import: %d, want %d", got, 2*n)
			}
			f.wantAuditIntact(t)
		})
	}
}

// TestBootstrapUseIsAudited: every use of the bootstrap token is audited as "bootstrap" (once
// per client and minute), and what it changes is audited with actor "bootstrap".
func TestBootstrapUseIsAudited(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, eng.open(t))
			ctx := context.Background()
			uses := func() []*gatehouse.AuditEvent {
				t.Helper()
				evs, err := f.st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "bootstrap.use", Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				return evs.Items
			}
			if n := len(uses()); n != 0 {
				t.Fatalf("bootstrap.use events before any use: %d", n)
			}
			must(t, f.do(t, request{method: "GET", path: "/api/v1/me", token: bootstrapSecret}), s200)
			must(t, f.do(t, request{method: "PUT", path: "/api/v1/identities/user@example.com/roles", token: bootstrapSecret,
				body: `{"roles":["auditor"],"reason":"bootstrap test"}`}), s200)
			got := uses()
			if len(got) != 1 || got[0].Actor != "bootstrap" {
				t.Fatalf("bootstrap.use events = %+v; want one, by bootstrap", got)
			}
			roles, err := f.st.ListAuditEvents(ctx, gatehouse.AuditFilter{Action: "identity.roles", ObjectID: f.ids["user"].ID, Limit: 1})
			if err != nil || len(roles.Items) != 1 || roles.Items[0].Actor != "bootstrap" {
				t.Fatalf("identity.roles by the bootstrap token: %+v %v; want actor bootstrap", roles.Items, err)
			}
			f.clock.shift(2 * time.Minute)
			must(t, f.do(t, request{method: "GET", path: "/api/v1/me", token: bootstrapSecret}), s200)
			if n := len(uses()); n != 2 {
				t.Fatalf("bootstrap.use events after a use two minutes later: %d, want 2", n)
			}
			// The admin has a token of their own: the bootstrap token is redundant.
			if admin, err := f.svc.BootstrapRedundant(ctx); err != nil || admin != "admin@example.com" {
				t.Fatalf("BootstrapRedundant = %q, %v", admin, err)
			}
			f.wantAuditIntact(t)
		})
	}
}
