package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// Direct grants (POST /api/v1/grants) are held to the controls a request meets: the attacks of
// an operator who granted themselves privileged access and both sides of a block SoD rule,
// labelled source: emergency, reference: EMG-999999.

// grantBody is a direct grant's JSON body.
func grantBody(identity, ent, ref, reason string, extra ...string) string {
	b := fmt.Sprintf(`{"identity":%q,"entitlement":%q,"reference":%q,"reason":%q,"duration":"8h"`, identity, ent, ref, reason)
	for _, e := range extra {
		b += "," + e
	}
	return b + "}"
}

// refused checks that an answer is an error with status, code and a message containing msg.
func refused(t *testing.T, a answer, status int, code, msg string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d; body: %s", a.status, status, a.body)
	}
	if e := a.errorOf(t); e.Code != code || !strings.Contains(e.Message, msg) {
		t.Fatalf("error %+v; want %s containing %q", e, code, msg)
	}
}

func TestDirectGrantSelfRefused(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, f *fixture) {
		for _, who := range []string{"operator", "admin"} {
			for _, key := range []string{who + "@example.com", "E-" + who, f.ids[who].ID} {
				refused(t, f.as(t, who, "POST", "/api/v1/grants", grantBody(key, "corp-ldap/admins", "INC-1", "I need it")),
					http.StatusForbidden, "forbidden", "grant access to yourself")
			}
		}
		// Another operator may.
		must(t, f.as(t, "admin", "POST", "/api/v1/grants", grantBody("operator@example.com", "corp-ldap/admins", "INC-1", "on call")), s201)
	})
}

func TestDirectGrantBlockSoD(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, f *fixture) {
		// One after the other: the second side is refused, naming the rule, either way round.
		f.person("seq1", "IT")
		f.person("seq2", "IT")
		must(t, f.as(t, "operator", "POST", "/api/v1/grants", grantBody("seq1@example.com", "corp-ldap/engineering", "CHG-1", "team")), s201)
		refused(t, f.as(t, "operator", "POST", "/api/v1/grants", grantBody("seq1@example.com", "corp-ldap/admins", "CHG-1", "on call")),
			http.StatusConflict, "conflict", "blocked by SoD rule eng-vs-admins")
		must(t, f.as(t, "operator", "POST", "/api/v1/grants", grantBody("seq2@example.com", "corp-ldap/admins", "CHG-1", "on call")), s201)
		refused(t, f.as(t, "admin", "POST", "/api/v1/grants", grantBody("seq2@example.com", "corp-ldap/engineering", "CHG-1", "team")),
			http.StatusConflict, "conflict", "eng-vs-admins")

		// A side asked for in an open request counts as held (the request flow's rule).
		pend := f.person("pend", "IT")
		tok := f.token("pend", 0).Secret
		must(t, f.do(t, request{method: "POST", path: "/api/v1/requests", token: tok,
			body: `{"entitlement":"corp-ldap/engineering","justification":"join the platform team for the migration"}`}), s201)
		refused(t, f.as(t, "operator", "POST", "/api/v1/grants", grantBody(pend.Email, "corp-ldap/admins", "CHG-1", "on call")),
			http.StatusConflict, "conflict", "eng-vs-admins")

		// Both at once: two operators grant the two sides concurrently; at most one wins.
		for i := range 4 {
			who := f.person(fmt.Sprintf("race%d", i), "IT")
			var wg sync.WaitGroup
			codes := make([]int, 2)
			for k, c := range []struct{ caller, ent string }{{"operator", "corp-ldap/engineering"}, {"admin", "corp-ldap/admins"}} {
				wg.Go(func() {
					codes[k] = f.as(t, c.caller, "POST", "/api/v1/grants", grantBody(who.Email, c.ent, "CHG-2", "race")).status
				})
			}
			wg.Wait()
			slices.Sort(codes)
			if codes[0] != s201 || codes[1] != http.StatusConflict {
				t.Errorf("both sides at once for %s: statuses %v, want one 201 and one 409", who.Email, codes)
			}
		}
		var rep service.SoDViolations
		must(t, f.as(t, "auditor", "GET", "/api/v1/sod/violations", ""), s200).json(t, &rep)
		if rep.Count != 0 {
			t.Errorf("violations after refused direct grants: %+v", rep.Items)
		}
	})
}

// exceptionCatalog adds an exception rule to the fixture's catalog: wiki/members and
// corp-ldap/admins together need an approved exception.
const exceptionCatalog = seedCatalog + `  - id: members-vs-admins
    left: [wiki/members]
    right: [corp-ldap/admins]
    severity: medium
    on_violation: exception
`

