package gatehouse

import "time"

// Exceptions register: a recorded, approved decision to let someone hold access that a
// separation-of-duties rule (or another policy) would forbid, for a while, with the risk
// rationale and the compensating controls an auditor asks for. An SoD rule with
// on_violation: exception lets a request through only for a beneficiary holding an approved,
// unexpired exception for that rule.

// ExceptionKind says what an exception waives.
type ExceptionKind string

const (
	ExceptionSoD    ExceptionKind = "sod"    // an SoD rule (RuleID)
	ExceptionPolicy ExceptionKind = "policy" // another policy, named in the rationale
)

// ExceptionStatus is where an exception stands.
type ExceptionStatus string

const (
	ExceptionPending  ExceptionStatus = "pending"  // waits for a security approver (new, or back for review)
	ExceptionApproved ExceptionStatus = "approved" // in force until ExpiresAt
	ExceptionRejected ExceptionStatus = "rejected"
	ExceptionExpired  ExceptionStatus = "expired" // ended; with on_expiry revoke, the access it allowed was revoked
	ExceptionRevoked  ExceptionStatus = "revoked" // ended early by a person
)

// Valid reports whether s is a known exception status.
func (s ExceptionStatus) Valid() bool {
	switch s {
	case ExceptionPending, ExceptionApproved, ExceptionRejected, ExceptionExpired, ExceptionRevoked:
		return true
	}
	return false
}

// OnExpiry is what happens when an approved exception expires.
type OnExpiry string

const (
	// ExpiryRevoke revokes the grants the exception allowed and closes it.
	ExpiryRevoke OnExpiry = "revoke"
	// ExpiryReview puts it back to pending: a security approver renews it (with new dates) or
	// it stays unusable; the access stays until someone decides.
	ExpiryReview OnExpiry = "review"
)

// Valid reports whether o is a known expiry behaviour.
func (o OnExpiry) Valid() bool { return o == ExpiryRevoke || o == ExpiryReview }

// ExceptionSettings are the catalog's settings.exceptions.
type ExceptionSettings struct {
	// OnExpiry is what an exception recorded without its own on_expiry does when it expires
	// ("": revoke).
	OnExpiry OnExpiry `json:"on_expiry,omitempty"`
}

// Exception is one entry of the exceptions register.
type Exception struct {
	ID         string        `json:"id"`
	Number     int64         `json:"number"`
	Ref        string        `json:"ref"` // EXC-000123
	IdentityID string        `json:"identity_id"`
	Identity   string        `json:"identity"` // email, as at creation
	Kind       ExceptionKind `json:"kind"`
	RuleID     string        `json:"rule_id,omitempty"` // the SoD rule waived (kind sod)
	// EntitlementIDs narrows the exception to these entitlements (empty: any the rule names);
	// with on_expiry revoke they are also revoked when it expires.
	EntitlementIDs []string `json:"entitlement_ids"`
	// Rationale is the risk rationale: why the business accepts the risk.
	Rationale            string          `json:"rationale"`
	CompensatingControls string          `json:"compensating_controls"`
	RequestedBy          string          `json:"requested_by"` // actor
	RequestedByID        string          `json:"requested_by_id,omitempty"`
	ApprovedBy           string          `json:"approved_by,omitempty"`
	ApprovedAt           *time.Time      `json:"approved_at,omitempty"`
	Comment              string          `json:"comment,omitempty"` // the last decision's comment
	Status               ExceptionStatus `json:"status"`
	ExpiresAt            time.Time       `json:"expires_at"`
	ReviewAt             time.Time       `json:"review_at"`
	OnExpiry             OnExpiry        `json:"on_expiry"`
	// GrantIDs are the grants written under the exception (by requests it let through): what
	// on_expiry revoke takes away.
	GrantIDs  []string  `json:"grant_ids"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// InForce reports whether the exception waives its rule at now: approved and not expired.
func (e *Exception) InForce(now time.Time) bool {
	return e.Status == ExceptionApproved && now.Before(e.ExpiresAt)
}

// Covers reports whether the exception, in force at now, waives rule for a conflict between
// entitlements left and right.
func (e *Exception) Covers(rule, left, right string, now time.Time) bool {
	if !e.InForce(now) || e.Kind != ExceptionSoD || e.RuleID != rule {
		return false
	}
	if len(e.EntitlementIDs) == 0 {
		return true
	}
	for _, id := range e.EntitlementIDs {
		if id == left || id == right {
			return true
		}
	}
	return false
}

// ExceptionRef formats an exception number as people see it: EXC-000123.
func ExceptionRef(n int64) string { return formatRef("EXC", n) }

// ParseExceptionRef parses EXC-000123 (case-insensitive) into its number.
func ParseExceptionRef(s string) (int64, bool) { return parseRef("EXC", s) }
