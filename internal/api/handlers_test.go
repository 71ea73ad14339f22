package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

func patchStatus(s string) service.IdentityPatch {
	st := gatehouse.IdentityStatus(s)
	return service.IdentityPatch{Status: &st}
}

// forEngine runs fn as a parallel subtest on a fresh fixture for every engine.
func forEngine(t *testing.T, fn func(t *testing.T, f *fixture)) {
	t.Helper()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			fn(t, newFixture(t, eng.open(t)))
		})
	}
}

func TestIdentitiesPaginationAndFilters(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, f *fixture) {
		for i := range 7 {
			f.person(fmt.Sprintf("sales%d", i), "Sales")
		}
		// Walk every page of Sales with a page size that does not divide the count.
		seen := map[string]bool{}
		path := "/api/v1/identities?department=Sales&limit=3"
		pages := 0
		for path != "" {
			var page gatehouse.Page[*gatehouse.Identity]
			must(t, f.as(t, "auditor", "GET", path, ""), s200).json(t, &page)
			pages++
			for _, id := range page.Items {
				if id.Department != "Sales" {
					t.Errorf("department filter let through %s (%s)", id.Email, id.Department)
				}
				if seen[id.ID] {
					t.Errorf("%s on two pages", id.Email)
				}
				seen[id.ID] = true
			}
			path = ""
			if page.NextCursor != "" {
				path = "/api/v1/identities?department=Sales&limit=3&cursor=" + url.QueryEscape(page.NextCursor)
			}
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
		}
		if len(seen) != 7 || pages != 3 {
			t.Errorf("saw %d identities on %d pages, want 7 on 3", len(seen), pages)
		}

		for _, tc := range []struct {
			query string
			want  []string // emails, in any order
		}{
			{"q=SALES3", []string{"sales3@example.com"}},
			{"department=Engineering&role=admin", []string{"admin@example.com"}},
			{"department=Nobody", nil},
			{"status=terminated", nil},
			{"employment_type=employee&q=operator", []string{"operator@example.com"}},
		} {
			var page gatehouse.Page[*gatehouse.Identity]
			a := must(t, f.as(t, "operator", "GET", "/api/v1/identities?"+tc.query, ""), s200)
			a.json(t, &page)
			var got []string
			for _, id := range page.Items {
				got = append(got, id.Email)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("?%s: got %v, want %v", tc.query, got, tc.want)
			}
			if !strings.Contains(string(a.body), `"items":[`) {
				t.Errorf("?%s: items is not an array: %s", tc.query, a.body)
			}
		}
	})
}