func TestDirectGrantExceptionSoD(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, f *fixture) {
		f.apply(exceptionCatalog)
		ctx := context.Background()
		x := f.person("exc", "Sales")
		y := f.person("exc2", "Sales")
		for _, who := range []string{x.Email, y.Email} {
			must(t, f.as(t, "operator", "POST", "/api/v1/grants", grantBody(who, "wiki/members", "CHG-3", "wiki")), s201)
		}
		refused(t, f.as(t, "operator", "POST", "/api/v1/grants", grantBody(x.Email, "corp-ldap/admins", "CHG-3", "on call")),
			http.StatusConflict, "conflict", "members-vs-admins")
		e, err := f.svc.CreateException(ctx, f.sys, service.NewException{For: x.Email, Rule: "members-vs-admins",
			Rationale: "on-call cover", Controls: "weekly log review", Expires: gatehouse.Duration(30 * 24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		// Pending is not enough, and its number is no key either.
		refused(t, f.as(t, "operator", "POST", "/api/v1/grants", grantBody(x.Email, "corp-ldap/admins", e.Ref, "on call")),
			http.StatusBadRequest, "invalid", "pending")
		must(t, f.as(t, "admin", "POST", "/api/v1/exceptions/"+e.Ref+"/approve", `{"comment":"controls checked"}`), s200)
		// Someone else's exception covers nobody else.
		refused(t, f.as(t, "operator", "POST", "/api/v1/grants", grantBody(y.Email, "corp-ldap/admins", e.Ref, "on call")),
			http.StatusBadRequest, "invalid", "someone else")
		refused(t, f.as(t, "operator", "POST", "/api/v1/grants", grantBody(y.Email, "corp-ldap/admins", "CHG-3", "on call")),
			http.StatusConflict, "conflict", "members-vs-admins")
		var g gatehouse.Grant
		must(t, f.as(t, "operator", "POST", "/api/v1/grants", grantBody(x.Email, "corp-ldap/admins", e.Ref, "on call under the exception")), s201).json(t, &g)
		if g.Source != gatehouse.SourceDirect || g.Reference != e.Ref {
			t.Errorf("grant under the exception = %+v", g)
		}
		rec := directRecord(t, f, g.ID)
		if len(rec.Direct.SoD) != 1 || rec.Direct.SoD[0].Rule != "members-vs-admins" || rec.Direct.SoD[0].Exception != e.Ref || rec.Direct.Exception != e.Ref {
			t.Errorf("audit record = %+v", rec.Direct)
		}
	})
}

// directRecord returns the audit record of a direct grant.
func directRecord(t *testing.T, f *fixture, grantID string) service.DirectGrantRecord {
	t.Helper()
	var page gatehouse.Page[*gatehouse.AuditEvent]
	must(t, f.as(t, "auditor", "GET", "/api/v1/audit/events?object_type=grant&object_id="+grantID, ""), s200).json(t, &page)
	if len(page.Items) != 1 || page.Items[0].Action != "grant.create" {
		t.Fatalf("events of grant %s: %+v", grantID, page.Items)
	}
	var rec service.DirectGrantRecord
	if err := json.Unmarshal(page.Items[0].After, &rec); err != nil || rec.Grant == nil {
		t.Fatalf("after %s: %v", page.Items[0].After, err)
	}
	return rec
}

func TestDirectGrantSourceAndReference(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, f *fixture) {
		ent := "corp-ldap/admins"
		for _, tc := range []struct{ source, flow string }{
			{"emergency", "gatehouse emergency grant"},
			{"request", "gatehouse request create"},
			{"birthright", "birthright rules"},
			{"review", "access reviews"},
			{"exception", "EXC number as the reference"},
			{"gift", "not accepted"},
		} {
			refused(t, f.as(t, "operator", "POST", "/api/v1/grants", grantBody("auditor@example.com", ent, "INC-4412", "outage", `"source":"`+tc.source+`"`)),
				http.StatusBadRequest, "invalid", tc.flow)
		}
		for _, tc := range []struct{ ref, msg string }{
			{"EMG-999999", "emergency grant"},
			{"emg-1", "emergency grant"},
			{"INC-4412 under EMG-000001", "emergency grant"},
			{"REQ-000777", "not a request Gatehouse issued"},
			{"EXC-999999", "not an exception Gatehouse issued"},
			{"TASK-000001", "not a task Gatehouse issued"},
		} {
			refused(t, f.as(t, "operator", "POST", "/api/v1/grants", grantBody("auditor@example.com", ent, tc.ref, "outage")),
				http.StatusBadRequest, "invalid", tc.msg)
		}
		// A privileged direct grant needs a reason (blank is none).
		for _, reason := range []string{"", "   "} {
			refused(t, f.as(t, "operator", "POST", "/api/v1/grants", grantBody("auditor@example.com", ent, "INC-4412", reason)),
				http.StatusBadRequest, "invalid", "reason")
		}
		if n := len(f.grantsOf(t, "auditor@example.com")); n != 0 {
			t.Fatalf("refused grants recorded: %d", n)
		}
		// A ticket of the operator's own is fine, and the grant is source direct everywhere.
		var g gatehouse.Grant
		must(t, f.as(t, "operator", "POST", "/api/v1/grants", grantBody("auditor@example.com", ent, "INC-4412", "outage", `"source":"direct"`)), s201).json(t, &g)
		if g.Source != gatehouse.SourceDirect || g.Reference != "INC-4412" || g.GrantedBy != "operator@example.com" {
			t.Errorf("grant = %+v", g)
		}
		rec := directRecord(t, f, g.ID)
		if rec.Source != gatehouse.SourceDirect || rec.Direct.Beneficiary != "auditor@example.com" || rec.Direct.Risk != gatehouse.RiskPrivileged ||
			rec.Direct.Reason != "outage" {
			t.Errorf("audit record = %+v / %+v", rec.Grant, rec.Direct)
		}
		var page gatehouse.Page[*gatehouse.Grant]
		must(t, f.as(t, "auditor", "GET", "/api/v1/grants?source=direct&entitlement="+ent, ""), s200).json(t, &page)
		if len(page.Items) != 1 || page.Items[0].ID != g.ID {
			t.Errorf("source=direct: %+v", page.Items)
		}
	})
}

