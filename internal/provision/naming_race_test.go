package provision_test

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// hookedConn is the real slapd connector with a hook run after the inventory is read (between
// a run's planning input and its operations) and an optional refusal of creations.
type hookedConn struct {
	connector.Connector
	afterInventory func(ctx context.Context)
	refuseCreate   bool
}

func (c *hookedConn) Inventory(ctx context.Context, groups []string) (*connector.Inventory, error) {
	inv, err := c.Connector.Inventory(ctx, groups)
	if c.afterInventory != nil {
		c.afterInventory(ctx)
	}
	return inv, err
}

func (c *hookedConn) CreateAccount(ctx context.Context, spec connector.AccountSpec) (connector.AccountRef, error) {
	if c.refuseCreate {
		return connector.AccountRef{}, connector.Permanentf("refused by the directory")
	}
	return c.Connector.CreateAccount(ctx, spec)
}

// TestAccountNamesRace: while a run plans John Smith as jsmith, another run (or replica) gives
// jsmith to Jane Smith. The store's unique index makes John's creation fail before anything is
// sent to the directory, retryably; the retry names him jsmith2 and says why. A creation the
// directory refuses forgets the name it claimed. Nobody ends up with somebody else's name.
func TestAccountNamesRace(t *testing.T) {
	slapd := ldaptest.Start(t, ldaptest.Options{})
	set := slapd.Settings()
	set["flavor"] = "openldap"
	tg := namingTarget{settings: set, naming: "      template: \"{given.1}{family}\"\n      max_length: 20\n", group: gStaff}
	ctx := t.Context()
	st := storetest.OpenSQLite(t)
	svc := service.New(st, service.Options{Secrets: tempSecrets})
	p := service.SystemPrincipal("test")
	if _, err := svc.CreateIdentity(ctx, p, &gatehouse.Identity{Email: "owner@example.com", Kind: gatehouse.KindService}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ApplyCatalog(ctx, p, []catalog.File{{Name: "c.yaml", Content: []byte(namingCatalog(tg))}}, false, "test"); err != nil {
		t.Fatal(err)
	}
	// Jane is in Sales: no account here yet; the concurrent run names her.
	res, err := svc.ImportHR(ctx, p, "hr.csv", []byte(hrHeader+
		"E1,john.smith@example.com,John,Smith,Eng,Staff,,HQ,employee,active,2020-01-01,\n"+
		"E2,jane.smith@example.com,Jane,Smith,Sales,Staff,,HQ,employee,active,2020-01-01,\n"), false)
	if err != nil || res.Import.Status != gatehouse.ImportApplied {
		t.Fatalf("import: %v %+v", err, res)
	}
	jane, err := st.GetIdentity(ctx, "jane.smith@example.com")
	if err != nil {
		t.Fatal(err)
	}
	hook := &hookedConn{}
	rec := &provision.Reconciler{Store: st, Open: func(ctx context.Context, sys *gatehouse.System) (connector.Connector, error) {
		c, err := connectors.Open(ctx, sys.Connector, nil)
		hook.Connector = c
		return hook, err
	}}
	directory := func() map[string]string {
		return readNames(t, slapd.Conn(t), ldaptest.PeopleDN, "(objectClass=inetOrgPerson)", "uid", "employeeNumber")
	}

	// A creation the directory refuses: the name claimed for it is forgotten.
	hook.refuseCreate = true
	if _, err := rec.Reconcile(ctx, "dir", provision.RunOptions{Cause: "test"}); err == nil || !strings.Contains(err.Error(), "refused by the directory") {
		t.Fatalf("refused creation: %v", err)
	}
	if names, err := st.ListAccountNames(ctx, "dir"); err != nil || len(names) != 0 {
		t.Fatalf("names after a refused creation: %+v, %v", names, err)
	}
	hook.refuseCreate = false

	// The race: jsmith is given to Jane after this run read what is taken.
	hook.afterInventory = func(ctx context.Context) {
		err := st.Update(ctx, func(tx store.Tx) error {
			if err := tx.AssignAccountName(ctx, &gatehouse.AccountName{SystemID: "dir", IdentityID: jane.ID, Name: "jsmith"}); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "other-run", Action: "account_name.assign", ObjectType: "system", ObjectID: "dir"})
		})
		if err != nil {
			t.Errorf("concurrent run: %v", err)
		}
	}
	run, err := rec.Reconcile(ctx, "dir", provision.RunOptions{Cause: "test"})
	if err == nil || connector.IsPermanent(err) || !strings.Contains(err.Error(), "account name jsmith on dir is already given to identity "+jane.ID) {
		t.Fatalf("racing run: %+v, %v; want a retryable conflict", run, err)
	}
	if got := directory(); len(got) != 0 {
		t.Fatalf("the losing run reached the directory: %v", got)
	}

	// The retry names John again, with jsmith taken.
	hook.afterInventory = nil
	run, err = rec.Reconcile(ctx, "dir", provision.RunOptions{Cause: "retry"})
	if err != nil || run.Failed != 0 {
		t.Fatalf("retry: %+v, %v", run, err)
	}
	if got := directory(); !maps.Equal(got, map[string]string{"E1": "jsmith2"}) {
		t.Fatalf("directory %v", got)
	}
	ops, err := st.ListOperations(ctx, gatehouse.OperationFilter{ReconcileID: run.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var detail string
	for _, o := range ops.Items {
		if o.Kind == string(provision.OpCreateAccount) {
			detail = o.Detail
		}
	}
	if want := "template {given.1}{family}: jsmith; jsmith2 (collision with jsmith, taken by the name given to jane.smith@example.com)"; detail != want {
		t.Errorf("detail %q, want %q", detail, want)
	}
	names, err := st.ListAccountNames(ctx, "dir")
	if err != nil || len(names) != 2 {
		t.Fatalf("names %+v, %v", names, err)
	}
	for _, n := range names {
		if want := map[string]string{jane.ID: "jsmith"}[n.IdentityID]; want != "" && n.Name != want || want == "" && n.Name != "jsmith2" {
			t.Errorf("name %+v", n)
		}
	}
	// The audit log: each name given with the plan that gave it, and the one forgotten.
	evs, err := st.ListAuditEvents(ctx, gatehouse.AuditFilter{Actor: provision.Actor, ObjectID: "dir", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var given, released []string
	for _, e := range evs.Items {
		switch {
		case e.Action == "reconcile.plan" && strings.Contains(string(e.After), "account_names"):
			given = append(given, string(e.After))
		case e.Action == "account_name.release":
			released = append(released, string(e.After))
		}
	}
	if len(given) != 2 || !strings.Contains(given[0], `"name":"jsmith2"`) || !strings.Contains(given[1], `"name":"jsmith"`) {
		t.Errorf("names in the plans' audit events:\n%s", strings.Join(given, "\n"))
	}
	if len(released) != 1 || !strings.Contains(released[0], `"name":"jsmith","reason":"refused by the directory"`) {
		t.Errorf("names released: %v", released)
	}
}
