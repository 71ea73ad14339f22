package provision

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
)

var (
	t0  = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	now = t0.Add(48 * time.Hour)
)

const (
	gEng  = "cn=eng,ou=groups"
	gAll  = "cn=all,ou=groups"
	gFin  = "cn=fin,ou=groups"
	gNone = "cn=unmanaged,ou=groups"
)

func person(n int, status gatehouse.IdentityStatus) *gatehouse.Identity {
	return &gatehouse.Identity{
		ID: fmt.Sprintf("id%d", n), EmployeeID: fmt.Sprintf("E%d", n), Email: fmt.Sprintf("user%d@example.com", n),
		FirstName: "User", LastName: fmt.Sprint(n), Status: status, UpdatedAt: t0.Add(time.Hour),
	}
}

func grant(id string, identity int, ent string) *gatehouse.Grant {
	return &gatehouse.Grant{ID: id, IdentityID: fmt.Sprintf("id%d", identity), EntitlementID: ent, GrantedAt: t0}
}

func revoked(g *gatehouse.Grant) *gatehouse.Grant {
	at := t0.Add(30 * time.Minute)
	g.RevokedAt = &at
	return g
}

func acct(n int, enabled bool) connector.Account {
	return connector.Account{Ref: connector.AccountRef{ID: fmt.Sprintf("uuid%d", n)}, Username: fmt.Sprintf("user%d", n),
		Email: fmt.Sprintf("user%d@example.com", n), EmployeeID: fmt.Sprintf("E%d", n), Enabled: enabled}
}

// inv builds an inventory: accounts, then group → member account numbers.
func inv(accounts []connector.Account, groups map[string][]int) *connector.Inventory {
	i := &connector.Inventory{Accounts: accounts, Groups: map[string]*connector.Group{}}
	for g, ms := range groups {
		grp := &connector.Group{ID: g}
		for _, m := range ms {
			grp.Members = append(grp.Members, connector.AccountRef{ID: fmt.Sprintf("uuid%d", m)})
		}
		i.Groups[g] = grp
	}
	return i
}

var (
	openldap = connector.Capabilities{CreateAccount: true, Disable: true, Groups: true, CreatesGroups: true, DisableRemovesMemberships: true}
	ad       = connector.Capabilities{CreateAccount: true, Disable: true, Groups: true}
)

func input() Input {
	return Input{
		System: &gatehouse.System{ID: "dir", Tier: gatehouse.TierCritical},
		Entitlements: []*gatehouse.Entitlement{
			{ID: "dir/eng", System: "dir", ExternalID: gEng},
			{ID: "dir/all", System: "dir", ExternalID: gAll},
			{ID: "dir/fin", System: "dir", ExternalID: gFin},
			{ID: "dir/label", System: "dir"}, // no external id: not managed
		},
		Inventory:    inv(nil, map[string][]int{gEng: nil, gAll: nil, gFin: nil}),
		Capabilities: openldap,
		Policy:       DefaultDriftPolicy(),
		Cause:        "hr-import:imp1",
		Now:          now,
	}
}

// ops renders a plan's operations as "kind username group cause" lines, in plan order.
func ops(p Plan) []string {
	var out []string
	for _, o := range p.Ops {
		out = append(out, join(string(o.Kind), o.Username, o.Group, o.Cause))
	}
	return out
}

// join joins the non-empty fields with spaces.
func join(fields ...string) string {
	return strings.Join(slices.DeleteFunc(fields, func(s string) bool { return s == "" }), " ")
}

func findings(p Plan) []string {
	var out []string
	for _, f := range p.Findings {
		out = append(out, join(string(f.Kind), string(f.Action), f.Username, f.Group, f.Member))
	}
	return out
}

