package provision_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/connector/scim/scimtest"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The SCIM groups of the catalog, by displayName.
const (
	sStaff = "staff"
	sEng   = "engineering"
	sSales = "sales"
)

func scimCatalog(t *testing.T, srv *scimtest.Server, maxRetries int) string {
	set := srv.Settings(t)
	return fmt.Sprintf(`
settings:
  leaver_guard: {max_fraction: 0.9, min_count: 5}
systems:
  - id: app
    name: SCIM App
    owner: owner@example.com
    tier: critical
    connector:
      type: scim
      url: %s
      token_file: %s
      timeout: 5s
      max_retries: %d
      drift: {unknown_memberships: enforce, unknown_accounts: report}
entitlements:
  - {id: app/staff, system: app, name: Staff, kind: group, risk: standard, external_id: "%s"}
  - {id: app/eng, system: app, name: Engineering, kind: group, risk: standard, external_id: "%s"}
  - {id: app/sales, system: app, name: Sales, kind: group, risk: standard, external_id: "%s"}
roles:
  - {id: all-staff, name: All staff, entitlements: [app/staff], birthright: 'identity.status == "active"'}
  - {id: eng, name: Engineering, entitlements: [app/eng], birthright: 'identity.department == "Eng"'}
  - {id: sales, name: Sales, entitlements: [app/sales], birthright: 'identity.department == "Sales"'}
`, set["url"], set["token_file"], maxRetries, sStaff, sEng, sSales)
}

// scimState is what the SCIM server holds, read directly: active and inactive users (by the
// local part of their userName) and each group's members.
type scimState struct {
	enabled, disabled []string
	groups            map[string][]string
}

func (d scimState) String() string {
	return fmt.Sprintf("enabled=%v disabled=%v staff=%v eng=%v sales=%v", d.enabled, d.disabled,
		d.groups[sStaff], d.groups[sEng], d.groups[sSales])
}

func readSCIM(t *testing.T, srv *scimtest.Server) scimState {
	t.Helper()
	d := scimState{groups: map[string][]string{}}
	list := func(path string) []map[string]any {
		status, body := srv.Do(t, http.MethodGet, path+"?count=100", nil)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, status, body)
		}
		rs, _ := body["Resources"].([]any)
		var out []map[string]any
		for _, r := range rs {
			out = append(out, r.(map[string]any))
		}
		return out
	}
	name := map[string]string{}
	for _, u := range list("/Users") {
		n, _, _ := strings.Cut(u["userName"].(string), "@")
		name[u["id"].(string)] = n
		if u["active"] == false {
			d.disabled = append(d.disabled, n)
		} else {
			d.enabled = append(d.enabled, n)
		}
	}
	for _, g := range list("/Groups") {
		var ms []string
		members, _ := g["members"].([]any)
		for _, m := range members {
			v := m.(map[string]any)["value"].(string)
			ms = append(ms, cmpOrID(name[v], v))
		}
		slices.Sort(ms)
		d.groups[g["displayName"].(string)] = ms
	}
	slices.Sort(d.enabled)
	slices.Sort(d.disabled)
	return d
}

func cmpOrID(name, id string) string {
	if name == "" {
		return "?" + id
	}
	return name
}

type scimFixture struct {
	t   *testing.T
	srv *scimtest.Server
	svc *service.Service
	st  store.Store
	q   *jobs.Host
}

