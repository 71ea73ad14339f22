package gatehouse

import (
	"encoding/json"
	"time"
)

// The query vocabulary of the domain: a page of a list and the filters that select what a list
// holds. The store implements them, the service passes them through, and the API, web UI and
// client speak them on the wire, so they are declared once, here. A field's query tag names its
// URL query parameter on the API's list routes (package urlquery encodes and decodes them); a
// field without one is not on the wire.

// Page is one page of a list. NextCursor is "" on the last page; pass it back as Cursor to get the
// next one.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// UnmarshalJSON reads the documented {"items": [...]} and also a bare array, so that a reader
// of an unpaged list (or of a server that answers one as a plain array) decodes it the same way.
func (p *Page[T]) UnmarshalJSON(b []byte) error {
	var items []T
	if err := json.Unmarshal(b, &items); err == nil {
		*p = Page[T]{Items: items}
		return nil
	}
	type page Page[T] // without this method
	var v page
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = Page[T](v)
	return nil
}

// DefaultLimit and MaxLimit bound page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// IdentityFilter selects identities. Empty fields do not filter.
type IdentityFilter struct {
	Query          string         `query:"q"` // case-insensitive substring of email, first/last name, employee_id, title
	Department     string         `query:"department"`
	Status         IdentityStatus `query:"status"`
	EmploymentType EmploymentType `query:"employment_type"`
	ManagerID      string         `query:"manager_id"` // employee_id of the manager
	Role           AccessRole     `query:"role"`
	Location       string         `query:"location"`
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
	Limit            int    `query:"limit"`
	Cursor           string `query:"cursor"`
	// Offset skips this many identities (in id order, after Cursor): SCIM pages by index.
	Offset int
}

// AttributeValue is one key and value of Identity.Attributes.
type AttributeValue struct{ Key, Value string }

// EntitlementFilter selects entitlements.
type EntitlementFilter struct {
	System      string `query:"system"`
	Risk        Risk   `query:"risk"`
	Query       string `query:"q"` // substring of id, name, description
	Requestable *bool  `query:"requestable"`
	Limit       int    `query:"limit"`
	Cursor      string `query:"cursor"`
}

// GrantFilter selects grants.
type GrantFilter struct {
	IdentityID    string      `query:"identity"`
	EntitlementID string      `query:"entitlement"`
	System        string      `query:"system"`
	Source        GrantSource `query:"source"`
	// Status: "active" (not revoked), "revoked", or "" for all.
	Status string `query:"status"`
	// ExpiresAfter and ExpiresBefore select grants whose expiry is in (ExpiresAfter,
	// ExpiresBefore]; a zero bound is open. Setting either leaves out grants with no expiry.
	ExpiresAfter, ExpiresBefore time.Time
	Limit                       int    `query:"limit"`
	Cursor                      string `query:"cursor"`
}

// AccountFilter selects observed accounts.
type AccountFilter struct {
	SystemID   string `query:"system"`
	IdentityID string `query:"identity"`
	Orphaned   bool   `query:"orphaned"` // only accounts with no identity
	Limit      int    `query:"limit"`
	Cursor     string `query:"cursor"`
}

// TokenFilter selects tokens.
type TokenFilter struct {
	IdentityID     string `query:"identity"` // "" for all
	IncludeRevoked bool   `query:"include_revoked"`
}

// HRImportFilter selects HR imports.
type HRImportFilter struct {
	Status HRImportStatus `query:"status"` // "" for all
	Limit  int            `query:"limit"`
	Cursor string         `query:"cursor"`
}

// HRImportChangeFilter selects an import's evidence rows.
type HRImportChangeFilter struct {
	ImportID string // required
	Class    string `query:"class"` // "" for all
	Late     bool   `query:"late"`  // only leavers terminated after their end date
	Limit    int    `query:"limit"`
	Cursor   string `query:"cursor"`
}

// ConfirmationFilter selects mover confirmations. Empty fields do not filter.
type ConfirmationFilter struct {
	ManagerID  string `query:"manager_id"`  // identity id of the manager addressed
	IdentityID string `query:"identity_id"` // the mover
	GrantID    string
	Status     ConfirmationStatus `query:"status"`
	Limit      int                `query:"limit"`
	Cursor     string             `query:"cursor"`
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
	SystemID    string          `query:"system"`
	ReconcileID string          `query:"reconcile"`
	IdentityID  string          `query:"identity"`
	Status      OperationStatus `query:"status"` // "" for all
	Limit       int             `query:"limit"`
	Cursor      string          `query:"cursor"`
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
	DisplayName string `query:"display_name"` // exact, case-insensitive
	ExternalID  string
	MemberID    string `query:"member"` // groups this identity is a member of
	Source      string
	Limit       int    `query:"limit"`
	Cursor      string `query:"cursor"`
}

// AuditFilter selects audit events, newest first unless Ascending. Times select [Since, Until).
type AuditFilter struct {
	Since      time.Time `query:"since"`
	Until      time.Time `query:"until"`
	Actor      string    `query:"actor"`
	Action     string    `query:"action"` // exact, or a prefix ending in "." ("grant.")
	ObjectType string    `query:"object_type"`
	ObjectID   string    `query:"object_id"`
	Ascending  bool      `query:"order=asc"`
	Limit      int       `query:"limit"`
	Cursor     string    `query:"cursor"`
}

// RequestFilter selects access requests. Empty fields do not filter.
type RequestFilter struct {
	RequesterID   string
	BeneficiaryID string
	// Party keeps requests this identity submitted or is the beneficiary of.
	Party string
	// Approvers keeps requests whose current step asks one of these identities.
	Approvers []string
	States    []RequestState `query:"state,list"`
	Limit     int            `query:"limit"`
	Cursor    string         `query:"cursor"`
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
	OpenOnly bool   `query:"open"`
	Limit    int    `query:"limit"`
	Cursor   string `query:"cursor"`
}

// GrantQuery is the query of GET /api/v1/grants: a GrantFilter, or with Expiring the grants in
// force that expire within that time from now.
type GrantQuery struct {
	GrantFilter
	Expiring Duration `query:"expiring"`
}

// ConfirmationQuery is the query of GET /api/v1/confirmations: Mine keeps the confirmations
// addressed to the caller.
type ConfirmationQuery struct {
	ConfirmationFilter
	Mine bool `query:"mine"`
}

// RequestQuery is the query of GET /api/v1/requests: View is mine (submitted by or for the
// caller, the default), pending-me (waiting for the caller's decision) or all (readers).
type RequestQuery struct {
	RequestFilter
	View string `query:"view"`
}

// HRImportQuery is the query of POST /api/v1/hr/imports: how the feed is imported (a dry run, a
// delta) and which page of the plan's items the answer carries (Limit items of each class, 0
// for the server's default, after skipping Offset; of Class only when it is set).
type HRImportQuery struct {
	DryRun bool   `query:"dry_run"`
	Delta  bool   `query:"delta"`
	Class  string `query:"class"`
	Limit  int    `query:"limit"`
	Offset int    `query:"offset"`
}