func TestPlanSystem(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(in *Input)
		ops      []string
		findings []string
	}{
		{
			name: "joiner gets an account and its groups",
			edit: func(in *Input) {
				in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusActive)}
				in.Grants = []*gatehouse.Grant{grant("g1", 1, "dir/eng"), grant("g2", 1, "dir/all")}
			},
			ops: []string{"create_account user1 grant:g2", "add_member user1 cn=all,ou=groups grant:g2", "add_member user1 cn=eng,ou=groups grant:g1"},
		},
		{
			name: "converged: nothing to do",
			edit: func(in *Input) {
				in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusActive)}
				in.Grants = []*gatehouse.Grant{grant("g1", 1, "dir/eng")}
				in.Inventory = inv([]connector.Account{acct(1, true)}, map[string][]int{gEng: {1}})
			},
		},
		{
			name: "a grant of an unmanaged entitlement plans nothing",
			edit: func(in *Input) {
				in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusActive)}
				in.Grants = []*gatehouse.Grant{grant("g1", 1, "dir/label")}
			},
		},
		{
			name: "mover: revoked grant removed first, new grant added",
			edit: func(in *Input) {
				in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusActive)}
				in.Grants = []*gatehouse.Grant{revoked(grant("g1", 1, "dir/eng")), grant("g2", 1, "dir/fin")}
				in.Inventory = inv([]connector.Account{acct(1, true)}, map[string][]int{gEng: {1}})
			},
			ops: []string{"remove_member user1 cn=eng,ou=groups grant:g1", "add_member user1 cn=fin,ou=groups grant:g2"},
		},
		{
			name: "an expired grant is removed",
			edit: func(in *Input) {
				g := grant("g1", 1, "dir/eng")
				exp := t0.Add(time.Hour)
				g.ExpiresAt = &exp
				in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusActive)}
				in.Grants = []*gatehouse.Grant{g, grant("g2", 1, "dir/all")}
				in.Inventory = inv([]connector.Account{acct(1, true)}, map[string][]int{gEng: {1}, gAll: {1}})
			},
			ops: []string{"remove_member user1 cn=eng,ou=groups grant:g1"},
		},
		{
			name: "leaver on OpenLDAP: disable, which removes the memberships",
			edit: func(in *Input) {
				in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusTerminated)}
				in.Grants = []*gatehouse.Grant{revoked(grant("g1", 1, "dir/eng"))}
				in.Inventory = inv([]connector.Account{acct(1, true)}, map[string][]int{gEng: {1}})
			},
			ops:      []string{"disable user1 hr-import:imp1"},
			findings: []string{"leaver_account enforce user1"},
		},
		{
			name: "leaver on AD: disable and remove each membership",
			edit: func(in *Input) {
				in.Capabilities = ad
				in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusTerminated)}
				in.Grants = []*gatehouse.Grant{revoked(grant("g1", 1, "dir/eng")), revoked(grant("g2", 1, "dir/all"))}
				in.Inventory = inv([]connector.Account{acct(1, true)}, map[string][]int{gEng: {1}, gAll: {1}})
			},
			ops: []string{"disable user1 hr-import:imp1", "remove_member user1 cn=all,ou=groups grant:g2",
				"remove_member user1 cn=eng,ou=groups grant:g1"},
			findings: []string{"leaver_account enforce user1"},
		},
		{
			name: "leave suspends: disable, grants kept, memberships kept on AD",
			edit: func(in *Input) {
				in.Capabilities = ad
				in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusLeave)}
				in.Grants = []*gatehouse.Grant{grant("g1", 1, "dir/eng")}
				in.Inventory = inv([]connector.Account{acct(1, true)}, map[string][]int{gEng: {1}})
			},
			ops:      []string{"disable user1 hr-import:imp1"},
			findings: []string{"leaver_account enforce user1"},
		},
		{
			name: "leaver already disabled: nothing to do",
			edit: func(in *Input) {
				in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusTerminated)}
				in.Grants = []*gatehouse.Grant{revoked(grant("g1", 1, "dir/eng"))}
				in.Inventory = inv([]connector.Account{acct(1, false)}, nil)
			},
		},
		{
			name: "leaver access under report: reported, not disabled",
			edit: func(in *Input) {
				in.Policy.LeaverAccounts = Report
				in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusTerminated)}
				in.Inventory = inv([]connector.Account{acct(1, true)}, nil)
			},
			findings: []string{"leaver_account report user1"},
		},
		{
			name: "back from leave on OpenLDAP: enable and add the groups back",
			edit: func(in *Input) {
				in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusActive)}
				in.Grants = []*gatehouse.Grant{grant("g1", 1, "dir/eng")}
				in.Inventory = inv([]connector.Account{acct(1, false)}, nil)
			},
			ops: []string{"enable user1 hr-import:imp1", "add_member user1 cn=eng,ou=groups grant:g1"},
		},
		{
			name: "a terminated joiner gets nothing",
			edit: func(in *Input) {
				in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusTerminated)}
				in.Grants = []*gatehouse.Grant{grant("g1", 1, "dir/eng")}
			},
		},
		{
			name: "a membership nobody granted is removed under enforce",
			edit: func(in *Input) {
				in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusActive)}
				in.Grants = []*gatehouse.Grant{grant("g1", 1, "dir/eng")}
				in.Inventory = inv([]connector.Account{acct(1, true)}, map[string][]int{gEng: {1}, gFin: {1}})
			},
			ops:      []string{"remove_member user1 cn=fin,ou=groups drift"},
			findings: []string{"unknown_membership enforce user1 cn=fin,ou=groups"},
		},
		{
			name: "a membership nobody granted is only reported under report",
			edit: func(in *Input) {
				in.Policy.UnknownMemberships = Report
				in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusActive)}
				in.Grants = []*gatehouse.Grant{grant("g1", 1, "dir/eng")}
				in.Inventory = inv([]connector.Account{acct(1, true)}, map[string][]int{gEng: {1}, gFin: {1}})
			},
			findings: []string{"unknown_membership report user1 cn=fin,ou=groups"},
		},
		{
			name: "an unmanaged group is none of our business",
			edit: func(in *Input) {
				in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusActive)}
				in.Grants = []*gatehouse.Grant{grant("g1", 1, "dir/eng")}
				in.Inventory = inv([]connector.Account{acct(1, true)}, map[string][]int{gEng: {1}, gNone: {1}})
			},
		},
		{
			name: "an account with no identity is reported by default, its memberships removed",
			edit: func(in *Input) {
				in.Inventory = inv([]connector.Account{acct(9, true)}, map[string][]int{gEng: {9}})
			},
			ops:      []string{"remove_member user9 cn=eng,ou=groups drift"},
			findings: []string{"unknown_account report user9", "unknown_membership enforce user9 cn=eng,ou=groups"},
		},
		{
			name: "an account with no identity is disabled under enforce",
			edit: func(in *Input) {
				in.Policy.UnknownAccounts = Enforce
				in.Inventory = inv([]connector.Account{acct(9, true)}, map[string][]int{gEng: {9}})
			},
			ops:      []string{"disable user9 drift"},
			findings: []string{"unknown_account enforce user9"},
		},
		{
			name: "foreign members are reported",
			edit: func(in *Input) {
				in.Inventory = inv(nil, map[string][]int{gEng: nil})
				in.Inventory.Groups[gEng].Foreign = []string{"cn=nested,ou=groups"}
			},
			findings: []string{"foreign_member report cn=eng,ou=groups cn=nested,ou=groups"},
		},
		{
			name: "match by employee id although email and username differ",
			edit: func(in *Input) {
				in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusActive)}
				in.Grants = []*gatehouse.Grant{grant("g1", 1, "dir/eng")}
				a := acct(1, true)
				a.Email, a.Username = "old@example.com", "old"
				in.Inventory = inv([]connector.Account{a}, map[string][]int{gEng: {1}})
			},
		},
		{
			name: "match by email when the account has no employee id",
			edit: func(in *Input) {
				in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusActive)}
				in.Grants = []*gatehouse.Grant{grant("g1", 1, "dir/eng")}
				a := acct(1, true)
				a.EmployeeID, a.Username = "", "other"
				in.Inventory = inv([]connector.Account{a}, map[string][]int{gEng: {1}})
			},
		},
		{
			name: "match by username = email local part",
			edit: func(in *Input) {
				in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusActive)}
				in.Grants = []*gatehouse.Grant{grant("g1", 1, "dir/eng")}
				a := acct(1, true)
				a.EmployeeID, a.Email = "", ""
				in.Inventory = inv([]connector.Account{a}, map[string][]int{gEng: {1}})
			},
		},
		{
			name: "a stored link wins over attributes",
			edit: func(in *Input) {
				in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusActive)}
				in.Grants = []*gatehouse.Grant{grant("g1", 1, "dir/eng")}
				a := acct(7, true)
				in.Links = []*gatehouse.Account{{ExternalID: "uuid7", IdentityID: "id1"}}
				in.Inventory = inv([]connector.Account{a}, map[string][]int{gEng: {7}})
			},
		},
		{
			name: "a username two people share by local part matches nobody",
			edit: func(in *Input) {
				p1, p2 := person(1, gatehouse.StatusActive), person(2, gatehouse.StatusActive)
				p2.Email = "user1@other.example.com"
				in.Identities = []*gatehouse.Identity{p1, p2}
				a := acct(1, true)
				a.EmployeeID, a.Email = "", ""
				in.Inventory = inv([]connector.Account{a}, nil)
			},
			findings: []string{"unknown_account report user1"},
		},
		{
			name: "a second account of the same identity is reported",
			edit: func(in *Input) {
				in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusActive)}
				in.Grants = []*gatehouse.Grant{grant("g1", 1, "dir/eng")}
				a, b := acct(1, true), acct(1, true)
				b.Ref.ID, b.Username = "uuid1b", "user1b"
				in.Inventory = inv([]connector.Account{a, b}, map[string][]int{gEng: {1}})
			},
			findings: []string{"duplicate_account report user1b", "unknown_account report user1b"},
		},
		{
			name: "without the capability the operation becomes a finding",
			edit: func(in *Input) {
				in.Capabilities = connector.Capabilities{Groups: true}
				in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusActive), person(2, gatehouse.StatusTerminated)}
				in.Grants = []*gatehouse.Grant{grant("g1", 1, "dir/eng")}
				in.Inventory = inv([]connector.Account{acct(2, true)}, nil)
			},
			// user1's memberships wait for an account somebody creates by hand.
			findings: []string{"unsupported report user1", "leaver_account enforce user2", "unsupported report user2"},
		},
		{
			name: "deprovisioning before provisioning across identities",
			edit: func(in *Input) {
				in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusActive), person(2, gatehouse.StatusTerminated),
					person(3, gatehouse.StatusActive)}
				in.Grants = []*gatehouse.Grant{grant("g1", 1, "dir/eng"), revoked(grant("g3", 3, "dir/eng")), grant("g4", 3, "dir/all")}
				in.Inventory = inv([]connector.Account{acct(2, true), acct(3, true)}, map[string][]int{gEng: {3}})
			},
			ops: []string{"disable user2 hr-import:imp1", "remove_member user3 cn=eng,ou=groups grant:g3",
				"create_account user1 grant:g1", "add_member user1 cn=eng,ou=groups grant:g1",
				"add_member user3 cn=all,ou=groups grant:g4"},
			findings: []string{"leaver_account enforce user2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := input()
			tt.edit(&in)
			p := PlanSystem(in)
			if got := ops(p); !slices.Equal(got, tt.ops) {
				t.Errorf("ops:\n got  %q\n want %q", got, tt.ops)
			}
			if got := findings(p); !slices.Equal(got, tt.findings) {
				t.Errorf("findings:\n got  %q\n want %q", got, tt.findings)
			}
			// Planning is deterministic: the same input gives the same plan.
			if again := ops(PlanSystem(in)); !slices.Equal(again, ops(p)) {
				t.Errorf("second plan differs: %q", again)
			}
		})
	}
}