func newSCIMFixture(t *testing.T, kind scimtest.Kind, maxRetries int) *scimFixture {
	srv := scimtest.Start(t, kind)
	ctx := t.Context()
	st := storetest.OpenSQLite(t)
	svc := service.New(st, service.Options{Secrets: tempSecrets})
	p := service.SystemPrincipal("test")
	if _, err := svc.CreateIdentity(ctx, p, &gatehouse.Identity{Email: "owner@example.com", Kind: gatehouse.KindService}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ApplyCatalog(ctx, p, []catalog.File{{Name: "c.yaml", Content: []byte(scimCatalog(t, srv, maxRetries))}}, false, "test"); err != nil {
		t.Fatal(err)
	}
	rec := &provision.Reconciler{Store: st, Open: func(ctx context.Context, sys *gatehouse.System) (connector.Connector, error) {
		return connectors.Open(ctx, sys.Connector, nil)
	}}
	q, err := jobs.New(ctx, st, rec, jobs.Options{PollInterval: 50 * time.Millisecond,
		RetryBase: 100 * time.Millisecond, RetryMax: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Stop(context.Background()) })
	return &scimFixture{t: t, srv: srv, svc: svc, st: st, q: q}
}

func (f *scimFixture) importHR(rows ...string) string {
	f.t.Helper()
	res, err := f.svc.ImportHR(f.t.Context(), service.SystemPrincipal("test"), "hr.csv", []byte(hrHeader+strings.Join(rows, "")), false)
	if err != nil {
		f.t.Fatalf("import: %v", err)
	}
	if res.Import.Status != gatehouse.ImportApplied {
		f.t.Fatalf("import %s: %s", res.Import.Status, res.Import.Reason)
	}
	return provision.HRImportCause(res.Import.ID)
}

func (f *scimFixture) reconcile(cause string) []provision.JobState {
	f.t.Helper()
	ids, err := f.q.EnqueueAll(f.t.Context(), cause, false)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.wait(ids, allDone)
}

func (f *scimFixture) wait(ids []int64, ok func([]provision.JobState) bool) []provision.JobState {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		js, err := f.q.Jobs(f.t.Context(), ids)
		if err != nil {
			f.t.Fatal(err)
		}
		if ok(js) {
			return js
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("jobs did not get there in 30s: %+v\npeer: %s", js, f.srv.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (f *scimFixture) want(want scimState) {
	f.t.Helper()
	if got := readSCIM(f.t, f.srv); got.String() != want.String() {
		f.t.Fatalf("SCIM server:\n got  %s\n want %s", got, want)
	}
}

// TestSCIMEndToEnd: catalog with a SCIM system → HR import → reconcile through the job queue →
// the SCIM server holds exactly the users and memberships the birthright rules imply; then a
// mover and a leaver (deactivated, removed from its groups), and a hand-made membership
// removed. Against both peers.
func TestSCIMEndToEnd(t *testing.T) {
	scimtest.Require(t)
	t.Parallel()
	for _, kind := range scimtest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			f := newSCIMFixture(t, kind, 3)
			ctx := t.Context()

			// Joiners.
			cause := f.importHR(hrRow(1, "Eng", "active"), hrRow(2, "Eng", "active"), hrRow(3, "Sales", "active"),
				hrRow(4, "Sales", "active"), hrRow(5, "Eng", "terminated"))
			f.reconcile(cause)
			f.want(scimState{enabled: []string{"owner", "p1", "p2", "p3", "p4"}, groups: map[string][]string{
				sStaff: {"owner", "p1", "p2", "p3", "p4"}, sEng: {"p1", "p2"}, sSales: {"p3", "p4"}}})
			ops, err := f.st.ListOperations(ctx, gatehouse.OperationFilter{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if len(ops.Items) != 5+9 {
				t.Fatalf("%d operations, want 5 accounts and 9 memberships", len(ops.Items))
			}
			for _, o := range ops.Items {
				if o.Status != gatehouse.OpApplied || o.FinishedAt == nil || !strings.HasPrefix(o.Cause, "grant:") {
					t.Fatalf("operation = %+v", o)
				}
			}

			// Converged: a second reconcile changes nothing.
			f.reconcile(provision.CauseSchedule)
			if again, _ := f.st.ListOperations(ctx, gatehouse.OperationFilter{Limit: 1000}); len(again.Items) != len(ops.Items) {
				t.Fatalf("a converged reconcile planned %d operations", len(again.Items)-len(ops.Items))
			}

			// A mover (p2 Eng → Sales) and a leaver (p4): deactivated, out of its groups.
			cause = f.importHR(hrRow(1, "Eng", "active"), hrRow(2, "Sales", "active"), hrRow(3, "Sales", "active"),
				hrRow(4, "Sales", "terminated"), hrRow(5, "Eng", "terminated"))
			f.reconcile(cause)
			f.want(scimState{enabled: []string{"owner", "p1", "p2", "p3"}, disabled: []string{"p4"}, groups: map[string][]string{
				sStaff: {"owner", "p1", "p2", "p3"}, sEng: {"p1"}, sSales: {"p2", "p3"}}})

			// A membership added by hand is drift, removed under enforce, and reported.
			var p1, salesID string
			st := readSCIMIDs(t, f.srv)
			p1, salesID = st["user:p1"], st["group:"+sSales]
			status, body := f.srv.Do(t, http.MethodPatch, "/Groups/"+salesID, map[string]any{
				"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": []map[string]any{{"op": "add", "path": "members",
					"value": []map[string]any{{"value": p1}}}},
			})
			if status != http.StatusOK && status != http.StatusNoContent {
				t.Fatalf("add member by hand: %d %v", status, body)
			}
			f.reconcile(provision.CauseSchedule)
			f.want(scimState{enabled: []string{"owner", "p1", "p2", "p3"}, disabled: []string{"p4"}, groups: map[string][]string{
				sStaff: {"owner", "p1", "p2", "p3"}, sEng: {"p1"}, sSales: {"p2", "p3"}}})
			runs, err := f.st.ListReconciles(ctx, gatehouse.ReconcileFilter{Latest: true})
			if err != nil || len(runs.Items) != 1 {
				t.Fatalf("latest runs = %+v, %v", runs, err)
			}
			fs := runs.Items[0].Findings
			if len(fs) != 1 || fs[0].Kind != "unknown_membership" || fs[0].Group != sSales || fs[0].Action != "enforce" {
				t.Fatalf("findings = %+v", fs)
			}
		})
	}
}

// readSCIMIDs maps "user:<local part>" and "group:<displayName>" to SCIM ids.
func readSCIMIDs(t *testing.T, srv *scimtest.Server) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, path := range []string{"/Users", "/Groups"} {
		status, body := srv.Do(t, http.MethodGet, path+"?count=100", nil)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, status)
		}
		rs, _ := body["Resources"].([]any)
		for _, r := range rs {
			m := r.(map[string]any)
			if un, ok := m["userName"].(string); ok {
				n, _, _ := strings.Cut(un, "@")
				out["user:"+n] = m["id"].(string)
			} else {
				out["group:"+m["displayName"].(string)] = m["id"].(string)
			}
		}
	}
	return out
}

