package gatehouse

import "time"

// Access requests: someone asks for (or gives up) catalog access for a beneficiary, approvers
// decide step by step, and the final approval writes the grants that provisioning carries out.

// RequestAction says whether a request adds access or removes it.
type RequestAction string

const (
	ActionAdd    RequestAction = "add"
	ActionRemove RequestAction = "remove"
)

// RequestState is where a request stands.
type RequestState string

const (
	RequestSubmitted       RequestState = "submitted"
	RequestPendingApproval RequestState = "pending_approval"
	RequestApproved        RequestState = "approved"
	RequestProvisioning    RequestState = "provisioning" // grants written, the targets not yet changed
	RequestFulfilled       RequestState = "fulfilled"
	RequestDenied          RequestState = "denied"
	RequestReturned        RequestState = "returned" // needs information: the requester edits and resubmits
	RequestCancelled       RequestState = "cancelled"
	RequestExpired         RequestState = "expired" // no decision in time
	RequestFailed          RequestState = "failed"  // provisioning failed
)

// Valid reports whether s is a known request state.
func (s RequestState) Valid() bool {
	switch s {
	case RequestSubmitted, RequestPendingApproval, RequestApproved, RequestProvisioning, RequestFulfilled,
		RequestDenied, RequestReturned, RequestCancelled, RequestExpired, RequestFailed:
		return true
	}
	return false
}

// Open reports whether a request in state s still awaits a person (a decision or an edit):
// the access it asks for counts as pending, and it may be cancelled.
func (s RequestState) Open() bool {
	return s == RequestSubmitted || s == RequestPendingApproval || s == RequestReturned
}

// Priority is how urgent a request is; it sets the SLA.
type Priority string

const (
	PriorityLow      Priority = "low"
	PriorityNormal   Priority = "normal"
	PriorityHigh     Priority = "high"
	PriorityCritical Priority = "critical"
)

// SLA is the time from submission within which a request of priority p should be decided:
// 4h critical, 8h high, 24h normal, 72h low. An unknown priority gets the normal SLA.
func (p Priority) SLA() time.Duration {
	switch p {
	case PriorityCritical:
		return 4 * time.Hour
	case PriorityHigh:
		return 8 * time.Hour
	case PriorityLow:
		return 72 * time.Hour
	}
	return 24 * time.Hour
}

// Valid reports whether p is a known priority.
func (p Priority) Valid() bool {
	return p == PriorityLow || p == PriorityNormal || p == PriorityHigh || p == PriorityCritical
}

// StepKind is who an approval step asks.
type StepKind string

const (
	StepManager  StepKind = "manager"  // the beneficiary's manager, from HR
	StepOwner    StepKind = "owner"    // the entitlement's owner
	StepSecurity StepKind = "security" // settings.security_approvers
	StepPerson   StepKind = "person"   // a person named in the approval chain
)

// Decision is an approver's answer to a step ("" while undecided).
type Decision string

const (
	DecisionApproved Decision = "approved"
	DecisionDenied   Decision = "denied"
	DecisionReturned Decision = "returned"
)

// ApprovalStep is one step of a request's approval chain. Any one of Approvers (or their active
// delegate) decides it. Why says how they were chosen, including every fallback, so that an
// approver knows why they are asked and an auditor can check the routing.
type ApprovalStep struct {
	Kind      StepKind   `json:"kind"`
	Approvers []string   `json:"approvers"` // identity ids
	Emails    []string   `json:"emails"`    // the approvers' emails, for people reading it
	Why       string     `json:"why"`
	Decision  Decision   `json:"decision,omitempty"`
	DecidedBy string     `json:"decided_by,omitempty"` // the actor
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	Comment   string     `json:"comment,omitempty"`
	// DecidedByID is the person who decided, also when deciding as someone's delegate: one
	// person decides at most one step of a request.
	DecidedByID string `json:"decided_by_id,omitempty"`
	// Entitlement is the entitlement whose approval chain asked for the step (the first one,
	// when several asked for the same step): its system's owner is the step's fallback.
	Entitlement string `json:"entitlement,omitempty"`
}

