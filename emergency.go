package gatehouse

import "time"

// DefaultEmergencyMaxDuration bounds break-glass grants of a catalog whose settings name no
// emergency_max_duration: long enough to fix an incident, short enough to be noticed.
const DefaultEmergencyMaxDuration = Duration(4 * time.Hour)

// EmergencyLimit is the longest break-glass grant the settings allow.
func (s Settings) EmergencyLimit() time.Duration {
	if s.EmergencyMaxDuration > 0 {
		return time.Duration(s.EmergencyMaxDuration)
	}
	return time.Duration(DefaultEmergencyMaxDuration)
}

// EmergencyReviewWindow is how long after a break-glass grant its post-event review is due.
const EmergencyReviewWindow = 24 * time.Hour

// EmergencyReview is the post-event review of one break-glass grant: who used the access, why,
// and what was done with it. A review is open until someone other than the granter completes
// it; open ones past DueAt are overdue. Reviews are never deleted: they are evidence.
type EmergencyReview struct {
	ID            string     `json:"id"`
	Number        int64      `json:"number"`
	Ref           string     `json:"ref"` // EMG-000123, also the grant's reference
	GrantID       string     `json:"grant_id"`
	BeneficiaryID string     `json:"beneficiary_id"`
	EntitlementID string     `json:"entitlement_id"`
	GrantedBy     string     `json:"granted_by"` // the operator's identity id
	Reason        string     `json:"reason"`
	GrantedAt     time.Time  `json:"granted_at"`
	ExpiresAt     time.Time  `json:"expires_at"`
	DueAt         time.Time  `json:"due_at"`
	Assignees     []string   `json:"assignees"` // security approvers' emails
	CompletedAt   *time.Time `json:"completed_at,omitempty"`
	CompletedBy   string     `json:"completed_by,omitempty"`
	Who           string     `json:"who,omitempty"`  // who used the access
	Why           string     `json:"why,omitempty"`  // why it was needed
	What          string     `json:"what,omitempty"` // what was done with it
}

// Open reports whether the review still waits for completion.
func (r *EmergencyReview) Open() bool { return r.CompletedAt == nil }

// Overdue reports whether the review is open past its due time at now.
func (r *EmergencyReview) Overdue(now time.Time) bool { return r.Open() && !now.Before(r.DueAt) }

// EmergencyRef formats an emergency grant number as its reference, EMG-000123.
func EmergencyRef(n int64) string { return formatRef("EMG", n) }

// ParseEmergencyRef parses EMG-000123 (case-insensitive) into its number.
func ParseEmergencyRef(s string) (int64, bool) { return parseRef("EMG", s) }