func TestPlanRequestedAt(t *testing.T) {
	in := input()
	in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusTerminated)}
	in.Capabilities = ad
	in.Grants = []*gatehouse.Grant{revoked(grant("g1", 1, "dir/eng"))}
	in.Since = t0.Add(2 * time.Hour) // only a fallback: the identity's UpdatedAt wins
	in.Inventory = inv([]connector.Account{acct(1, true)}, map[string][]int{gEng: {1}})
	p := PlanSystem(in)
	if len(p.Ops) != 2 {
		t.Fatalf("ops = %v", ops(p))
	}
	if got := p.Ops[0].RequestedAt; !got.Equal(t0.Add(time.Hour)) {
		t.Errorf("disable requested at %v, want the identity's change %v", got, t0.Add(time.Hour))
	}
	if got := p.Ops[1].RequestedAt; !got.Equal(t0.Add(30 * time.Minute)) {
		t.Errorf("removal requested at %v, want the revocation", got)
	}
	if p.Ops[0].Account.ID != "uuid1" || p.Ops[0].IdentityID != "id1" || p.Ops[0].SystemID != "dir" {
		t.Errorf("op = %+v", p.Ops[0])
	}
}

func TestPlanLinks(t *testing.T) {
	in := input()
	in.Identities = []*gatehouse.Identity{person(1, gatehouse.StatusActive)}
	in.Inventory = inv([]connector.Account{acct(1, true), acct(9, false)}, map[string][]int{gEng: {1}, gAll: {1}})
	p := PlanSystem(in)
	if len(p.Links) != 2 || p.Links[0].IdentityID != "id1" || p.Links[1].IdentityID != "" {
		t.Fatalf("links = %+v", p.Links)
	}
	if !slices.Equal(p.Links[0].Groups, []string{gAll, gEng}) {
		t.Errorf("groups = %v", p.Links[0].Groups)
	}
}

