package catalog

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// examplePeople are the owners and approvers the example catalog names.
var examplePeople = []string{
	"tom.becker@example.com", "nadia.kowalski@example.com", "priya.raman@example.com", "sofia.marquez@example.com",
	"daniel.okafor@example.com", "robert.lindqvist@example.com",
}

// addPeople creates identities with the given emails, each with its audit event.
func addPeople(t testing.TB, s store.Store, emails ...string) map[string]*gatehouse.Identity {
	t.Helper()
	out := map[string]*gatehouse.Identity{}
	err := s.Update(context.Background(), func(tx store.Tx) error {
		for _, email := range emails {
			i := &gatehouse.Identity{
				EmployeeID: fmt.Sprintf("E%05d", len(out)+1), Email: email, FirstName: strings.Split(email, "@")[0],
				Department: "IT", Kind: gatehouse.KindPerson, Status: gatehouse.StatusActive,
				EmploymentType: gatehouse.Employee, StartDate: "2020-01-01", Source: "test",
			}
			if err := tx.CreateIdentity(context.Background(), i); err != nil {
				return err
			}
			after, _ := jsonOrNil(i)
			if err := tx.AppendAudit(context.Background(), &gatehouse.AuditEvent{Time: t0, Actor: "test",
				Action: "identity.create", ObjectType: "identity", ObjectID: i.ID, After: after}); err != nil {
				return err
			}
			out[email] = i
		}
		return nil
	})
	if err != nil {
		t.Fatalf("add people: %v", err)
	}
	return out
}

