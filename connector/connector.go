package connector

import "context"

// Connector is one open connection to one target system. Implementations are safe for
// concurrent use. Every method takes a context first; a cancelled context stops waiting, and an
// operation that may or may not have happened is reported as a retryable error (running it again
// is safe because every operation is idempotent).
type Connector interface {
	// Capabilities says which operations the system supports, so the engine plans only those.
	Capabilities() Capabilities

	// Inventory reads, in bulk, every account the connector manages with its enabled state,
	// and the members of each group in groups (external ids, e.g. LDAP DNs). A nil groups
	// reads every group the connector can see. A group that does not exist in the system is
	// absent from Inventory.Groups; an existing group without members is present and empty.
	Inventory(ctx context.Context, groups []string) (*Inventory, error)

	// CreateAccount creates an account for a person. It is idempotent: when an account for
	// the same username already exists it is adopted and its reference returned (a disabled
	// one stays disabled: enabling it is a separate, audited decision). Adopting an account
	// that belongs to somebody else (another employee id) is a Permanent error.
	CreateAccount(ctx context.Context, spec AccountSpec) (AccountRef, error)

	// SetEnabled enables or disables an account. Disabling an account that is already
	// disabled, or enabling an enabled one, succeeds and changes nothing. A connector whose
	// Capabilities().DisableRemovesMemberships is true also removes the account from every
	// group when disabling it.
	SetEnabled(ctx context.Context, account AccountRef, enabled bool) error

	// AddMember makes account a member of group (an external id). Adding an existing member
	// succeeds. A connector with Capabilities().CreatesGroups creates a missing group.
	AddMember(ctx context.Context, group string, account AccountRef) error

	// RemoveMember removes account from group. Removing a non-member, or from a group that
	// does not exist, succeeds.
	RemoveMember(ctx context.Context, group string, account AccountRef) error

	// Close releases the connection. The connector is not used afterwards.
	Close() error
}

// Checker is an optional interface: a connector that can check its connection, credentials and
// configured containers without changing anything implements it, so `gatehouse serve` can
// report a broken system before a job fails. Find it with a type assertion.
type Checker interface {
	Check(ctx context.Context) error
}

// MemberBatcher is an optional interface of a connector that can change many memberships of one
// group in one request: a SCIM PATCH carries many member values, and a SCIM app that takes a
// tenth of a second a request makes 400 single changes a 40-second wait. The engine hands it the
// changes a reconcile planned for a group together (an account is never in both add and
// remove; either may be empty). It is idempotent like AddMember and RemoveMember (adding a member twice, removing a
// non-member, or removing from a missing group succeeds; a missing group is created for adds
// when Capabilities().CreatesGroups). An error applies to the whole batch: a retryable one stops
// the run as usual; after a permanent one the engine runs the batch's operations one by one, so
// that one bad account fails alone and the rest still apply.
type MemberBatcher interface {
	ChangeMembers(ctx context.Context, group string, add, remove []AccountRef) error
}

// Concurrent is an optional interface of a connector that may be given several operations at
// once: a first load creates thousands of accounts, and one at a time each waits for the
// round trip of the one before. Concurrency is how many operations the engine may have in
// flight on it (the system's concurrency setting; 1 or less: one at a time, as without the
// interface). The engine only overlaps operations on different entries; those on one account
// (create it, then add it to groups) keep their order.
type Concurrent interface {
	Concurrency() int
}

// Finder is an optional interface of a connector that can read chosen accounts instead of
// every account: a change that touched a few people (an HR import moving 200 of 20,000) is
// reconciled by reading those people only, which on a SCIM app serving a few thousand users a
// second saves seconds per run. The engine uses it for such targeted runs; the periodic full
// reconcile still reads everything with Inventory, so drift of everybody else is found there.
//
// InventoryOf returns, for each person, the accounts in Known that exist (read by id: the
// accounts stored as theirs, which may have been renamed since), and when none does, the
// accounts found for Spec (as CreateAccount would name it, and by employee id): each account as
// Inventory would report it, so that the engine's matching by employee id, email and username
// works. It also returns each group in groups with its members, as Inventory does (absent when
// it does not exist); the member lists may be complete, the engine keeps the members that are
// these people's accounts. An account found twice is listed once. A connector that cannot look
// accounts up on this system (no filtering) may read everything with Inventory instead: the
// engine then merely does more work.
type Finder interface {
	InventoryOf(ctx context.Context, people []Person, groups []string) (*Inventory, error)
}

