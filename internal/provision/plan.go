package provision

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
)

// Mode says what the engine does about a kind of drift: repair it, or only report it.
type Mode string

const (
	Enforce Mode = "enforce"
	Report  Mode = "report"
)

// DriftPolicy is a system's choice per kind of drift, read from the connector setting
// `drift: {unknown_memberships: enforce|report, unknown_accounts: report|enforce,
// leaver_accounts: enforce|report}`. The defaults follow the issue: a leaver's access is
// removed, an account nobody can be matched to is only reported (it may be a service account
// the catalog does not know yet, and disabling it could stop production).
type DriftPolicy struct {
	UnknownMemberships Mode `json:"unknown_memberships"`
	UnknownAccounts    Mode `json:"unknown_accounts"`
	LeaverAccounts     Mode `json:"leaver_accounts"`
}

// DefaultDriftPolicy is the policy of a system that sets none.
func DefaultDriftPolicy() DriftPolicy {
	return DriftPolicy{UnknownMemberships: Enforce, UnknownAccounts: Report, LeaverAccounts: Enforce}
}

// ParseDriftPolicy reads the `drift` connector setting; absent keys keep their default.
func ParseDriftPolicy(settings map[string]any) (DriftPolicy, error) {
	p := DefaultDriftPolicy()
	raw, ok := settings["drift"]
	if !ok || raw == nil {
		return p, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return p, fmt.Errorf("connector setting drift: must be a map of unknown_memberships, unknown_accounts, leaver_accounts")
	}
	for k, v := range m {
		s, _ := v.(string)
		mode := Mode(s)
		if mode != Enforce && mode != Report {
			return p, fmt.Errorf("connector setting drift.%s: must be enforce or report", k)
		}
		switch k {
		case "unknown_memberships":
			p.UnknownMemberships = mode
		case "unknown_accounts":
			p.UnknownAccounts = mode
		case "leaver_accounts":
			p.LeaverAccounts = mode
		default:
			return p, fmt.Errorf("connector setting drift.%s: unknown (known: unknown_memberships, unknown_accounts, leaver_accounts)", k)
		}
	}
	return p, nil
}

// OpKind is what an operation does in a target system.
type OpKind string

const (
	OpCreateAccount OpKind = "create_account"
	OpEnable        OpKind = "enable"
	OpDisable       OpKind = "disable"
	OpAddMember     OpKind = "add_member"
	OpRemoveMember  OpKind = "remove_member"
)

// order is the execution order within a system: deprovisioning first, so that a reconcile cut
// short by an outage has already removed what must go before it grants anything new.
func (k OpKind) order() int {
	switch k {
	case OpDisable:
		return 0
	case OpRemoveMember:
		return 1
	case OpCreateAccount:
		return 2
	case OpEnable:
		return 3
	}
	return 4
}

// Deprovisioning reports whether the operation takes access away.
func (k OpKind) Deprovisioning() bool { return k == OpDisable || k == OpRemoveMember }

// Causes of operations that no grant explains.
const (
	CauseDrift    = "drift"
	CauseSchedule = "schedule"
	CauseCatalog  = "catalog"
)

// GrantCause is the cause of an operation a grant (or its revocation) asked for.
func GrantCause(grantID string) string { return "grant:" + grantID }

// HRImportCause is the cause of a reconcile an HR import started.
func HRImportCause(importID string) string { return "hr-import:" + importID }

// Op is one idempotent operation in one system.
type Op struct {
	Kind       OpKind
	SystemID   string
	IdentityID string // "" for an account nobody could be matched to
	// Account is the target account; zero for create_account, and for operations on an
	// account that a create_account of the same plan makes (the executor fills it in).
	Account  connector.AccountRef
	Username string
	Group    string                 // add_member / remove_member: the group's external id
	Spec     *connector.AccountSpec // create_account
	// Detail is the evidence of how a created account's name was chosen; Refused, when the
	// system's naming rule could not name the person, is why the creation fails without
	// reaching the system.
	Detail  string
	Refused string
	// NewName: the name is given by this creation (not one the person had): the engine records
	// it before creating the account, and forgets it if the creation fails.
	NewName bool
	// Cause says why (grant:<id>, hr-import:<id>, drift, schedule, catalog) and RequestedAt
	// when the desired state changed: time-to-provision is FinishedAt − RequestedAt.
	Cause       string
	RequestedAt time.Time
}