// exampleDoc loads testdata/example: a small catalog with one LDAP and one SCIM system whose
// owners and approvers are the people addPeople creates, kept apart from examples/catalog so
// the plan tests do not change when the demo company does.
func exampleDoc(t testing.TB) *Document {
	t.Helper()
	files, err := Load(filepath.Join("testdata", "example"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Parse(files, specs)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func mustParse(t testing.TB, files ...File) *Document {
	t.Helper()
	doc, err := Parse(files, specs)
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return doc
}

// planAndApply makes a plan and applies it in one transaction, as the service does.
func planAndApply(t testing.TB, s store.Store, doc *Document, opts ApplyOptions) (*Plan, *Result, error) {
	t.Helper()
	if opts.Actor == "" {
		opts.Actor = "admin@example.com"
	}
	if opts.Now.IsZero() {
		opts.Now = t0
	}
	var (
		plan *Plan
		res  *Result
	)
	err := s.Update(context.Background(), func(tx store.Tx) error {
		var err error
		if plan, err = MakePlan(context.Background(), tx, doc); err != nil {
			return err
		}
		res, err = Apply(context.Background(), tx, plan, opts)
		return err
	})
	return plan, res, err
}

func makePlan(t *testing.T, s store.Store, doc *Document) *Plan {
	t.Helper()
	plan, err := MakePlan(t.Context(), s, doc)
	if err != nil {
		t.Fatalf("MakePlan: %v", err)
	}
	return plan
}

// auditActions lists the actions of all events, oldest first.
func auditActions(t *testing.T, s store.Store) []string {
	t.Helper()
	var out []string
	err := s.ScanAuditEvents(t.Context(), func(ev *gatehouse.AuditEvent) error {
		out = append(out, string(ev.Action))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func auditEvents(t *testing.T, s store.Store, action string) []*gatehouse.AuditEvent {
	t.Helper()
	var out []*gatehouse.AuditEvent
	err := s.ScanAuditEvents(t.Context(), func(ev *gatehouse.AuditEvent) error {
		if string(ev.Action) == action {
			out = append(out, ev)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func opsOf(p *Plan) []string {
	out := make([]string, len(p.Changes))
	for i, c := range p.Changes {
		out[i] = c.Op + " " + c.Kind + " " + c.ID
		if len(c.Fields) > 0 {
			out[i] += " (" + strings.Join(c.Fields, ", ") + ")"
		}
	}
	return out
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

func TestPlanApplyLifecycle(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	addPeople(t, s, examplePeople...)
	doc := exampleDoc(t)

	// 1. Everything is new.
	plan := makePlan(t, s, doc)
	want := []string{
		"change settings settings (security_approvers)",
		"add system corp-ldap", "add system erp", "add system wiki",
		"add entitlement corp-ldap/domain-admins", "add entitlement corp-ldap/engineering", "add entitlement corp-ldap/vpn",
		"add entitlement erp/payments-approve", "add entitlement erp/payments-create", "add entitlement wiki/admins", "add entitlement wiki/members",
		"add role accounts-payable", "add role all-staff", "add role engineering-baseline",
		"add sod directory-wiki-admin", "add sod payments-maker-checker",
	}
	if got := opsOf(plan); !slices.Equal(got, want) {
		t.Fatalf("first plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if plan.Digest != doc.Digest {
		t.Errorf("plan digest %s, want the document's %s", plan.Digest, doc.Digest)
	}
	wantSummary := Summary{Settings: Counts{Changed: 1}, Systems: Counts{Added: 3}, Entitlements: Counts{Added: 7}, Roles: Counts{Added: 3}, SoD: Counts{Added: 2}}
	if plan.Summary() != wantSummary {
		t.Errorf("Summary = %+v, want %+v", plan.Summary(), wantSummary)
	}
	var out bytes.Buffer
	if err := plan.Write(&out); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"~ settings (security_approvers)\n", "+ system corp-ldap\n", "+ entitlement corp-ldap/engineering\n", "to add, 1 to change, 0 to remove."} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("Write output lacks %q:\n%s", line, out.String())
		}
	}

	before := len(auditActions(t, s))
	_, res, err := planAndApply(t, s, doc, ApplyOptions{Reason: "PR #1"})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if res.NoChange || res.Summary != wantSummary || res.RevokedGrants != 0 {
		t.Errorf("Result = %+v", res)
	}
	actions := auditActions(t, s)[before:]
	if len(actions) != len(want)+1 {
		t.Errorf("apply wrote %d audit events, want one per change plus catalog.apply (%d):\n%v", len(actions), len(want)+1, actions)
	}
	if count(actions, "entitlement.create") != 7 || count(actions, "settings.update") != 1 || actions[len(actions)-1] != "catalog.apply" {
		t.Errorf("audit actions: %v", actions)
	}
	ev := auditEvents(t, s, "entitlement.create")[0]
	if ev.Actor != "admin@example.com" || ev.ObjectType != "entitlement" || ev.ObjectID != "corp-ldap/domain-admins" ||
		ev.Reference != "catalog:"+doc.Digest[:12] || ev.Reason != "PR #1" || ev.Before != nil ||
		!strings.Contains(string(ev.After), `"max_duration":"8h0m0s"`) {
		t.Errorf("entitlement.create event: %+v after=%s", ev, ev.After)
	}
	applied := auditEvents(t, s, "catalog.apply")
	if len(applied) != 1 || applied[0].ObjectType != "catalog" || applied[0].ObjectID != doc.Digest ||
		!strings.Contains(string(applied[0].After), `"entitlements":{"added":7,"changed":0,"removed":0}`) {
		t.Errorf("catalog.apply events: %+v", applied)
	}

	// 2. Idempotent: the same document again changes nothing and writes nothing.
	if again := makePlan(t, s, doc); !again.Empty() {
		t.Fatalf("second plan is not empty:\n%s", strings.Join(opsOf(again), "\n"))
	}
	n := len(auditActions(t, s))
	_, res, err = planAndApply(t, s, doc, ApplyOptions{})
	if err != nil || !res.NoChange {
		t.Fatalf("re-apply: %+v, %v", res, err)
	}
	if len(auditActions(t, s)) != n {
		t.Error("an empty plan wrote audit events")
	}
	out.Reset()
	_ = makePlan(t, s, doc).Write(&out)
	if !strings.HasPrefix(out.String(), "No changes") {
		t.Errorf("Write of an empty plan: %q", out.String())
	}

	// 3. Change, add and remove.
	files, _ := Load(filepath.Join("testdata", "example"))
	systems := strings.Replace(string(files[1].Content), "owner: priya.raman@example.com\n    tier: standard", "owner: daniel.okafor@example.com\n    tier: high", 1)
	access := string(files[0].Content)
	access = access[:strings.Index(access, "  - id: accounts-payable")] + access[strings.Index(access, "sod:"):]
	access = strings.Replace(access, "entitlements:\n", "entitlements:\n  - {id: wiki/readers, system: wiki, name: Readers, kind: group, risk: standard}\n", 1)
	doc2 := mustParse(t, File{Name: "access.yaml", Content: []byte(access)}, File{Name: "systems.yaml", Content: []byte(systems)})
	plan = makePlan(t, s, doc2)
	// wiki/admins and wiki/members take their owner from the system, so they change with it.
	want = []string{"change system wiki (owner, tier)", "change entitlement wiki/admins (owner)", "change entitlement wiki/members (owner)",
		"add entitlement wiki/readers", "remove role accounts-payable"}
	if got := opsOf(plan); !slices.Equal(got, want) {
		t.Fatalf("second plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	out.Reset()
	_ = plan.Write(&out)
	for _, line := range []string{"~ system wiki (owner, tier)\n", "+ entitlement wiki/readers\n", "- role accounts-payable\n"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("Write output lacks %q:\n%s", line, out.String())
		}
	}
	if _, _, err := planAndApply(t, s, doc2, ApplyOptions{}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if _, err := s.GetRole(t.Context(), "accounts-payable"); gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
		t.Errorf("removed role still there: %v", err)
	}
	upd := auditEvents(t, s, "system.update")
	if len(upd) != 1 || !strings.Contains(string(upd[0].Before), `"tier":"standard"`) || !strings.Contains(string(upd[0].After), `"tier":"high"`) {
		t.Errorf("system.update events: %+v", upd)
	}
	if del := auditEvents(t, s, "role.delete"); len(del) != 1 || del[0].After != nil || del[0].Before == nil {
		t.Errorf("role.delete events: %+v", del)
	}
	if len(auditEvents(t, s, "catalog.apply")) != 2 {
		t.Error("want exactly one catalog.apply event per apply")
	}
	if p := makePlan(t, s, doc2); !p.Empty() {
		t.Errorf("plan after apply is not empty: %v", opsOf(p))
	}
	stored, err := s.LoadCatalog(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(stored, specs); err != nil {
		t.Errorf("the stored catalog does not validate:\n%v", err)
	}
}

func TestPlanUnknownPeople(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	addPeople(t, s, "tom.becker@example.com", "nadia.kowalski@example.com", "Priya.Raman@Example.com", "daniel.okafor@example.com", "robert.lindqvist@example.com")
	files, err := Load(filepath.Join("testdata", "example"))
	if err != nil {
		t.Fatal(err)
	}
	doc := mustParse(t, files...)
	_, err = MakePlan(t.Context(), s, doc)
	ps := asProblems(t, err)
	access, systems := files[0].Name, files[1].Name
	want := []string{
		access + ":65: entitlements[erp/payments-approve].approval[2]: no identity with email sofia.marquez@example.com",
		systems + ":33: systems[erp].owner: no identity with email sofia.marquez@example.com",
	}
	if got := strings.Split(ps.Error(), "\n"); !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if gatehouse.ErrorCode(err) != gatehouse.EINVALID {
		t.Errorf("code %q, want invalid", gatehouse.ErrorCode(err))
	}
}

// grantTo gives an identity an entitlement, as a request would.
func grantTo(t *testing.T, s store.Store, who *gatehouse.Identity, entitlementID string) *gatehouse.Grant {
	t.Helper()
	g := &gatehouse.Grant{IdentityID: who.ID, EntitlementID: entitlementID, Source: gatehouse.SourceRequest,
		Reference: "REQ-1", GrantedBy: "manager@example.com", GrantedAt: t0}
	err := s.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.CreateGrant(t.Context(), g); err != nil {
			return err
		}
		return tx.AppendAudit(t.Context(), &gatehouse.AuditEvent{Time: t0, Actor: "test", Action: "grant.create", ObjectType: "grant", ObjectID: g.ID})
	})
	if err != nil {
		t.Fatalf("grant: %v", err)
	}
	return g
}

func TestRemovalWithGrants(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	people := addPeople(t, s, examplePeople...)
	if _, _, err := planAndApply(t, s, exampleDoc(t), ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	g1 := grantTo(t, s, people["nadia.kowalski@example.com"], "erp/payments-create")
	g2 := grantTo(t, s, people["sofia.marquez@example.com"], "erp/payments-create")
	g3 := grantTo(t, s, people["sofia.marquez@example.com"], "erp/payments-approve")
	keep := grantTo(t, s, people["sofia.marquez@example.com"], "wiki/members")
	if err := s.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.RevokeGrant(t.Context(), g3.ID, t0, "test", "left the team"); err != nil {
			return err
		}
		return tx.AppendAudit(t.Context(), &gatehouse.AuditEvent{Time: t0, Actor: "test", Action: "grant.revoke", ObjectType: "grant", ObjectID: g3.ID})
	}); err != nil {
		t.Fatal(err)
	}

	// Drop the ERP system, its entitlements, the role and the SoD rule that use them.
	files, _ := Load(filepath.Join("testdata", "example"))
	systems := string(files[1].Content)
	systems = systems[:strings.Index(systems, "  - id: erp")]
	access := string(files[0].Content)
	access = access[:strings.Index(access, "  - id: erp/payments-create")] + access[strings.Index(access, "roles:"):strings.Index(access, "  - id: accounts-payable")] +
		"sod:\n" + access[strings.Index(access, "  - id: directory-wiki-admin"):]
	doc := mustParse(t, File{Name: "access.yaml", Content: []byte(access)}, File{Name: "systems.yaml", Content: []byte(systems)})

	plan := makePlan(t, s, doc)
	want := []string{"remove sod payments-maker-checker", "remove role accounts-payable",
		"remove entitlement erp/payments-approve", "remove entitlement erp/payments-create", "remove system erp"}
	if got := opsOf(plan); !slices.Equal(got, want) {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	blocked := plan.Blocked()
	if len(blocked) != 1 || blocked[0].ID != "erp/payments-create" || blocked[0].ActiveGrants != 2 {
		t.Fatalf("Blocked() = %+v", blocked)
	}
	var out bytes.Buffer
	_ = plan.Write(&out)
	if !strings.Contains(out.String(), "! entitlement erp/payments-create has 2 active grant(s); re-run with --prune to revoke them\n") {
		t.Errorf("Write does not show the blocked removal:\n%s", out.String())
	}

	// Without prune: refused, nothing applied, nothing audited.
	n := len(auditActions(t, s))
	err := s.Update(t.Context(), func(tx store.Tx) error {
		plan, err := MakePlan(t.Context(), tx, doc)
		if err != nil {
			return err
		}
		_, err = Apply(t.Context(), tx, plan, ApplyOptions{Actor: "admin@example.com", Now: t0})
		if err != nil {
			if _, gerr := tx.GetEntitlement(t.Context(), "erp/payments-create"); gerr != nil {
				t.Errorf("Apply changed state before refusing: %v", gerr)
			}
		}
		return err
	})
	if gatehouse.ErrorCode(err) != gatehouse.ECONFLICT ||
		!strings.Contains(err.Error(), "entitlement erp/payments-create has 2 active grants; re-run with --prune to revoke them") {
		t.Fatalf("apply without prune: %v", err)
	}
	if len(auditActions(t, s)) != n {
		t.Error("a refused apply wrote audit events")
	}
	if _, err := s.GetSystem(t.Context(), "erp"); err != nil {
		t.Errorf("a refused apply removed the system: %v", err)
	}

	// With prune: the grants are revoked, each with an audit event, then the removals happen.
	_, res, err := planAndApply(t, s, doc, ApplyOptions{Prune: true, Reason: "ERP decommissioned"})
	if err != nil {
		t.Fatalf("apply with prune: %v", err)
	}
	if res.RevokedGrants != 2 {
		t.Errorf("RevokedGrants = %d, want 2", res.RevokedGrants)
	}
	for _, g := range []*gatehouse.Grant{g1, g2} {
		got, err := s.GetGrant(t.Context(), g.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.RevokedAt == nil || !got.RevokedAt.Equal(t0) || got.RevokeReason != PruneReason || got.RevokedBy != "admin@example.com" {
			t.Errorf("grant %s after prune: %+v", g.ID, got)
		}
	}
	if got, _ := s.GetGrant(t.Context(), keep.ID); got.RevokedAt != nil {
		t.Error("prune revoked a grant of a kept entitlement")
	}
	var revokes []*gatehouse.AuditEvent
	for _, ev := range auditEvents(t, s, "grant.revoke") {
		if ev.Reference == "catalog:"+doc.Digest[:12] {
			revokes = append(revokes, ev)
		}
	}
	if len(revokes) != 2 || revokes[0].ObjectType != "grant" || revokes[0].Reason != PruneReason+": ERP decommissioned" ||
		!strings.Contains(string(revokes[0].After), `"revoke_reason":"catalog prune: entitlement removed"`) {
		t.Errorf("grant.revoke events of the prune: %+v", revokes)
	}
	// The grants go just before their entitlement (erp/payments-create, the second removed).
	wantActions := []string{"sod.delete", "role.delete", "entitlement.delete", "grant.revoke", "grant.revoke",
		"entitlement.delete", "system.delete", "catalog.apply"}
	if got := auditActions(t, s)[n:]; !slices.Equal(got, wantActions) {
		t.Errorf("audit actions of the prune:\n%v\nwant\n%v", got, wantActions)
	}
	if p := makePlan(t, s, doc); !p.Empty() {
		t.Errorf("plan after prune is not empty: %v", opsOf(p))
	}
}

func TestApplyStalePlan(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	addPeople(t, s, examplePeople...)
	doc := exampleDoc(t)
	plan := makePlan(t, s, doc) // outside the transaction that applies it

	other := mustParse(t, File{Name: "a.yaml", Content: []byte("settings: {security_approvers: [nadia.kowalski@example.com]}\n")})
	if _, _, err := planAndApply(t, s, other, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	err := s.Update(t.Context(), func(tx store.Tx) error {
		_, err := Apply(t.Context(), tx, plan, ApplyOptions{Actor: "admin@example.com", Now: t0})
		return err
	})
	if gatehouse.ErrorCode(err) != gatehouse.ECONFLICT || !strings.Contains(err.Error(), "plan again") {
		t.Fatalf("apply of a stale plan: %v", err)
	}
}

func TestApplyOptionsChecked(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	err := s.Update(t.Context(), func(tx store.Tx) error {
		_, err := Apply(t.Context(), tx, &Plan{}, ApplyOptions{})
		return err
	})
	if gatehouse.ErrorCode(err) != gatehouse.EINVALID {
		t.Errorf("Apply without an actor: %v", err)
	}
	if _, err := MakePlan(t.Context(), s, nil); gatehouse.ErrorCode(err) != gatehouse.EINVALID {
		t.Errorf("MakePlan without a document: %v", err)
	}
}

// TestGeneratedCatalog applies a generated catalog (the benchmark's, small) and checks it
// round-trips through the store: stored and parsed compare equal, so a re-plan is empty.
func TestGeneratedCatalog(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	addPeople(t, s, genPeople()...)
	doc := mustParse(t, File{Name: "gen.yaml", Content: genCatalog(5, 200, 40)})
	plan, res, err := planAndApply(t, s, doc, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Summary.Entitlements.Added; got != 200 || len(plan.Changes) != 1+5+200+40+1 {
		t.Errorf("applied %d entitlements, %d changes", got, len(plan.Changes))
	}
	if p := makePlan(t, s, doc); !p.Empty() {
		t.Errorf("plan after apply is not empty: %v", opsOf(p)[:min(5, len(p.Changes))])
	}
}
