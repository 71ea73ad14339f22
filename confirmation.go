package gatehouse

import "time"

// ConfirmationStatus is where a mover confirmation stands.
type ConfirmationStatus string

const (
	// ConfirmationOpen: the new manager has not decided yet; the access is kept meanwhile.
	ConfirmationOpen ConfirmationStatus = "open"
	// ConfirmationConfirmed: the new manager keeps the access.
	ConfirmationConfirmed ConfirmationStatus = "confirmed"
	// ConfirmationRevoked: the new manager did not confirm it; the grant was revoked.
	ConfirmationRevoked ConfirmationStatus = "revoked"
)

// Valid reports whether s is a known confirmation status.
func (s ConfirmationStatus) Valid() bool {
	return s == ConfirmationOpen || s == ConfirmationConfirmed || s == ConfirmationRevoked
}

// Confirmation asks a mover's new manager whether access that came from a request still fits
// the new job. A move keeps such grants (revoking them at once would break people's work on
// their first day in the new team) but nobody has vouched for them in the new context: the
// confirmation is that task, and its decision is evidence.
type Confirmation struct {
	ID            string             `json:"id"`
	IdentityID    string             `json:"identity_id"` // the mover
	GrantID       string             `json:"grant_id"`
	EntitlementID string             `json:"entitlement_id"`
	ManagerID     string             `json:"manager_id"` // identity id of the new manager, who decides
	HRImportID    string             `json:"hr_import_id,omitempty"`
	CreatedAt     time.Time          `json:"created_at"`
	Status        ConfirmationStatus `json:"status"`
	DecidedBy     string             `json:"decided_by,omitempty"` // the actor
	DecidedAt     *time.Time         `json:"decided_at,omitempty"`
	Comment       string             `json:"comment,omitempty"`
}