func TestParseDriftPolicy(t *testing.T) {
	tests := []struct {
		settings map[string]any
		want     DriftPolicy
		err      string
	}{
		{settings: nil, want: DefaultDriftPolicy()},
		{settings: map[string]any{"drift": map[string]any{"unknown_memberships": "report", "unknown_accounts": "enforce"}},
			want: DriftPolicy{UnknownMemberships: Report, UnknownAccounts: Enforce, LeaverAccounts: Enforce}},
		{settings: map[string]any{"drift": map[string]any{"unknown_accounts": "delete"}}, err: "drift.unknown_accounts: must be enforce or report"},
		{settings: map[string]any{"drift": map[string]any{"orphans": "report"}}, err: "drift.orphans: unknown"},
		{settings: map[string]any{"drift": "enforce"}, err: "must be a map"},
	}
	for _, tt := range tests {
		got, err := ParseDriftPolicy(tt.settings)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%v: err = %v, want %q", tt.settings, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%v: got %+v, %v; want %+v", tt.settings, got, err, tt.want)
		}
	}
}

func TestOrderSystems(t *testing.T) {
	ss := []*gatehouse.System{{ID: "wiki", Tier: gatehouse.TierStandard}, {ID: "erp", Tier: gatehouse.TierHigh},
		{ID: "dir", Tier: gatehouse.TierCritical}, {ID: "crm", Tier: gatehouse.TierHigh}}
	OrderSystems(ss)
	var got []string
	for _, s := range ss {
		got = append(got, s.ID)
	}
	if want := []string{"dir", "crm", "erp", "wiki"}; !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
}