// String is a short description for logs and errors.
func (o Op) String() string {
	s := string(o.Kind) + " " + cmp.Or(o.Username, o.Account.ID, o.IdentityID)
	if o.Group != "" {
		s += " " + o.Group
	}
	return s
}

// FindingKind is a kind of drift: a difference that no desired-state change explains.
type FindingKind string

const (
	// FindUnknownMembership: a membership of a managed group nobody granted.
	FindUnknownMembership FindingKind = "unknown_membership"
	// FindUnknownAccount: an account that matches no identity.
	FindUnknownAccount FindingKind = "unknown_account"
	// FindLeaverAccount: an enabled account of a terminated identity or one on leave.
	FindLeaverAccount FindingKind = "leaver_account"
	// FindForeignMember: a group member that is not an account the connector manages.
	FindForeignMember FindingKind = "foreign_member"
	// FindDuplicateAccount: a second account matched to the same identity.
	FindDuplicateAccount FindingKind = "duplicate_account"
	// FindUnsupported: an operation the connector cannot perform; it needs a person.
	FindUnsupported FindingKind = "unsupported"
)

// Finding is one drift finding. Action is what the engine does: enforce (an Op repairs it) or
// report.
type Finding struct {
	Kind       FindingKind `json:"kind"`
	SystemID   string      `json:"system_id"`
	IdentityID string      `json:"identity_id,omitempty"`
	Account    string      `json:"account,omitempty"` // the account's id in the system
	Username   string      `json:"username,omitempty"`
	Group      string      `json:"group,omitempty"`
	Member     string      `json:"member,omitempty"` // foreign_member: the member value
	Action     Mode        `json:"action"`
	Detail     string      `json:"detail"`
}

// Link is an inventory account matched to an identity (IdentityID "" for none): observed state
// to store, so the next reconcile and the accounts list know whose account it is.
type Link struct {
	IdentityID string
	Account    connector.Account
	Groups     []string // managed groups the account is a member of
}

// Input is everything Plan needs for one system. It is read by the caller (the Reconciler) and
// not modified.
type Input struct {
	System *gatehouse.System
	// Spec declares the system's connector type: whether Gatehouse names the accounts it
	// creates there, and within what length (nil: it does not name them).
	Spec         *gatehouse.ConnectorSpec
	Entitlements []*gatehouse.Entitlement // the system's; those with an external id are managed
	// Identities are the identities accounts may belong to (every identity is safe; those with
	// grants in the system must be present).
	Identities []*gatehouse.Identity
	// Grants are the grants of the system's entitlements, revoked and expired ones included:
	// they tell a revocation (cause grant:<id>) from drift.
	Grants []*gatehouse.Grant
	// Links are stored account links: an account id in the system → identity.
	Links []*gatehouse.Account
	// Names are the names given to people on the system (account naming): kept for good.
	Names        []*gatehouse.AccountName
	Inventory    *connector.Inventory
	Capabilities connector.Capabilities
	Policy       DriftPolicy
	// Cause is the reconcile's cause, given to operations no grant explains (an HR status
	// change); Since is when that change happened, for identities without an UpdatedAt.
	Cause string
	Since time.Time
	Now   time.Time
}

// Plan is the result of planning one system.
type Plan struct {
	Ops      []Op
	Findings []Finding
	Links    []Link
}

// wantGrant is the grant that explains a desired membership (the newest active one).
type wantGrant struct {
	id string
	at time.Time
}