func TestIdentityHandlers(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, f *fixture) {
		// Create, then a duplicate: 409.
		body := `{"employee_id":"E-900","email":"nina@example.com","first_name":"Nina","department":"Finance","reason":"hired"}`
		var nina gatehouse.Identity
		a := must(t, f.as(t, "operator", "POST", "/api/v1/identities", body), s201)
		a.json(t, &nina)
		if nina.ID == "" || nina.Source != "api" || a.header.Get("Location") != "/api/v1/identities/"+nina.ID {
			t.Errorf("created %+v, Location %q", nina, a.header.Get("Location"))
		}
		if e := must(t, f.as(t, "operator", "POST", "/api/v1/identities", body), http.StatusConflict).errorOf(t); e.Code != "conflict" {
			t.Errorf("duplicate: code %q, want conflict", e.Code)
		}

		// By id, email and employee_id; one's own identity; someone else's.
		for _, key := range []string{nina.ID, "nina@example.com", "E-900"} {
			var got gatehouse.Identity
			must(t, f.as(t, "auditor", "GET", "/api/v1/identities/"+url.PathEscape(key), ""), s200).json(t, &got)
			if got.ID != nina.ID {
				t.Errorf("GET %s: got %s", key, got.ID)
			}
		}
		must(t, f.as(t, "user", "GET", "/api/v1/identities/user@example.com", ""), s200)
		must(t, f.as(t, "user", "GET", "/api/v1/identities/nina@example.com", ""), s403)
		e := must(t, f.as(t, "auditor", "GET", "/api/v1/identities/nobody@example.com", ""), http.StatusNotFound).errorOf(t)
		if e.Code != "not_found" {
			t.Errorf("404 code %q", e.Code)
		}

		// PATCH, and fields that do not exist in a patch.
		var patched gatehouse.Identity
		must(t, f.as(t, "operator", "PATCH", "/api/v1/identities/E-900", `{"title":"Controller","reason":"promotion"}`), s200).json(t, &patched)
		if patched.Title != "Controller" || patched.FirstName != "Nina" {
			t.Errorf("patched %+v", patched)
		}
		e = must(t, f.as(t, "operator", "PATCH", "/api/v1/identities/E-900", `{"roles":["admin"]}`), http.StatusBadRequest).errorOf(t)
		if !strings.Contains(e.Message, `"roles"`) {
			t.Errorf("unknown field message %q does not name the field", e.Message)
		}
		must(t, f.as(t, "operator", "PATCH", "/api/v1/identities/E-900", `{"status":"gone"}`), http.StatusBadRequest)

		// Roles: set, require the list, refuse unknown roles, and an admin cannot demote itself.
		var withRoles gatehouse.Identity
		must(t, f.as(t, "admin", "PUT", "/api/v1/identities/E-900/roles", `{"roles":["auditor"],"reason":"audit season"}`), s200).json(t, &withRoles)
		if !withRoles.HasRole(gatehouse.RoleAuditor) {
			t.Errorf("roles not set: %v", withRoles.Roles)
		}
		must(t, f.as(t, "admin", "PUT", "/api/v1/identities/E-900/roles", `{"reason":"x"}`), http.StatusBadRequest)
		must(t, f.as(t, "admin", "PUT", "/api/v1/identities/E-900/roles", `{"roles":["root"]}`), http.StatusBadRequest)
		must(t, f.as(t, "admin", "PUT", "/api/v1/identities/admin@example.com/roles", `{"roles":[]}`), http.StatusConflict)

		// Me.
		var me service.Me
		must(t, f.as(t, "user", "GET", "/api/v1/me", ""), s200).json(t, &me)
		if me.Identity == nil || me.Identity.Email != "user@example.com" || me.Principal.IdentityID != me.Identity.ID {
			t.Errorf("me = %+v / %+v", me.Principal, me.Identity)
		}
	})
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	f := newFixture(t, engines[0].open(t))
	big := `{"reason":"` + strings.Repeat("x", DefaultBodyLimit) + `"}`
	for _, tc := range []struct {
		name       string
		method     string
		path, body string
		status     int
		mention    string // the message must name this
	}{
		{"limit not a number", "GET", "/api/v1/identities?limit=ten", "", 400, "limit"},
		{"limit too large", "GET", "/api/v1/identities?limit=5000", "", 400, "limit"},
		{"limit zero", "GET", "/api/v1/identities?limit=0", "", 400, "limit"},
		{"since not RFC 3339", "GET", "/api/v1/audit/events?since=yesterday", "", 400, "since"},
		{"until not RFC 3339", "GET", "/api/v1/audit/events?until=2026-01-01", "", 400, "until"},
		{"grant status", "GET", "/api/v1/grants?status=expired", "", 400, "status"},
		{"identity status", "GET", "/api/v1/identities?status=gone", "", 400, "status"},
		{"order", "GET", "/api/v1/audit/events?order=sideways", "", 400, "order"},
		{"requestable not bool", "GET", "/api/v1/entitlements?requestable=yes", "", 400, "requestable"},
		{"unknown parameter", "GET", "/api/v1/identities?departmnet=Sales", "", 400, "departmnet"},
		{"repeated parameter", "GET", "/api/v1/identities?status=active&status=leave", "", 400, "status"},
		{"parameter on a route without any", "GET", "/api/v1/me?x=1", "", 400, "x"},
		{"unknown body field", "POST", "/api/v1/grants", `{"identity":"user@example.com","entitlment":"x"}`, 400, "entitlment"},
		{"body not JSON", "POST", "/api/v1/grants", `{"identity":`, 400, "JSON"},
		{"body wrong type", "POST", "/api/v1/grants", `{"identity":42}`, 400, "identity"},
		{"body array", "POST", "/api/v1/grants/x/revoke", `[1]`, 400, "object"},
		{"body twice", "POST", "/api/v1/tokens", `{}{}`, 400, "after"},
		{"body missing", "POST", "/api/v1/tokens", ``, 400, "required"},
		{"body too large", "POST", "/api/v1/tokens", big, 413, "1 MiB"},
		{"bad duration", "POST", "/api/v1/grants", `{"identity":"user@example.com","entitlement":"wiki/members","duration":"soon"}`, 400, "soon"},
		{"bad ttl", "POST", "/api/v1/tokens", `{"ttl":"forever"}`, 400, "ttl"},
		{"ttl too long", "POST", "/api/v1/tokens", `{"ttl":"1000d"}`, 400, "ttl"},
		{"grant without reason", "POST", "/api/v1/grants", `{"identity":"user@example.com","entitlement":"wiki/members","reference":"T-1"}`, 400, "reason"},
		{"unknown route", "GET", "/api/v1/nothing", "", 404, "no such route"},
		{"unknown entitlement", "GET", "/api/v1/entitlements/corp-ldap/nothing", "", 404, ""},
		{"unknown grant", "GET", "/api/v1/grants/nope", "", 404, ""},
		{"unknown token", "DELETE", "/api/v1/tokens/nope", "", 404, ""},
		{"wrong method", "DELETE", "/api/v1/me", "", 405, "GET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := f.do(t, request{method: tc.method, path: tc.path, body: tc.body, token: f.secrets["admin"]})
			e := must(t, a, tc.status).errorOf(t)
			if !strings.Contains(e.Message, tc.mention) {
				t.Errorf("message %q does not mention %q", e.Message, tc.mention)
			}
			if tc.status == 405 && !strings.Contains(a.header.Get("Allow"), "GET") {
				t.Errorf("405 without Allow: %v", a.header)
			}
		})
	}
}