// Person is somebody whose accounts Finder reads.
type Person struct {
	Spec  AccountSpec  // as for CreateAccount
	Known []AccountRef // the accounts stored as this person's
}

// Sweeper is an optional interface of a connector whose operations wait for people (the manual
// connector returns Deferred errors). After a reconcile ran every operation it planned, and none
// stopped on a retryable error, the engine calls Sweep: waiting work that this run no longer
// asked for is not wanted any more (the grant was revoked before anybody did it) and is
// withdrawn. It returns how many items it withdrew.
type Sweeper interface {
	Sweep(ctx context.Context) (int, error)
}

// Capabilities are the operations a connector supports. The engine plans nothing a connector
// cannot do: it reports it instead (e.g. an account to disable by hand).
type Capabilities struct {
	CreateAccount bool // CreateAccount works
	Disable       bool // SetEnabled works
	Groups        bool // AddMember / RemoveMember and Inventory groups work
	// CreatesGroups: AddMember creates a group that does not exist yet, so a catalog may name a
	// group before anybody is in it.
	CreatesGroups bool
	// DisableRemovesMemberships: disabling an account also removes it from every group (the
	// OpenLDAP flavor, where "disabled" is not an attribute and a disabled entry must not keep
	// access through its groups). The engine then expects no memberships on disabled accounts.
	DisableRemovesMemberships bool
}

// Names lists what a connector can do, in the catalog's words (a system test shows them).
func (c Capabilities) Names() []string {
	out := []string{}
	for _, x := range []struct {
		ok   bool
		name string
	}{
		{c.CreateAccount, "create_account"}, {c.Disable, "disable"}, {c.Groups, "groups"},
		{c.CreatesGroups, "creates_groups"}, {c.DisableRemovesMemberships, "disable_removes_memberships"},
	} {
		if x.ok {
			out = append(out, x.name)
		}
	}
	return out
}

// AccountSpec is what a connector needs to create an account for a person. It is built from a
// gatehouse.Identity by the engine.
type AccountSpec struct {
	Email      string
	FirstName  string
	LastName   string
	EmployeeID string
	// Username is the account name to use; "" lets the connector derive it (the LDAP connector
	// uses the local part of Email).
	Username string
}

// AccountRef identifies an account in a target system.
type AccountRef struct {
	// ID is the system's immutable id for the account (LDAP entryUUID, AD objectGUID, SCIM
	// id): it survives renames and moves, so it is what the engine stores.
	ID string `json:"id"`
	// Locator is where the account was last seen (an LDAP DN). It is a hint that saves a
	// lookup and may be stale (a disabled OpenLDAP account moves); connectors check it.
	Locator string `json:"locator,omitempty"`
}

// Account is an account as read by Inventory: observed state.
type Account struct {
	Ref        AccountRef
	Username   string // uid, sAMAccountName, SCIM userName
	Email      string
	EmployeeID string
	Enabled    bool
}

// Group is a group's membership as read by Inventory.
type Group struct {
	// ID is the group's external id, as the engine asked for it.
	ID string
	// Members are the accounts in the group, in no particular order.
	Members []AccountRef
	// Foreign are member values that are not accounts this connector manages (an LDAP DN
	// outside users_dn and disabled_dn, a nested group). They are reported as drift, never
	// silently dropped. A connector's internal placeholder (an empty groupOfNames needs one)
	// is never listed.
	Foreign []string
}

// Inventory is everything a connector read from its system in one pass.
type Inventory struct {
	Accounts []Account
	Groups   map[string]*Group // by the external id the caller asked for
}