// PlanSystem compares the desired state with a system's inventory and returns the operations
// that make them agree, ordered deprovisioning first, and the drift findings. It is pure:
// running it again on the same input gives the same plan, and on the inventory after the plan
// ran it gives no operations.
func PlanSystem(in Input) Plan {
	sys := in.System.ID
	p := Plan{}
	inv := in.Inventory
	if inv == nil {
		inv = &connector.Inventory{}
	}

	// Managed groups: the external ids of the system's entitlements.
	groupOf := map[string]string{} // entitlement id → external id
	var managed []string
	for _, e := range in.Entitlements {
		if e.ExternalID != "" && e.System == sys {
			groupOf[e.ID] = e.ExternalID
			managed = append(managed, e.ExternalID)
		}
	}
	slices.Sort(managed)
	managed = slices.Compact(managed)

	idByID := map[string]*gatehouse.Identity{}
	idByEmployee := map[string]*gatehouse.Identity{}
	idByEmail := map[string]*gatehouse.Identity{}
	idByLocal := map[string]*gatehouse.Identity{}
	for _, id := range in.Identities {
		idByID[id.ID] = id
		if id.EmployeeID != "" {
			idByEmployee[id.EmployeeID] = id
		}
		email := strings.ToLower(id.Email)
		idByEmail[email] = id
		if local, _, ok := strings.Cut(email, "@"); ok {
			// A local part two people share matches neither: guessing would hand one
			// person's account to the other.
			if _, dup := idByLocal[local]; dup {
				idByLocal[local] = nil
			} else {
				idByLocal[local] = id
			}
		}
	}

	// Desired memberships: identity → group → the newest active grant; revoked ones remember
	// the latest revocation so that a removal names the grant that caused it.
	want := map[string]map[string]wantGrant{}
	gone := map[string]map[string]wantGrant{}
	for _, g := range in.Grants {
		grp, ok := groupOf[g.EntitlementID]
		if !ok {
			continue
		}
		if g.Active(in.Now) {
			m := want[g.IdentityID]
			if m == nil {
				m = map[string]wantGrant{}
				want[g.IdentityID] = m
			}
			if w, ok := m[grp]; !ok || g.GrantedAt.After(w.at) {
				m[grp] = wantGrant{g.ID, g.GrantedAt}
			}
			continue
		}
		at := g.GrantedAt
		if g.RevokedAt != nil {
			at = *g.RevokedAt
		} else if g.ExpiresAt != nil {
			at = *g.ExpiresAt
		}
		m := gone[g.IdentityID]
		if m == nil {
			m = map[string]wantGrant{}
			gone[g.IdentityID] = m
		}
		if w, ok := m[grp]; !ok || at.After(w.at) {
			m[grp] = wantGrant{g.ID, at}
		}
	}

	// Who is in each managed group, by account id.
	memberOf := map[string][]string{} // account id → managed groups
	for _, grp := range managed {
		g, ok := inv.Groups[grp]
		if !ok {
			continue
		}
		for _, m := range g.Members {
			memberOf[m.ID] = append(memberOf[m.ID], grp)
		}
		for _, f := range g.Foreign {
			p.Findings = append(p.Findings, Finding{Kind: FindForeignMember, SystemID: sys, Group: grp, Member: f,
				Action: Report, Detail: "a member that is not an account this connector manages"})
		}
	}

	linked := map[string]string{}
	for _, l := range in.Links {
		if l.IdentityID != "" {
			linked[l.ExternalID] = l.IdentityID
		}
	}

	// Names given by the system's naming rule name their person too.
	idByName := map[string]*gatehouse.Identity{}
	emailOf := map[string]string{}
	for _, g := range in.Names {
		if id := idByID[g.IdentityID]; id != nil {
			idByName[strings.ToLower(g.Name)] = id
			emailOf[id.ID] = id.Email
		}
	}

	// Match accounts to identities: a stored link first (it survives an email change), then
	// employee id, email, the name given to the person, and the email's local part as username.
	accounts := slices.Clone(inv.Accounts)
	slices.SortFunc(accounts, func(a, b connector.Account) int { return cmp.Compare(a.Ref.ID, b.Ref.ID) })
	names := newNamer(in, accounts, emailOf)
	accountOf := map[string]*connector.Account{}
	match := func(a *connector.Account) *gatehouse.Identity {
		if id := idByID[linked[a.Ref.ID]]; id != nil {
			return id
		}
		if id := idByEmployee[a.EmployeeID]; a.EmployeeID != "" && id != nil {
			return id
		}
		if id := idByEmail[strings.ToLower(a.Email)]; a.Email != "" && id != nil {
			return id
		}
		if id := idByName[strings.ToLower(a.Username)]; a.Username != "" && id != nil {
			return id
		}
		if id := idByLocal[strings.ToLower(a.Username)]; a.Username != "" && id != nil {
			return id
		}
		return nil
	}
	for i := range accounts {
		a := &accounts[i]
		id := match(a)
		groups := memberOf[a.Ref.ID]
		slices.Sort(groups)
		switch {
		case id == nil:
			p.Links = append(p.Links, Link{Account: *a, Groups: groups})
			p.orphan(in, a, groups)
			continue
		case accountOf[id.ID] != nil:
			// Keep the first (by id) as the identity's account: a stable choice, so two
			// reconciles never flip between them.
			p.Links = append(p.Links, Link{Account: *a, Groups: groups})
			p.Findings = append(p.Findings, Finding{Kind: FindDuplicateAccount, SystemID: sys, IdentityID: id.ID,
				Account: a.Ref.ID, Username: a.Username, Action: Report,
				Detail: "a second account for " + id.Email + " (the first is " + accountOf[id.ID].Username + ")"})
			p.orphan(in, a, groups)
			continue
		}
		accountOf[id.ID] = a
		p.Links = append(p.Links, Link{IdentityID: id.ID, Account: *a, Groups: groups})
	}

	// Every identity with an account or a desired membership, in a stable order.
	var ids []string
	for id := range accountOf {
		ids = append(ids, id)
	}
	for id := range want {
		if accountOf[id] == nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, iid := range ids {
		id := idByID[iid]
		if id == nil {
			continue // a grant of an identity the caller did not load: nothing safe to do
		}
		p.identity(in, id, accountOf[iid], memberOf, want[iid], gone[iid], names)
	}

	slices.SortStableFunc(p.Ops, func(a, b Op) int { return cmp.Compare(a.Kind.order(), b.Kind.order()) })
	return p
}

// identity plans one identity's account and memberships.
func (p *Plan) identity(in Input, id *gatehouse.Identity, acct *connector.Account, memberOf map[string][]string,
	want, gone map[string]wantGrant, names *namer) {
	sys := in.System.ID
	caps := in.Capabilities
	active := id.Status == gatehouse.StatusActive
	// cause of an operation that follows the identity's status rather than a grant.
	statusCause := cmp.Or(in.Cause, CauseSchedule)
	// The identity's last change is when its status changed (the HR import writes it in
	// the same transaction); the reconcile's own start is only a fallback.
	statusAt := id.UpdatedAt
	if statusAt.IsZero() {
		statusAt = in.Since
	}
	if statusAt.IsZero() {
		statusAt = in.Now
	}
	// An account this plan creates is named by the system's rule (when it names accounts),
	// else by the username the connector will derive; see create below.
	username, _, _ := strings.Cut(id.Email, "@")
	op := func(o Op) {
		o.SystemID, o.IdentityID, o.Username = sys, id.ID, username
		if acct != nil {
			o.Account, o.Username = acct.Ref, acct.Username
		}
		if !p.supported(o, caps) {
			return
		}
		p.Ops = append(p.Ops, o)
	}

	// The newest grant explains an account's creation or enabling.
	var newest wantGrant
	for _, w := range want {
		// Ties broken by id: map order must not change the plan.
		if newest.id == "" || w.at.After(newest.at) || (w.at.Equal(newest.at) && w.id > newest.id) {
			newest = w
		}
	}

	disabling, creating := false, false
	switch {
	case acct == nil && active && len(want) > 0:
		spec := connector.AccountSpec{Email: id.Email, FirstName: id.FirstName, LastName: id.LastName, EmployeeID: id.EmployeeID}
		name, detail, refused := names.name(id)
		username = name
		if names.on {
			spec.Username = name
		}
		n := len(p.Ops)
		op(Op{Kind: OpCreateAccount, Spec: &spec, Cause: GrantCause(newest.id), RequestedAt: newest.at, Detail: detail, Refused: refused,
			NewName: names.on && refused == "" && names.given[id.ID] == nil})
		creating = len(p.Ops) > n
	case acct == nil:
		return // nothing wanted, nothing there
	case active && !acct.Enabled && len(want) > 0:
		op(Op{Kind: OpEnable, Cause: statusCause, RequestedAt: statusAt})
	case !active && acct.Enabled:
		mode := in.Policy.LeaverAccounts
		p.Findings = append(p.Findings, Finding{Kind: FindLeaverAccount, SystemID: sys, IdentityID: id.ID,
			Account: acct.Ref.ID, Username: acct.Username, Action: mode,
			Detail: fmt.Sprintf("%s is %s but the account is enabled", id.Email, id.Status)})
		if mode == Enforce {
			op(Op{Kind: OpDisable, Cause: statusCause, RequestedAt: statusAt})
			disabling = caps.Disable
		}
	}

	// Memberships. A disabled account gets none added: on OpenLDAP they would be access
	// through the back door, and on leave they come back when the account is enabled.
	willBeEnabled := active && len(want) > 0
	have := map[string]bool{}
	if acct != nil {
		for _, g := range memberOf[acct.Ref.ID] {
			have[g] = true
		}
	}
	if !(disabling && caps.DisableRemovesMemberships) {
		for _, g := range sortedKeys(have) {
			if _, ok := want[g]; ok {
				continue // wanted: kept, also while on leave
			}
			if w, ok := gone[g]; ok {
				op(Op{Kind: OpRemoveMember, Group: g, Cause: GrantCause(w.id), RequestedAt: w.at})
				continue
			}
			mode := in.Policy.UnknownMemberships
			p.Findings = append(p.Findings, Finding{Kind: FindUnknownMembership, SystemID: sys, IdentityID: id.ID,
				Account: acct.Ref.ID, Username: acct.Username, Group: g, Action: mode,
				Detail: id.Email + " is a member but holds no grant for it"})
			if mode == Enforce {
				op(Op{Kind: OpRemoveMember, Group: g, Cause: CauseDrift, RequestedAt: in.Now})
			}
		}
	}
	// Without an account (one the connector cannot create waits for a person), memberships
	// have nobody to hold them.
	if willBeEnabled && (acct != nil || creating) {
		for _, g := range sortedKeys(want) {
			if have[g] {
				continue
			}
			w := want[g]
			op(Op{Kind: OpAddMember, Group: g, Cause: GrantCause(w.id), RequestedAt: w.at})
		}
	}
}

// orphan plans an account no identity claims: its enabled state and memberships are drift.
func (p *Plan) orphan(in Input, a *connector.Account, groups []string) {
	sys := in.System.ID
	mode := in.Policy.UnknownAccounts
	if a.Enabled {
		p.Findings = append(p.Findings, Finding{Kind: FindUnknownAccount, SystemID: sys, Account: a.Ref.ID,
			Username: a.Username, Action: mode, Detail: "an enabled account that matches no identity"})
	}
	disabling := mode == Enforce && a.Enabled && in.Capabilities.Disable
	if disabling {
		p.add(Op{Kind: OpDisable, SystemID: sys, Account: a.Ref, Username: a.Username, Cause: CauseDrift, RequestedAt: in.Now}, in.Capabilities)
	}
	if disabling && in.Capabilities.DisableRemovesMemberships {
		return
	}
	for _, g := range groups {
		mm := in.Policy.UnknownMemberships
		p.Findings = append(p.Findings, Finding{Kind: FindUnknownMembership, SystemID: sys, Account: a.Ref.ID,
			Username: a.Username, Group: g, Action: mm, Detail: "an account that matches no identity is a member"})
		if mm == Enforce {
			p.add(Op{Kind: OpRemoveMember, SystemID: sys, Account: a.Ref, Username: a.Username, Group: g,
				Cause: CauseDrift, RequestedAt: in.Now}, in.Capabilities)
		}
	}
}

func (p *Plan) add(o Op, caps connector.Capabilities) {
	if p.supported(o, caps) {
		p.Ops = append(p.Ops, o)
	}
}

// supported reports whether the connector can run o; when it cannot, the need is reported as
// a finding for a person instead of being silently dropped.
func (p *Plan) supported(o Op, caps connector.Capabilities) bool {
	ok := true
	switch o.Kind {
	case OpCreateAccount:
		ok = caps.CreateAccount
	case OpEnable, OpDisable:
		ok = caps.Disable
	case OpAddMember, OpRemoveMember:
		ok = caps.Groups
	}
	if !ok {
		p.Findings = append(p.Findings, Finding{Kind: FindUnsupported, SystemID: o.SystemID, IdentityID: o.IdentityID,
			Account: o.Account.ID, Username: o.Username, Group: o.Group, Action: Report,
			Detail: "the connector cannot " + string(o.Kind) + ": do it by hand"})
	}
	return ok
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// tierRank orders systems for a reconcile of everything: critical first, so a leaver loses
// the access that matters most before anything else.
func tierRank(t gatehouse.Tier) int {
	switch t {
	case gatehouse.TierCritical:
		return 0
	case gatehouse.TierHigh:
		return 1
	}
	return 2
}

// OrderSystems sorts systems critical first, then high, then standard, then by id.
func OrderSystems(systems []*gatehouse.System) {
	slices.SortStableFunc(systems, func(a, b *gatehouse.System) int {
		return cmp.Or(cmp.Compare(tierRank(a.Tier), tierRank(b.Tier)), cmp.Compare(a.ID, b.ID))
	})
}
