package provision_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/connectors"
	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/provision"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// namingTarget is a real directory for TestAccountNames*: the system's connector settings,
// the group to grant, and how to read each account's name by employee id as the directory
// holds it.
type namingTarget struct {
	settings map[string]any
	naming   string // the system's account_name block, YAML
	zoe      string // the email of the person with a non-ASCII name
	group    string
	names    func(t *testing.T) map[string]string // employee id → uid / sAMAccountName
}

func namingCatalog(tg namingTarget) string {
	var conn strings.Builder
	for _, k := range slices.Sorted(maps.Keys(tg.settings)) {
		fmt.Fprintf(&conn, "      %s: %q\n", k, fmt.Sprint(tg.settings[k]))
	}
	return fmt.Sprintf(`
settings:
  leaver_guard: {max_fraction: 0.9, min_count: 5}
systems:
  - id: dir
    name: Directory
    owner: owner@example.com
    tier: critical
    connector:
      type: ldap
%s    account_name:
%s
entitlements:
  - {id: dir/staff, system: dir, name: Staff, kind: group, risk: standard, external_id: "%s"}
roles:
  - {id: eng, name: Engineering, entitlements: [dir/staff], birthright: 'identity.department == "Eng"'}
`, conn.String(), tg.naming, tg.group)
}