// TestSCIMRateLimited: the peer answers 429 (Retry-After: 1) for a while; the connector waits
// up to max_retries times, then fails the reconcile retryably, the job queue backs off, and
// the system converges once the peer answers again.
func TestSCIMRateLimited(t *testing.T) {
	scimtest.Require(t)
	t.Parallel()
	for _, kind := range scimtest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			f := newSCIMFixture(t, kind, 1)
			ctx := t.Context()
			cause := f.importHR(hrRow(1, "Eng", "active"), hrRow(2, "Sales", "active"))
			f.srv.Fail(t, http.StatusTooManyRequests, 8, time.Second)
			ids, err := f.q.EnqueueAll(ctx, cause, false)
			if err != nil {
				t.Fatal(err)
			}
			js := f.wait(ids, allDone)
			if js[0].State != "completed" || js[0].Attempt < 2 {
				t.Fatalf("after the 429s: %+v, want completed after more than one attempt", js[0])
			}
			runs, err := f.st.ListReconciles(ctx, gatehouse.ReconcileFilter{JobIDs: ids})
			if err != nil || len(runs.Items) == 0 {
				t.Fatalf("runs = %+v, %v", runs, err)
			}
			var refused bool
			for _, r := range runs.Items {
				refused = refused || (r.Status == gatehouse.ReconcileFailed && strings.Contains(r.Error, "429"))
			}
			if !refused {
				t.Fatalf("no run failed on the 429s: %+v", runs.Items)
			}
			f.want(scimState{enabled: []string{"owner", "p1", "p2"}, groups: map[string][]string{
				sStaff: {"owner", "p1", "p2"}, sEng: {"p1"}, sSales: {"p2"}}})
			t.Logf("rate limited: converged after %d attempts", js[0].Attempt)
		})
	}
}