func TestCatalogPlanApply(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, f *fixture) {
		bigger := strings.Replace(seedCatalog, "sod:\n", `  - id: finance-baseline
    name: Finance baseline
    entitlements: [wiki/members]
sod:
`, 1)
		// Plan as an auditor (YAML body): one role to add, nothing stored yet.
		var plan catalog.Plan
		must(t, f.do(t, request{method: "POST", path: "/api/v1/catalog/plan", token: f.secrets["auditor"],
			body: bigger, contentType: "application/yaml; charset=utf-8"}), s200).json(t, &plan)
		if len(plan.Changes) != 1 || plan.Changes[0].Op != catalog.OpAdd || plan.Changes[0].ID != "finance-baseline" {
			t.Fatalf("plan = %+v, want one role to add", plan.Changes)
		}
		if _, err := f.st.GetRole(t.Context(), "finance-baseline"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Fatalf("plan changed the store: %v", err)
		}

		// Apply as JSON with several files; then again: no change.
		files := jsonBody(map[string]any{"files": []map[string]string{
			{"name": "a.yaml", "content": bigger},
		}, "reason": "PR-12"})
		for i, wantNoChange := range []bool{false, true} {
			var res service.ApplyResult
			must(t, f.as(t, "admin", "POST", "/api/v1/catalog/apply", files), s200).json(t, &res)
			if res.Result == nil || res.Result.NoChange != wantNoChange {
				t.Fatalf("apply %d: result %+v, want no_change=%v", i, res.Result, wantNoChange)
			}
		}
		if _, err := f.st.GetRole(t.Context(), "finance-baseline"); err != nil {
			t.Fatalf("applied role missing: %v", err)
		}
		var events gatehouse.Page[*gatehouse.AuditEvent]
		must(t, f.as(t, "auditor", "GET", "/api/v1/audit/events?action=catalog.apply&limit=10", ""), s200).json(t, &events)
		if len(events.Items) != 2 || events.Items[0].Reason != "PR-12" { // the seed and PR-12
			t.Errorf("catalog.apply events = %d, newest reason %q", len(events.Items), events.Items[0].Reason)
		}

		// Dropping wiki/members (still granted) is refused without prune, then done with it.
		var without []string
		skip := false
		for _, line := range strings.SplitAfter(seedCatalog, "\n") {
			switch {
			case strings.HasPrefix(line, "  - id: wiki/members"):
				skip = true
			case strings.HasPrefix(line, "  - id: ") || !strings.HasPrefix(line, " "):
				skip = false
			}
			if !skip {
				without = append(without, line)
			}
		}
		smaller := strings.Replace(strings.Join(without, ""), "corp-ldap/engineering, wiki/members", "corp-ldap/engineering", 1)
		e := must(t, f.do(t, request{method: "POST", path: "/api/v1/catalog/apply?reason=cleanup", token: f.secrets["admin"],
			body: smaller, contentType: "application/yaml"}), http.StatusConflict).errorOf(t)
		if !strings.Contains(e.Message, "wiki/members") {
			t.Errorf("prune refusal %q does not name the entitlement", e.Message)
		}
		// With prune it would revoke that grant: refused (409, with the revocations) without
		// the plan's confirmation, and nothing is applied.
		var pruning catalog.Plan
		must(t, f.do(t, request{method: "POST", path: "/api/v1/catalog/plan", token: f.secrets["auditor"],
			body: smaller, contentType: "application/yaml"}), s200).json(t, &pruning)
		rv := pruning.Revocations
		if rv == nil || rv.Grants != 1 || rv.People != 1 || rv.Pruned != 1 || rv.Birthright != 0 || rv.Confirmation == "" {
			t.Fatalf("plan revocations = %+v, want the one grant of wiki/members", rv)
		}
		e = must(t, f.do(t, request{method: "POST", path: "/api/v1/catalog/apply?prune=true&reason=cleanup", token: f.secrets["admin"],
			body: smaller, contentType: "application/yaml"}), http.StatusConflict).errorOf(t)
		if e.Revocations == nil || *e.Revocations != *rv || !strings.Contains(e.Message, "1 grant of 1 person") ||
			!strings.Contains(e.Message, "confirm_revocations") {
			t.Fatalf("unconfirmed prune: %+v (revocations %+v)", e, e.Revocations)
		}
		if g, err := f.st.GetGrant(t.Context(), f.revokable.ID); err != nil || g.RevokedAt != nil {
			t.Fatalf("a refused apply revoked the grant: %+v, %v", g, err)
		}
		// A confirmation of another plan is refused: here the grants changed since (one more
		// person holds wiki/members), so the plan shown is not what the apply would do.
		f.grant("user", "wiki/members")
		e = must(t, f.do(t, request{method: "POST", path: "/api/v1/catalog/apply", token: f.secrets["admin"],
			body: jsonBody(map[string]any{"files": []map[string]string{{"name": "c.yaml", "content": smaller}},
				"prune": true, "reason": "cleanup", "confirm_revocations": rv.Confirmation}),
		}), http.StatusConflict).errorOf(t)
		if e.Revocations == nil || e.Revocations.Grants != 2 || e.Revocations.Confirmation == rv.Confirmation ||
			!strings.Contains(e.Message, "changed since the plan") {
			t.Fatalf("stale confirmation: %+v (revocations %+v)", e, e.Revocations)
		}
		// The confirmation of the current plan (here from the 409) goes through.
		var res service.ApplyResult
		must(t, f.do(t, request{method: "POST", path: "/api/v1/catalog/apply?prune=true&reason=cleanup&confirm_revocations=" + e.Revocations.Confirmation,
			token: f.secrets["admin"], body: smaller, contentType: "application/yaml"}), s200).json(t, &res)
		if res.Result.RevokedGrants != 2 {
			t.Errorf("prune revoked %d grants, want 2", res.Result.RevokedGrants)
		}
		g, err := f.st.GetGrant(t.Context(), f.revokable.ID)
		if err != nil || g.RevokedAt == nil {
			t.Errorf("grant of the pruned entitlement: %+v, %v", g, err)
		}
	})
}

func TestCatalogErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, engines[0].open(t))
	bad := strings.Replace(seedCatalog, "risk: privileged", "risk: extreme", 1)
	badLine := 0
	for i, line := range strings.Split(bad, "\n") {
		if strings.Contains(line, "risk: extreme") {
			badLine = i + 1
		}
	}

	for _, tc := range []struct {
		name        string
		path        string
		body, ct    string
		header      map[string]string
		status      int
		wantFile    string
		wantMessage string
	}{
		{"yaml with file name", "/api/v1/catalog/plan", bad, "application/yaml", map[string]string{"X-Catalog-File": "systems/prod.yaml"}, 400, "systems/prod.yaml", ""},
		{"yaml default name", "/api/v1/catalog/apply", bad, "text/yaml", nil, 400, "catalog.yaml", ""},
		{"json files", "/api/v1/catalog/plan", jsonBody(map[string]any{"files": []map[string]string{{"name": "cat.yaml", "content": bad}}}), "application/json", nil, 400, "cat.yaml", ""},
		{"no content type", "/api/v1/catalog/plan", seedCatalog, "text/plain", nil, 400, "", "Content-Type"},
		{"no files", "/api/v1/catalog/plan", `{"files":[]}`, "application/json", nil, 400, "", "files"},
		{"duplicate names", "/api/v1/catalog/plan", `{"files":[{"name":"a","content":""},{"name":"a","content":""}]}`, "application/json", nil, 400, "", "twice"},
		{"bad file name", "/api/v1/catalog/plan", `{"files":[{"name":"a\u0007b","content":""}]}`, "application/json", nil, 400, "", "control character"},
		{"bad prune", "/api/v1/catalog/apply?prune=maybe", seedCatalog, "application/yaml", nil, 400, "", "prune"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := f.do(t, request{method: "POST", path: tc.path, token: f.secrets["admin"], body: tc.body, contentType: tc.ct, header: tc.header})
			e := must(t, a, tc.status).errorOf(t)
			if e.Code != "invalid" {
				t.Errorf("code %q, want invalid", e.Code)
			}
			if tc.wantMessage != "" && !strings.Contains(e.Message, tc.wantMessage) {
				t.Errorf("message %q does not mention %q", e.Message, tc.wantMessage)
			}
			if tc.wantFile == "" {
				return
			}
			i := slices.IndexFunc(e.Details, func(p gatehouse.Problem) bool { return p.File == tc.wantFile && p.Line == badLine })
			if i < 0 {
				t.Fatalf("no detail at %s:%d in %+v", tc.wantFile, badLine, e.Details)
			}
			if d := e.Details[i]; !strings.Contains(d.Field, "risk") || d.Message == "" {
				t.Errorf("detail %+v does not name the field", d)
			}
		})
	}
}