// SoDFinding is an SoD rule a request would break, as recorded on the request.
type SoDFinding struct {
	Rule        string `json:"rule"`
	Description string `json:"description,omitempty"`
	Severity    string `json:"severity"`
	OnViolation string `json:"on_violation"`
	Left        string `json:"left"`
	Right       string `json:"right"`
	// Exception is the approved exception (EXC-000123) that lets an on_violation: exception
	// rule be broken.
	Exception string `json:"exception,omitempty"`
}

// PeerContext says how common an entitlement is among the beneficiary's peers (same department
// and title): an approver reads "3 of 12 peers hold it" before deciding.
type PeerContext struct {
	EntitlementID string `json:"entitlement_id"`
	Department    string `json:"department"`
	Title         string `json:"title"`
	Peers         int    `json:"peers"`   // active identities with that department and title, the beneficiary excluded
	Holding       int    `json:"holding"` // of them, those with an active grant of the entitlement
}

// RequestFindings are the policy checks made before approval, recorded on the request.
type RequestFindings struct {
	Risk  Risk          `json:"risk"` // the highest risk of the entitlements asked for
	SoD   []SoDFinding  `json:"sod"`
	Peers []PeerContext `json:"peers"`
}

// RequestEvent is one entry of a request's timeline.
type RequestEvent struct {
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Kind    string    `json:"kind"` // submitted, returned, resubmitted, approved, denied, cancelled, provisioning, fulfilled, failed, ...
	Comment string    `json:"comment,omitempty"`
}

// AccessRequest is a request for (or to give up) access to catalog entitlements.
type AccessRequest struct {
	ID            string        `json:"id"`
	Number        int64         `json:"number"`
	Ref           string        `json:"ref"` // REQ-000123
	RequesterID   string        `json:"requester_id"`
	BeneficiaryID string        `json:"beneficiary_id"`
	Requester     string        `json:"requester"`   // email, as at submission
	Beneficiary   string        `json:"beneficiary"` // email, as at submission
	Action        RequestAction `json:"action"`
	EntitlementID string        `json:"entitlement_id,omitempty"` // as asked
	RoleID        string        `json:"role_id,omitempty"`        // as asked; expanded into Entitlements
	Entitlements  []string      `json:"entitlements"`             // what the request is for
	Justification string        `json:"justification"`
	// Missing says what a returned request's justification lacks (intake quality).
	Missing   []string        `json:"missing,omitempty"`
	Duration  Duration        `json:"duration"` // 0: as long as allowed
	Priority  Priority        `json:"priority"`
	State     RequestState    `json:"state"`
	Steps     []ApprovalStep  `json:"steps"`
	Findings  RequestFindings `json:"findings"`
	DueAt     time.Time       `json:"due_at"`
	GrantIDs  []string        `json:"grant_ids"`
	Error     string          `json:"error,omitempty"` // why provisioning failed
	Events    []RequestEvent  `json:"events"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	// SubmittedAt is the last (re)submission: the SLA runs from it.
	SubmittedAt time.Time  `json:"submitted_at"`
	ApprovedAt  *time.Time `json:"approved_at,omitempty"`
	FulfilledAt *time.Time `json:"fulfilled_at,omitempty"`
	// TimeToProvision is FulfilledAt − ApprovedAt, once fulfilled.
	TimeToProvision Duration `json:"time_to_provision,omitempty"`
	Version         int64    `json:"version"`
}

// RequestRef formats a request number as people see it: REQ-000123.
func RequestRef(n int64) string { return formatRef("REQ", n) }

// ParseRequestRef parses REQ-000123 (case-insensitive) into its number.
func ParseRequestRef(s string) (int64, bool) { return parseRef("REQ", s) }

// CurrentStep returns the index of the first undecided step, or -1 when every step is decided.
func (r *AccessRequest) CurrentStep() int {
	for i := range r.Steps {
		if r.Steps[i].Decision == "" {
			return i
		}
	}
	return -1
}

// Delegation lets To decide, between StartsAt and EndsAt, the approval steps that ask From:
// approvers delegate while they are away.
type Delegation struct {
	ID        string    `json:"id"`
	FromID    string    `json:"from_id"`
	ToID      string    `json:"to_id"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	Reason    string    `json:"reason,omitempty"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// Active reports whether the delegation is in force at now.
func (d *Delegation) Active(now time.Time) bool {
	return !now.Before(d.StartsAt) && now.Before(d.EndsAt)
}
