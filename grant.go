package gatehouse

import "time"

// GrantSource says why a grant exists. Every grant keeps its source and reference so that KPIs,
// reviews and evidence can be computed from grants alone.
type GrantSource string

const (
	SourceBirthright GrantSource = "birthright" // reference: the role id
	SourceRequest    GrantSource = "request"    // reference: the request number
	SourceReview     GrantSource = "review"     // reference: the campaign
	SourceException  GrantSource = "exception"  // reference: the exception or ticket
	SourceEmergency  GrantSource = "emergency"  // reference: the break-glass ticket
	// SourceDirect is a grant an operator made by hand (grants create): never to themselves,
	// under the same SoD rules as a request, with a reason and a reference that is either the
	// operator's own ticket or a Gatehouse number that is real and fits.
	SourceDirect GrantSource = "direct"
)

// Valid reports whether s is a known grant source.
func (s GrantSource) Valid() bool {
	switch s {
	case SourceBirthright, SourceRequest, SourceReview, SourceException, SourceEmergency, SourceDirect:
		return true
	}
	return false
}

// Grant is desired state: an identity should hold an entitlement, for a reason, maybe until a
// time. A revoked grant is kept (RevokedAt set) as evidence.
type Grant struct {
	ID            string      `json:"id"`
	IdentityID    string      `json:"identity_id"`
	EntitlementID string      `json:"entitlement_id"`
	Source        GrantSource `json:"source"`
	Reference     string      `json:"reference,omitempty"`
	GrantedBy     string      `json:"granted_by"` // the actor
	GrantedAt     time.Time   `json:"granted_at"`
	ExpiresAt     *time.Time  `json:"expires_at,omitempty"`
	RevokedAt     *time.Time  `json:"revoked_at,omitempty"`
	RevokedBy     string      `json:"revoked_by,omitempty"`
	RevokeReason  string      `json:"revoke_reason,omitempty"`
}

// Active reports whether the grant is in force at time now.
func (g *Grant) Active(now time.Time) bool {
	if g.RevokedAt != nil {
		return false
	}
	return g.ExpiresAt == nil || now.Before(*g.ExpiresAt)
}

// Account is observed state: what a connector read from a target system.
type Account struct {
	ID          string    `json:"id"`
	SystemID    string    `json:"system_id"`
	ExternalID  string    `json:"external_id"` // DN, SCIM id, …
	Username    string    `json:"username"`
	IdentityID  string    `json:"identity_id,omitempty"` // "" for an orphan
	Enabled     bool      `json:"enabled"`
	Memberships []string  `json:"memberships"` // entitlement external ids held
	ObservedAt  time.Time `json:"observed_at"`
}