func TestGrantHandlers(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, f *fixture) {
		body := `{"identity":"E-user","entitlement":"wiki/members","reference":"INC-7","duration":"1d","reason":"outage"}`
		var g gatehouse.Grant
		must(t, f.as(t, "operator", "POST", "/api/v1/grants", body), s201).json(t, &g)
		if g.IdentityID != f.ids["user"].ID || g.Source != gatehouse.SourceDirect || g.ExpiresAt == nil ||
			g.ExpiresAt.Sub(g.GrantedAt) != 24*time.Hour || g.GrantedBy != "operator@example.com" {
			t.Errorf("grant = %+v", g)
		}
		must(t, f.as(t, "operator", "POST", "/api/v1/grants", body), http.StatusConflict) // already held

		// The holder sees it; another ordinary identity does not.
		must(t, f.as(t, "user", "GET", "/api/v1/grants/"+g.ID, ""), s200)
		var mine gatehouse.Page[*gatehouse.Grant]
		must(t, f.as(t, "user", "GET", "/api/v1/grants", ""), s200).json(t, &mine)
		for _, x := range mine.Items {
			if x.IdentityID != f.ids["user"].ID {
				t.Errorf("user sees a grant of %s", x.IdentityID)
			}
		}
		if len(mine.Items) != 2 {
			t.Errorf("user sees %d grants, want 2", len(mine.Items))
		}
		must(t, f.as(t, "user", "GET", "/api/v1/grants?identity=other@example.com", ""), s403)

		// Filters.
		for _, tc := range []struct {
			query string
			want  int
		}{
			{"identity=user@example.com", 2},
			{"entitlement=corp-ldap/engineering", 2},
			{"system=wiki", 2},
			{"source=direct", 4},
			{"source=direct&identity=E-other", 2},
		} {
			var page gatehouse.Page[*gatehouse.Grant]
			must(t, f.as(t, "auditor", "GET", "/api/v1/grants?"+tc.query, ""), s200).json(t, &page)
			if len(page.Items) != tc.want {
				t.Errorf("?%s: %d grants, want %d", tc.query, len(page.Items), tc.want)
			}
		}

		// Revoke, revoke again, and find it among the revoked.
		var revoked gatehouse.Grant
		must(t, f.as(t, "operator", "POST", "/api/v1/grants/"+g.ID+"/revoke", `{"reason":"outage over"}`), s200).json(t, &revoked)
		if revoked.RevokedAt == nil || revoked.RevokeReason != "outage over" || revoked.RevokedBy != "operator@example.com" {
			t.Errorf("revoked = %+v", revoked)
		}
		must(t, f.as(t, "operator", "POST", "/api/v1/grants/"+g.ID+"/revoke", `{"reason":"again"}`), http.StatusConflict)
		must(t, f.as(t, "operator", "POST", "/api/v1/grants/"+g.ID+"/revoke", `{}`), http.StatusBadRequest)
		var page gatehouse.Page[*gatehouse.Grant]
		must(t, f.as(t, "auditor", "GET", "/api/v1/grants?status=revoked", ""), s200).json(t, &page)
		if len(page.Items) != 1 || page.Items[0].ID != g.ID {
			t.Errorf("revoked grants = %+v", page.Items)
		}

		// Accounts: none observed yet, an empty list rather than null.
		a := must(t, f.as(t, "auditor", "GET", "/api/v1/accounts?system=corp-ldap", ""), s200)
		if !strings.Contains(string(a.body), `"items":[]`) {
			t.Errorf("accounts: %s", a.body)
		}
	})
}