// TestSCIMTargeted: an HR import moving one person, through the service, is reconciled by a
// run targeted at that person: the SCIM users are looked up, never listed in full, the mover
// converges, and a hand-made membership of somebody else is left for the next full run.
func TestSCIMTargeted(t *testing.T) {
	scimtest.Require(t)
	t.Parallel()
	for _, kind := range scimtest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			f := newSCIMFixture(t, kind, 3)
			ctx := t.Context()
			rows := []string{hrRow(1, "Eng", "active"), hrRow(2, "Eng", "active"), hrRow(3, "Sales", "active")}
			f.reconcile(f.importHR(rows...))
			ids := readSCIMIDs(t, f.srv)
			status, body := f.srv.Do(t, http.MethodPatch, "/Groups/"+ids["group:"+sSales], map[string]any{
				"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": []map[string]any{{"op": "add", "path": "members",
					"value": []map[string]any{{"value": ids["user:p1"]}}}},
			})
			if status != http.StatusOK && status != http.StatusNoContent {
				t.Fatalf("add member by hand: %d %v", status, body)
			}
			f.srv.ClearRequests(t)

			// p2 moves Eng → Sales, imported through the service as `gatehouse serve` does.
			svc := service.New(f.st, service.Options{Jobs: f.q})
			res, err := svc.ImportHR(ctx, service.SystemPrincipal("test"), "hr.csv",
				[]byte(hrHeader+hrRow(1, "Eng", "active")+hrRow(2, "Sales", "active")+hrRow(3, "Sales", "active")), false)
			if err != nil || res.Import.Status != gatehouse.ImportApplied {
				t.Fatalf("import: %+v, %v", res, err)
			}
			want := provision.HRImportCause(res.Import.ID) + " (targeted: 1 people)"
			var run *gatehouse.Reconcile
			for deadline := time.Now().Add(30 * time.Second); run == nil; time.Sleep(20 * time.Millisecond) {
				runs, err := f.st.ListReconciles(ctx, gatehouse.ReconcileFilter{SystemID: "app", Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range runs.Items {
					if r.Cause == want && r.FinishedAt != nil {
						run = r
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("no finished run %q in 30s: %+v", want, runs.Items)
				}
			}
			if run.Status != gatehouse.ReconcileConverged || run.Accounts != 1 || len(run.Findings) != 0 {
				t.Fatalf("targeted run = %+v, want converged over p2's account alone, no findings", run)
			}
			// (The connector's discovery reads one user: count=1.)
			for _, r := range f.srv.Requests(t) {
				path, query, _ := strings.Cut(r.Path, "?")
				if r.Method == http.MethodGet && path == "/Users" && !strings.Contains(query, "filter=") && query != "count=1" {
					t.Errorf("a targeted run listed every user: %s %s", r.Method, r.Path)
				}
			}
			f.want(scimState{enabled: []string{"owner", "p1", "p2", "p3"}, groups: map[string][]string{
				sStaff: {"owner", "p1", "p2", "p3"}, sEng: {"p1"}, sSales: {"p1", "p2", "p3"}}})

			// The next full run removes the hand-made membership.
			f.reconcile(provision.CauseSchedule)
			f.want(scimState{enabled: []string{"owner", "p1", "p2", "p3"}, groups: map[string][]string{
				sStaff: {"owner", "p1", "p2", "p3"}, sEng: {"p1"}, sSales: {"p2", "p3"}}})
		})
	}
}
