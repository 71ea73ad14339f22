package gatehouse

import "time"

// The query vocabulary of the domain: a page of a list and the filters that select what a list
// holds. The store implements them, the service passes them through, and the API, web UI and
// client speak them on the wire, so they are declared once, here.

// Page is one page of a list. NextCursor is "" on the last page; pass it back as Cursor to get the
// next one.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// DefaultLimit and MaxLimit bound page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// IdentityFilter selects identities. Empty fields do not filter.
type IdentityFilter struct {
	Query          string // case-insensitive substring of email, first/last name, employee_id, title
	Department     string
	Status         IdentityStatus
	EmploymentType EmploymentType
	ManagerID      string // employee_id of the manager
	Role           AccessRole
	Location       string
	Kind           IdentityKind
	Source         string // exact
	EmployeeID     string // exact (unique, so at most one identity)
	// EmployeeIDFold keeps identities whose employee_id is this ignoring case (of ASCII
	// letters at least, on every engine): E100 and e100, which the unique index lets two
	// people hold. No index serves it (a scan of
	// the employee ids); SCIM checks a new employee number with it.
	EmployeeIDFold string
	// SCIMExternalID keeps identities whose Attributes["scim.externalId"] is exactly this (a
	// SCIM client's own identifier of a user, no key: several may share it), through an index.
	SCIMExternalID string
	// SCIMEmail keeps the identities that may have this email address, ignoring case: as their
	// email, or in the SCIM emails list they were sent (Attributes["scim.emails"], JSON text
	// compared as text). It narrows a search in the database; the caller matches the
	// addresses exactly, since a list may hold the address as another value (a display).
	SCIMEmail string
	// Attribute keeps identities whose attribute Key has value Value; WithoutAttribute leaves
	// them out (the SCIM server hides the people its clients deleted).
	Attribute        *AttributeValue
	WithoutAttribute *AttributeValue
	Limit            int
	Cursor           string
	// Offset skips this many identities (in id order, after Cursor): SCIM pages by index.
	Offset int
}

// AttributeValue is one key and value of Identity.Attributes.
type AttributeValue struct{ Key, Value string }

// EntitlementFilter selects entitlements.
type EntitlementFilter struct {
	System      string
	Risk        Risk
	Query       string // substring of id, name, description
	Requestable *bool
	Limit       int
	Cursor      string
}

// GrantFilter selects grants.
type GrantFilter struct {
	IdentityID    string
	EntitlementID string
	System        string
	Source        GrantSource
	// Status: "active" (not revoked), "revoked", or "" for all.
	Status string
	// ExpiresAfter and ExpiresBefore select grants whose expiry is in (ExpiresAfter,
	// ExpiresBefore]; a zero bound is open. Setting either leaves out grants with no expiry.
	ExpiresAfter, ExpiresBefore time.Time
	Limit                       int
	Cursor                      string
}

// AccountFilter selects observed accounts.
type AccountFilter struct {
	SystemID   string
	IdentityID string
	Orphaned   bool // only accounts with no identity
	Limit      int
	Cursor     string
}

// TokenFilter selects tokens.
type TokenFilter struct {
	IdentityID     string // "" for all
	IncludeRevoked bool
}

// HRImportFilter selects HR imports.
type HRImportFilter struct {
	Status HRImportStatus // "" for all
	Limit  int
	Cursor string
}

// HRImportChangeFilter selects an import's evidence rows.
type HRImportChangeFilter struct {
	ImportID string // required
	Class    string // "" for all
	Late     bool   // only leavers terminated after their end date
	Limit    int
	Cursor   string
}

// ConfirmationFilter selects mover confirmations. Empty fields do not filter.
type ConfirmationFilter struct {
	ManagerID  string // identity id of the manager addressed
	IdentityID string // the mover
	GrantID    string
	Status     ConfirmationStatus
	Limit      int
	Cursor     string
}

// ReconcileFilter selects reconcile runs (provisioning).
type ReconcileFilter struct {
	SystemID string
	JobIDs   []int64 // runs of these jobs
	// Latest keeps only the newest finished run of each system: the current drift (an
	// interrupted run does not count: it did not finish reading).
	Latest bool
	// Status keeps only runs in this state ("": any), e.g. the runs still running.
	Status ReconcileStatus
	Limit  int
	Cursor string
}

// OperationFilter selects provisioning operations.
type OperationFilter struct {
	SystemID    string
	ReconcileID string
	IdentityID  string
	Status      OperationStatus // "" for all
	Limit       int
	Cursor      string
}

// TaskFilter selects manual tasks. Empty fields do not filter.
type TaskFilter struct {
	SystemID  string
	Status    TaskStatus
	Assignee  string
	DueBefore time.Time // only tasks due before this time (with Status open: the overdue ones)
	Limit     int
	Cursor    string
}

// SCIMGroupFilter selects SCIM groups. Empty fields do not filter.
type SCIMGroupFilter struct {
	DisplayName string // exact, case-insensitive
	ExternalID  string
	MemberID    string // groups this identity is a member of
	Source      string
	Limit       int
	Cursor      string
}

// AuditFilter selects audit events, newest first unless Ascending. Times select [Since, Until).
type AuditFilter struct {
	Since      time.Time
	Until      time.Time
	Actor      string
	Action     string // exact, or a prefix ending in "." ("grant.")
	ObjectType string
	ObjectID   string
	Ascending  bool
	Limit      int
	Cursor     string
}

// RequestFilter selects access requests. Empty fields do not filter.
type RequestFilter struct {
	RequesterID   string
	BeneficiaryID string
	// Party keeps requests this identity submitted or is the beneficiary of.
	Party string
	// Approvers keeps requests whose current step asks one of these identities.
	Approvers []string
	States    []RequestState
	Limit     int
	Cursor    string
}

// DelegationFilter selects delegations. Empty fields do not filter.
type DelegationFilter struct {
	FromID   string
	ToID     string
	ActiveAt time.Time // only those in force at this time
}

// ExceptionFilter selects exceptions. Empty fields do not filter.
type ExceptionFilter struct {
	IdentityID string
	RuleID     string
	Statuses   []ExceptionStatus
	// ExpiresBefore keeps exceptions whose expiry is at or before it.
	ExpiresBefore time.Time
	Limit         int
	Cursor        string
}

// EmergencyReviewFilter selects post-event reviews of break-glass grants. Empty fields do not
// filter.
type EmergencyReviewFilter struct {
	OpenOnly bool
	Limit    int
	Cursor   string
}