func TestTokenHandlers(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		var created service.CreatedToken
		a := must(t, f.as(t, "user", "POST", "/api/v1/tokens", `{"ttl":"30d","description":"laptop CLI"}`), s201)
		a.json(t, &created)
		secret := created.Secret
		if !strings.HasPrefix(secret, gatehouse.TokenPrefix) || created.Token.IdentityID != f.ids["user"].ID {
			t.Fatalf("created = %+v", created)
		}
		// CreatedAt is stamped by the store's clock and ExpiresAt by the service's: allow a second.
		if d := created.Token.ExpiresAt.Sub(created.Token.CreatedAt); d < 30*24*time.Hour-time.Second || d > 30*24*time.Hour+time.Second {
			t.Errorf("ttl 30d gave %s", d)
		}
		if strings.Contains(string(a.body), `"hash"`) {
			t.Errorf("the answer shows the hash: %s", a.body)
		}

		// The store holds the hash, never the secret.
		stored, err := f.st.GetTokenByHash(ctx, gatehouse.HashToken(secret))
		if err != nil || stored.ID != created.Token.ID {
			t.Fatalf("stored token by hash: %+v, %v", stored, err)
		}
		if stored.Hash == secret || strings.Contains(stored.Hint, secret[len(gatehouse.TokenPrefix)+4:]) {
			t.Errorf("the store keeps the secret: %+v", stored)
		}

		// The new token works, and lists never show a secret.
		must(t, f.do(t, request{method: "GET", path: "/api/v1/me", token: secret}), s200)
		for _, caller := range []string{"user", "admin"} {
			a := must(t, f.as(t, caller, "GET", "/api/v1/tokens", ""), s200)
			if strings.Contains(string(a.body), secret) || strings.Contains(string(a.body), `"secret"`) || strings.Contains(string(a.body), `"hash"`) {
				t.Errorf("%s's list shows a secret: %s", caller, a.body)
			}
			var page gatehouse.Page[*gatehouse.Token]
			a.json(t, &page)
			if !slices.ContainsFunc(page.Items, func(tk *gatehouse.Token) bool { return tk.ID == created.Token.ID }) {
				t.Errorf("%s's list misses the new token", caller)
			}
			if caller == "user" && slices.ContainsFunc(page.Items, func(tk *gatehouse.Token) bool { return tk.IdentityID != f.ids["user"].ID }) {
				t.Errorf("user sees someone else's token")
			}
		}
		var narrowed gatehouse.Page[*gatehouse.Token]
		must(t, f.as(t, "admin", "GET", "/api/v1/tokens?identity=other@example.com", ""), s200).json(t, &narrowed)
		if len(narrowed.Items) != 1 || narrowed.Items[0].ID != f.otherToken.ID {
			t.Errorf("admin ?identity=other: %+v", narrowed.Items)
		}

		// Admins create tokens for others; others cannot.
		must(t, f.as(t, "admin", "POST", "/api/v1/tokens", `{"for":"other@example.com"}`), s201)
		must(t, f.as(t, "user", "POST", "/api/v1/tokens", `{"for":"other@example.com"}`), s403)
		must(t, f.do(t, request{method: "POST", path: "/api/v1/tokens", token: bootstrapSecret, body: `{}`}), http.StatusBadRequest)

		// Revoke: the token stops working and shows as revoked only on request.
		var revoked gatehouse.Token
		must(t, f.as(t, "user", "DELETE", "/api/v1/tokens/"+created.Token.ID, ""), s200).json(t, &revoked)
		if revoked.RevokedAt == nil {
			t.Errorf("revoked = %+v", revoked)
		}
		must(t, f.do(t, request{method: "GET", path: "/api/v1/me", token: secret}), s401)
		var active, all gatehouse.Page[*gatehouse.Token]
		must(t, f.as(t, "user", "GET", "/api/v1/tokens", ""), s200).json(t, &active)
		must(t, f.as(t, "user", "GET", "/api/v1/tokens?include_revoked=true", ""), s200).json(t, &all)
		if len(all.Items) != len(active.Items)+1 {
			t.Errorf("include_revoked: %d tokens, without: %d", len(all.Items), len(active.Items))
		}
	})
}

