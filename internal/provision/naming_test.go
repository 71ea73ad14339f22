package provision

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/connector/ldap"
)

// TestPlanAccountNames: the planner names the accounts it creates by the system's rule, checks
// collisions against the inventory, the names given before and the plan's own names, keeps a
// name once given, and refuses when the rule says so.
func TestPlanAccountNames(t *testing.T) {
	adSystem := func(rule *gatehouse.AccountNaming) *gatehouse.System {
		return &gatehouse.System{ID: "dir", Connector: gatehouse.Connector{Type: "ldap", Settings: map[string]any{"flavor": "ad"}},
			AccountName: rule}
	}
	who := func(n int, email string) *gatehouse.Identity {
		id := person(n, gatehouse.StatusActive)
		id.Email = email
		return id
	}
	jane := who(1, "jane.doe-smithson-longname@example.com")
	jan := who(2, "jane.doe-smithson-lobelia@example.com")
	joe := who(3, "jane.doe-smithson-lorraine@example.com")
	zoe := who(4, "zoë.ångström@example.com")
	renamed := who(1, "jane.married-name@example.com") // jane, after an email change
	admin := who(5, "a.strator@example.com")
	admin.FirstName, admin.LastName = "Admini ", "Strator"
	given := func(id *gatehouse.Identity, name string) *gatehouse.AccountName {
		return &gatehouse.AccountName{SystemID: "dir", IdentityID: id.ID, Name: name, AssignedAt: t0}
	}
	tests := []struct {
		name      string
		rule      *gatehouse.AccountNaming
		people    []*gatehouse.Identity
		accounts  []connector.Account
		names     []*gatehouse.AccountName
		want      map[string]string // identity id → the name its create_account uses
		detail    map[string]string // identity id → a substring of the evidence
		refused   map[string]string // identity id → a substring of the refusal
		noCreates bool
	}{
		{name: "two joiners sharing 20 characters, and a non-ASCII name", people: []*gatehouse.Identity{jane, jan, zoe},
			want: map[string]string{"id1": "jane.doe-smithson-lo", "id2": "jane.doe-smithson-l2", "id4": "zoe.angstrom"},
			detail: map[string]string{
				"id1": "template {local}: jane.doe-smithson-longname → jane.doe-smithson-lo (max 20)",
				"id2": "jane.doe-smithson-l2 (collision with jane.doe-smithson-lo, taken by the name given to jane.doe-smithson-longname@example.com in this plan)",
				"id4": "zoë.ångström → zoe.angstrom (charset ascii)",
			}},
		{name: "a third person arrives: the others keep their names", people: []*gatehouse.Identity{jane, jan, joe},
			accounts: []connector.Account{
				{Ref: connector.AccountRef{ID: "g1"}, Username: "jane.doe-smithson-lo", Email: jane.Email, EmployeeID: "E1", Enabled: true},
				{Ref: connector.AccountRef{ID: "g2"}, Username: "jane.doe-smithson-l2", Email: jan.Email, EmployeeID: "E2", Enabled: true},
			},
			names:  []*gatehouse.AccountName{given(jane, "jane.doe-smithson-lo"), given(jan, "jane.doe-smithson-l2")},
			want:   map[string]string{"id3": "jane.doe-smithson-l3"},
			detail: map[string]string{"id3": "taken by the account jane.doe-smithson-lo (jane.doe-smithson-longname@example.com)"}},
		{name: "a name given before is kept when the template changed", rule: &gatehouse.AccountNaming{Template: "{employee_id}"},
			people: []*gatehouse.Identity{jan}, names: []*gatehouse.AccountName{given(jan, "jane.doe-smithson-l2")},
			want: map[string]string{"id2": "jane.doe-smithson-l2"}, detail: map[string]string{"id2": "kept: a name is given once"}},
		{name: "a leaver's name is not given again", people: []*gatehouse.Identity{jane},
			names: []*gatehouse.AccountName{given(joe, "jane.doe-smithson-lo")},
			want:  map[string]string{"id1": "jane.doe-smithson-l2"}},
		{name: "refuse", rule: &gatehouse.AccountNaming{Collision: "refuse"}, people: []*gatehouse.Identity{jan},
			accounts: []connector.Account{{Ref: connector.AccountRef{ID: "x"}, Username: "JANE.DOE-SMITHSON-LO", Enabled: true}},
			refused:  map[string]string{"id2": "account name jane.doe-smithson-lo is taken by the account JANE.DOE-SMITHSON-LO"}},
		{name: "an account found under its given name is theirs", people: []*gatehouse.Identity{jane},
			accounts: []connector.Account{{Ref: connector.AccountRef{ID: "g1"}, Username: "jane.doe-smithson-lo", Enabled: true}},
			names:    []*gatehouse.AccountName{given(jane, "jane.doe-smithson-lo")}, noCreates: true},
		{name: "a mover's new email renames nothing: the account is found under the name given", people: []*gatehouse.Identity{renamed},
			accounts: []connector.Account{{Ref: connector.AccountRef{ID: "g1"}, Username: "jane.doe-smithson-lo", Enabled: true}},
			names:    []*gatehouse.AccountName{given(jane, "jane.doe-smithson-lo")}, noCreates: true},
		{name: "HR names spelling a well-known account are refused, with the evidence", rule: &gatehouse.AccountNaming{Template: "{given}{family}"},
			people:  []*gatehouse.Identity{admin},
			refused: map[string]string{"id5": "account name administrator is reserved (the domain's built-in Administrator)"},
			detail:  map[string]string{"id5": "template {given}{family}: Admini Strator"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := input()
			in.System = adSystem(tc.rule)
			in.Spec = ldap.Spec
			in.Identities = tc.people
			in.Names = tc.names
			in.Capabilities = ad
			in.Inventory = inv(tc.accounts, map[string][]int{gEng: nil})
			for _, p := range tc.people {
				in.Grants = append(in.Grants, grant("g-"+p.ID, int(p.ID[2]-'0'), "dir/eng"))
			}
			p := PlanSystem(in)
			creates := map[string]Op{}
			for _, o := range p.Ops {
				if o.Kind == OpCreateAccount {
					creates[o.IdentityID] = o
				}
			}
			if tc.noCreates && len(creates) > 0 {
				t.Fatalf("creates %v", creates)
			}
			for id, name := range tc.want {
				o, ok := creates[id]
				if !ok || o.Spec.Username != name || o.Username != name || o.Refused != "" {
					t.Errorf("%s: create %+v, want name %s", id, o, name)
				}
				kept := false
				for _, g := range tc.names {
					kept = kept || g.IdentityID == id
				}
				if o.NewName == kept {
					t.Errorf("%s: NewName %v for a name given before: %v", id, o.NewName, kept)
				}
			}
			for id, d := range tc.detail {
				if !strings.Contains(creates[id].Detail, d) {
					t.Errorf("%s: detail %q lacks %q", id, creates[id].Detail, d)
				}
			}
			for id, r := range tc.refused {
				if creates[id].NewName {
					t.Errorf("%s: a refused name is claimed", id)
				}
				if !strings.Contains(creates[id].Refused, r) {
					t.Errorf("%s: refused %q lacks %q", id, creates[id].Refused, r)
				}
			}
			// The membership of an account being created names it the same way.
			for _, o := range p.Ops {
				if c, ok := creates[o.IdentityID]; ok && o.Kind == OpAddMember && o.Username != c.Username {
					t.Errorf("add_member names %s, create names %s", o.Username, c.Username)
				}
			}
		})
	}
}