// testNamingThroughEngine: a 25-character local part, a second person sharing its first 20
// characters, and a non-ASCII name go through the engine (HR import → plan → apply); the
// directory holds the names the plan announced, with the evidence on each create operation;
// the inventory reads the same names back, so a second reconcile plans nothing; and a third
// person sharing the prefix later gets a new name while the others keep theirs.
func testNamingThroughEngine(t *testing.T, tg namingTarget) {
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
	rows := []string{
		"E1,jane.doe-smithson-longname@example.com,Jane,Doe-Smithson-Longname,Eng,Staff,,HQ,employee,active,2020-01-01,\n",
		"E2,jane.doe-smithson-lobelia@example.com,Jane,Doe-Smithson-Lobelia,Eng,Staff,,HQ,employee,active,2020-01-01,\n",
		"E3," + tg.zoe + ",Zoë,Ångström,Eng,Staff,,HQ,employee,active,2020-01-01,\n",
	}
	importHR := func(rows ...string) {
		t.Helper()
		res, err := svc.ImportHR(ctx, p, "hr.csv", []byte(hrHeader+strings.Join(rows, "")), false)
		if err != nil || res.Import.Status != gatehouse.ImportApplied {
			t.Fatalf("import: %v %+v", err, res)
		}
	}
	rec := &provision.Reconciler{Store: st, Open: func(ctx context.Context, sys *gatehouse.System) (connector.Connector, error) {
		return connectors.Open(ctx, sys.Connector, nil)
	}}
	reconcile := func() *gatehouse.Reconcile {
		t.Helper()
		run, err := rec.Reconcile(ctx, "dir", provision.RunOptions{Cause: "test"})
		if err != nil {
			t.Fatalf("reconcile: %v", err)
		}
		return run
	}
	wantNames := func(want map[string]string) {
		t.Helper()
		if got := tg.names(t); !maps.Equal(got, want) {
			t.Fatalf("directory names %v, want %v", got, want)
		}
	}

	importHR(rows...)
	run := reconcile()
	if run.Failed != 0 || run.Planned != 6 {
		t.Fatalf("first run: %+v", run)
	}
	want := map[string]string{"E1": "jane.doe-smithson-lo", "E2": "jane.doe-smithson-l2", "E3": "zoe.angstrom"}
	wantNames(want)

	// The plan named each account as the directory now does, and says why.
	ops, err := st.ListOperations(ctx, gatehouse.OperationFilter{ReconcileID: run.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	detail := map[string]string{}
	for _, o := range ops.Items {
		if o.Kind == string(provision.OpCreateAccount) {
			detail[o.Username] = o.Detail
		}
	}
	for name, d := range map[string]string{
		"jane.doe-smithson-lo": "jane.doe-smithson-longname → jane.doe-smithson-lo (max 20)",
		"jane.doe-smithson-l2": "jane.doe-smithson-l2 (collision with jane.doe-smithson-lo, taken by the name given to jane.doe-smithson-longname@example.com in this plan)",
		"zoe.angstrom":         "ström → zoe.angstrom (charset ascii)",
	} {
		if !strings.Contains(detail[name], d) {
			t.Errorf("create %s: detail %q lacks %q", name, detail[name], d)
		}
	}

	// The inventory reads the same names, so nothing is left to do.
	if again := reconcile(); again.Planned != 0 || len(again.Findings) != 0 {
		t.Fatalf("second run: %+v", again)
	}
	accts, err := st.ListAccounts(ctx, gatehouse.AccountFilter{SystemID: "dir", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	for _, a := range accts.Items {
		if a.IdentityID == "" {
			t.Errorf("account %s matched nobody", a.Username)
		}
		stored = append(stored, a.Username)
	}
	slices.Sort(stored)
	if fmt.Sprint(stored) != "[jane.doe-smithson-l2 jane.doe-smithson-lo zoe.angstrom]" {
		t.Fatalf("stored accounts %v", stored)
	}

	// A third person sharing the prefix: a new name; the others keep theirs.
	importHR(append(rows, "E4,jane.doe-smithson-lorraine@example.com,Jane,Doe-Smithson-Lorraine,Eng,Staff,,HQ,employee,active,2020-01-01,\n")...)
	if run := reconcile(); run.Failed != 0 || run.Planned != 2 {
		t.Fatalf("third person: %+v", run)
	}
	want["E4"] = "jane.doe-smithson-l3"
	wantNames(want)
	if again := reconcile(); again.Planned != 0 {
		t.Fatalf("after the third person: %+v", again)
	}
	names, err := st.ListAccountNames(ctx, "dir")
	if err != nil || len(names) != 4 {
		t.Fatalf("recorded names %+v, %v", names, err)
	}
}

// TestAccountNamesOpenLDAP: uid follows the system's account_name rule on slapd, here built from
// the names (the mail attribute of OpenLDAP's schema holds ASCII addresses only).
func TestAccountNamesOpenLDAP(t *testing.T) {
	slapd := ldaptest.Start(t, ldaptest.Options{})
	set := slapd.Settings()
	set["flavor"] = "openldap"
	testNamingThroughEngine(t, namingTarget{
		settings: set,
		naming:   "      template: \"{given}.{family}\"\n      max_length: 20\n",
		zoe:      "zoe.a@example.com",
		group:    gStaff,
		names: func(t *testing.T) map[string]string {
			return readNames(t, slapd.Conn(t), ldaptest.PeopleDN, "(objectClass=inetOrgPerson)", "uid", "employeeNumber")
		},
	})
}

// TestAccountNamesAD: sAMAccountName on a real Samba AD domain controller, with the AD
// defaults (max 20, ascii, suffix).
func TestAccountNamesAD(t *testing.T) {
	samba := ldaptest.StartSamba(t)
	ou := samba.OU(t, "naming")
	testNamingThroughEngine(t, namingTarget{
		settings: samba.Settings(ou),
		naming:   "      collision: suffix\n",
		zoe:      "zoë.ångström@example.com",
		group:    "CN=staff," + ou,
		names: func(t *testing.T) map[string]string {
			return readNames(t, samba.Conn(t), ou, "(&(objectCategory=person)(objectClass=user))", "sAMAccountName", "employeeID")
		},
	})
}

func readNames(t *testing.T, c *goldap.Conn, base, filter, nameAttr, employeeAttr string) map[string]string {
	t.Helper()
	res, err := c.Search(goldap.NewSearchRequest(base, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
		0, 0, false, filter, []string{nameAttr, employeeAttr}, nil))
	if err != nil {
		t.Fatalf("search %s: %v", base, err)
	}
	out := map[string]string{}
	for _, e := range res.Entries {
		out[e.GetAttributeValue(employeeAttr)] = e.GetAttributeValue(nameAttr)
	}
	return out
}

// TestAccountNamesRefuse: with collision refuse, the second person's creation fails with an
// error naming who holds the name, nothing is sent to the directory for them, and the first
// person's account is made as usual.
func TestAccountNamesRefuse(t *testing.T) {
	slapd := ldaptest.Start(t, ldaptest.Options{})
	set := slapd.Settings()
	set["flavor"] = "openldap"
	tg := namingTarget{settings: set, naming: "      max_length: 20\n      collision: refuse\n", group: gStaff}
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
	res, err := svc.ImportHR(ctx, p, "hr.csv", []byte(hrHeader+
		"E1,jane.doe-smithson-longname@example.com,Jane,Doe,Eng,Staff,,HQ,employee,active,2020-01-01,\n"+
		"E2,jane.doe-smithson-lobelia@example.com,Jane,Doe,Eng,Staff,,HQ,employee,active,2020-01-01,\n"), false)
	if err != nil || res.Import.Status != gatehouse.ImportApplied {
		t.Fatalf("import: %v %+v", err, res)
	}
	rec := &provision.Reconciler{Store: st, Open: func(ctx context.Context, sys *gatehouse.System) (connector.Connector, error) {
		return connectors.Open(ctx, sys.Connector, nil)
	}}
	run, err := rec.Reconcile(ctx, "dir", provision.RunOptions{Cause: "test"})
	if err == nil || run.Failed != 2 || run.Applied != 2 {
		t.Fatalf("run = %+v, %v", run, err)
	}
	const why = "account name jane.doe-smithson-lo is taken by the name given to jane.doe-smithson-longname@example.com in this plan, and the system's collision rule is refuse"
	if !strings.Contains(err.Error(), why) {
		t.Fatalf("error %v lacks %q", err, why)
	}
	got := readNames(t, slapd.Conn(t), ldaptest.PeopleDN, "(objectClass=inetOrgPerson)", "uid", "employeeNumber")
	if !maps.Equal(got, map[string]string{"E1": "jane.doe-smithson-lo"}) {
		t.Fatalf("directory %v", got)
	}
}