func TestAuditHandlers(t *testing.T) {
	t.Parallel()
	forEngine(t, func(t *testing.T, f *fixture) {
		var page gatehouse.Page[*gatehouse.AuditEvent]
		must(t, f.as(t, "auditor", "GET", "/api/v1/audit/events?action=identity.create&order=asc", ""), s200).json(t, &page)
		if len(page.Items) != 5 || page.Items[0].ObjectID != f.ids["admin"].ID {
			t.Fatalf("identity.create ascending: %d events, first %+v", len(page.Items), page.Items[0])
		}
		for i := 1; i < len(page.Items); i++ {
			if page.Items[i].Seq <= page.Items[i-1].Seq {
				t.Errorf("order=asc is not ascending at %d", i)
			}
		}
		must(t, f.as(t, "auditor", "GET", "/api/v1/audit/events?object_type=grant&object_id="+f.userGrant.ID, ""), s200).json(t, &page)
		if len(page.Items) != 1 || page.Items[0].Action != "grant.create" || page.Items[0].Actor != "system:test" {
			t.Errorf("events of the user's grant: %+v", page.Items)
		}
		future := url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))
		must(t, f.as(t, "auditor", "GET", "/api/v1/audit/events?since="+future, ""), s200).json(t, &page)
		if len(page.Items) != 0 {
			t.Errorf("events since the future: %d", len(page.Items))
		}
		must(t, f.as(t, "auditor", "GET", "/api/v1/audit/events?actor=system:test&action=token.&limit=2", ""), s200).json(t, &page)
		if len(page.Items) != 2 || page.NextCursor == "" || !strings.HasPrefix(string(page.Items[0].Action), "token.") {
			t.Errorf("token events, page of 2: %+v (next %q)", page.Items, page.NextCursor)
		}

		var v service.Verification
		must(t, f.as(t, "auditor", "GET", "/api/v1/audit/verify", ""), s200).json(t, &v)
		head, _, err := f.st.AuditHead(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !v.OK || v.Count != head || v.HeadSeq != head || v.Break != nil {
			t.Errorf("verify = %+v, head %d", v, head)
		}
	})
}

