package api

import (
	"context"
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse/internal/service"
)

func TestSoDViolationsHandler(t *testing.T) {
	t.Parallel()
	f := newFixture(t, engines[0].open(t))
	// other holds corp-ldap/engineering; adding corp-ldap/admins breaks eng-vs-admins. A direct
	// grant is refused by the block rule, so the pair is loaded as access that predates it.
	loaded, err := f.svc.CreateGrants(context.Background(), f.sys, []service.NewGrant{{Identity: "other@example.com",
		Entitlement: "corp-ldap/admins", Reference: "TEST-1", Reason: "test setup"}})
	if err != nil {
		t.Fatal(err)
	}
	admins := loaded[0]

	var rep service.SoDViolations
	must(t, f.as(t, "auditor", "GET", "/api/v1/sod/violations", ""), s200).json(t, &rep)
	if rep.Count != 1 || len(rep.Items) != 1 || rep.Identities != 1 || rep.ByOnViolation["block"] != 1 {
		t.Fatalf("report = %+v", rep)
	}
	v := rep.Items[0]
	if v.Rule != "eng-vs-admins" || v.Email != "other@example.com" || v.Left != "corp-ldap/engineering" ||
		v.Right != "corp-ldap/admins" || len(v.RightGrants) != 1 || v.RightGrants[0].ID != admins.ID ||
		v.LeftGrants[0].ID != f.otherGrant.ID || v.Severity != "high" || v.OnViolation != "block" {
		t.Errorf("violation = %+v", v)
	}

	// Filters: user holds engineering only.
	must(t, f.as(t, "operator", "GET", "/api/v1/sod/violations?identity=user@example.com", ""), s200).json(t, &rep)
	if rep.Count != 0 || rep.Items == nil {
		t.Errorf("user's report = %+v, want an empty list", rep)
	}
	must(t, f.as(t, "admin", "GET", "/api/v1/sod/violations?rule=eng-vs-admins&identity=E-other", ""), s200).json(t, &rep)
	if rep.Count != 1 || rep.RulesChecked != 1 {
		t.Errorf("filtered report = %+v", rep)
	}
	if e := must(t, f.as(t, "auditor", "GET", "/api/v1/sod/violations?rule=no-such-rule", ""), http.StatusNotFound).errorOf(t); e.Code != "not_found" {
		t.Errorf("unknown rule: %+v", e)
	}
	must(t, f.as(t, "auditor", "GET", "/api/v1/sod/violations?limit=5", ""), http.StatusBadRequest)

	// Who holds what is readers' business, even for the violator.
	must(t, f.as(t, "user", "GET", "/api/v1/sod/violations", ""), s403)
	must(t, f.as(t, "none", "GET", "/api/v1/sod/violations", ""), s401)
}