// grantsOf lists the active grants of an identity.
func (f *fixture) grantsOf(t *testing.T, who string) []*gatehouse.Grant {
	t.Helper()
	var page gatehouse.Page[*gatehouse.Grant]
	must(t, f.as(t, "auditor", "GET", "/api/v1/grants?identity="+who, ""), s200).json(t, &page)
	return page.Items
}

// TestEmergencyReviewNotByBeneficiary: the person who received break-glass access neither
// completes its post-event review nor is assigned it; when the only security approver is the
// beneficiary, the review falls to the operators other than the granter, and the log says so.
func TestEmergencyReviewNotByBeneficiary(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, f *fixture) {
		f.emergencyReady()
		ctx := context.Background()
		granter, err := f.svc.GetIdentity(ctx, f.sys, "granter@example.com")
		if err != nil {
			t.Fatal(err)
		}
		p := &gatehouse.Principal{IdentityID: granter.ID, Email: granter.Email, Roles: granter.Roles}
		// admin@example.com is the fixture's only security approver.
		eg, err := f.svc.GrantEmergency(ctx, p, service.NewEmergencyGrant{Identity: "admin@example.com",
			Entitlement: "corp-ldap/breakglass", Reason: "INC-9 directory outage, admin fixes it", Duration: gatehouse.Duration(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		var rev gatehouse.EmergencyReview
		must(t, f.as(t, "auditor", "GET", "/api/v1/emergency/reviews/"+eg.Review.Ref, ""), s200).json(t, &rev)
		if slices.Contains(rev.Assignees, "admin@example.com") || slices.Contains(rev.Assignees, "granter@example.com") ||
			!slices.Contains(rev.Assignees, "operator@example.com") {
			t.Errorf("assignees = %v; want the operators but the granter, not the beneficiary", rev.Assignees)
		}
		var evs gatehouse.Page[*gatehouse.AuditEvent]
		must(t, f.as(t, "auditor", "GET", "/api/v1/audit/events?action="+string(gatehouse.AuditEmergencyNotifySecurity)+"&object_id="+rev.ID, ""), s200).json(t, &evs)
		if len(evs.Items) != 1 || !strings.Contains(string(evs.Items[0].After), "fallback") {
			t.Errorf("notify event: %+v", evs.Items)
		}
		body := `{"who":"admin@example.com","why":"INC-9","what":"restarted slapd"}`
		path := "/api/v1/emergency/reviews/" + eg.Review.Ref + "/complete"
		refused(t, f.as(t, "admin", "POST", path, body), http.StatusForbidden, "forbidden", "someone else must review")
		var done gatehouse.EmergencyReview
		must(t, f.as(t, "operator", "POST", path, body), s200).json(t, &done)
		if done.Open() || done.CompletedBy != "operator@example.com" {
			t.Errorf("completed %+v", done)
		}

		// With another security approver, only they are assigned.
		other, err := f.svc.GrantEmergency(ctx, p, service.NewEmergencyGrant{Identity: "user@example.com",
			Entitlement: "corp-ldap/breakglass", Reason: "INC-10 directory outage, user fixes it", Duration: gatehouse.Duration(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(other.Review.Assignees, []string{"admin@example.com"}) {
			t.Errorf("assignees = %v, want the security approver", other.Review.Assignees)
		}
		userTok := f.secrets["user"]
		must(t, f.do(t, request{method: "POST", path: "/api/v1/emergency/reviews/" + other.Review.Ref + "/complete", token: userTok, body: body}), s403)
	})
}