// failingStore is a store whose database does not answer pings.
type failingStore struct{ store.Store }

func (failingStore) Ping(context.Context) error {
	return errors.New("dial tcp 10.0.0.1:5432: connection refused")
}

func TestHealth(t *testing.T) {
	t.Parallel()
	f := newFixture(t, engines[0].open(t))
	a := must(t, f.do(t, request{method: "GET", path: "/healthz"}), s200)
	if string(a.body) != "{\"status\":\"ok\"}\n" {
		t.Errorf("healthz body %q", a.body)
	}
	must(t, f.do(t, request{method: "GET", path: "/readyz"}), s200)

	down := newAPI(service.New(failingStore{f.st}, service.Options{}), Options{Logger: f.api.log})
	w := httpDo(down, "GET", "/readyz")
	if w.status != http.StatusServiceUnavailable || strings.Contains(string(w.body), "10.0.0.1") {
		t.Errorf("readyz with the database down: %d %s", w.status, w.body)
	}
	if e := w.errorOf(t); e.Code != "unavailable" {
		t.Errorf("code %q", e.Code)
	}
}

// httpDo calls h without a token.
func httpDo(h http.Handler, method, path string) answer {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
	return answer{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	f := newFixture(t, engines[0].open(t))
	must(t, f.as(t, "user", "GET", "/api/v1/me", ""), s200)
	must(t, f.as(t, "user", "GET", "/api/v1/identities", ""), s403)
	f.do(t, request{method: "BREW", path: "/api/v1/me"})
	f.do(t, request{method: "GET", path: "/api/v1/no/such/route/" + strings.Repeat("x", 10)})
	must(t, f.as(t, "user", "GET", "/api/v1/entitlements/corp-ldap/engineering", ""), s200)

	a := must(t, f.do(t, request{method: "GET", path: "/metrics"}), s200)
	text := string(a.body)
	head, _, err := f.st.AuditHead(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`gatehouse_http_requests_total{code="200",method="GET",route="/api/v1/me"} 1`,
		`gatehouse_http_requests_total{code="403",method="GET",route="/api/v1/identities"} 1`,
		`gatehouse_http_requests_total{code="405",method="OTHER",route="unmatched"} 1`,
		`gatehouse_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`gatehouse_http_request_duration_seconds_bucket{route="/api/v1/entitlements/{id...}",le="+Inf"} 1`,
		`gatehouse_identities{status="active"} 5`,
		`gatehouse_identities{status="terminated"} 0`,
		fmt.Sprintf("gatehouse_audit_head_seq %d", head),
		"gatehouse_store_up 1",
		"go_goroutines ",
		"process_cpu_seconds_total ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(text, "no/such/route") || strings.Contains(text, "BREW") {
		t.Error("metrics labels carry raw paths or methods")
	}
}

func TestRequestIDAndHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t, engines[0].open(t))
	a := f.do(t, request{method: "GET", path: "/api/v1/me", token: f.secrets["user"], header: map[string]string{"X-Request-Id": "abc-123"}})
	if a.header.Get("X-Request-Id") != "abc-123" {
		t.Errorf("request id not kept: %q", a.header.Get("X-Request-Id"))
	}
	a = f.do(t, request{method: "GET", path: "/api/v1/me", token: f.secrets["user"], header: map[string]string{"X-Request-Id": "bad id\n"}})
	if id := a.header.Get("X-Request-Id"); id == "" || strings.ContainsAny(id, " \n") {
		t.Errorf("bad request id kept or none made: %q", id)
	}
	if a.header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
		t.Errorf("headers: %v", a.header)
	}
}
