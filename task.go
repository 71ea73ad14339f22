package gatehouse

import (
	"time"
)

// TaskStatus is where a manual fulfillment task stands.
type TaskStatus string

const (
	// TaskOpen: somebody has to make the change in the system by hand.
	TaskOpen TaskStatus = "open"
	// TaskDone: an operator confirmed the change was made; it is now the system's observed state.
	TaskDone TaskStatus = "done"
	// TaskCancelled: the change is no longer wanted (the grant was revoked before anybody did
	// it), or an operator withdrew the task.
	TaskCancelled TaskStatus = "cancelled"
)

// Valid reports whether s is a known task status.
func (s TaskStatus) Valid() bool { return s == TaskOpen || s == TaskDone || s == TaskCancelled }

// ManualTask is a provisioning operation in a system without an API (connector type manual),
// handed to a person. What operators confirm done is the system's observed state: the manual
// connector's inventory is built from done tasks, so a done task counts as applied.
type ManualTask struct {
	ID       string `json:"id"`
	Number   int64  `json:"number"` // shown as TASK-000123 (Ref)
	SystemID string `json:"system_id"`
	Kind     string `json:"kind"` // the operation: create_account | enable | disable | add_member | remove_member
	// IdentityID is the identity whose account it is ("" when the account matches nobody).
	IdentityID string `json:"identity_id,omitempty"`
	// Account is the account's id in the manual system (the person's email, lower case) and
	// Username the name to give it.
	Account    string `json:"account"`
	Username   string `json:"username,omitempty"`
	EmployeeID string `json:"employee_id,omitempty"` // the person the account is for, as HR knows them
	// Group is the entitlement's external id (add_member / remove_member) and EntitlementID
	// the catalog entitlement it belongs to.
	Group          string     `json:"group,omitempty"`
	EntitlementID  string     `json:"entitlement_id,omitempty"`
	Cause          string     `json:"cause,omitempty"`
	Instructions   string     `json:"instructions,omitempty"` // the system's, when the task was made
	Assignee       string     `json:"assignee,omitempty"`     // an email, from the connector settings
	CreatedAt      time.Time  `json:"created_at"`
	DueAt          time.Time  `json:"due_at"`
	Status         TaskStatus `json:"status"`
	CompletedBy    string     `json:"completed_by,omitempty"` // the actor who completed or cancelled it
	CompletedAt    *time.Time `json:"completed_at,omitempty"`
	Note           string     `json:"note,omitempty"`
	EvidenceSHA256 string     `json:"evidence_sha256,omitempty"`
}

// Ref is the task's human name, TASK-000123.
func (t *ManualTask) Ref() string { return TaskRef(t.Number) }

// TaskRef formats a task number as TASK-000123.
func TaskRef(n int64) string { return formatRef("TASK", n) }

// ParseTaskRef parses TASK-000123 (case-insensitive) into its number.
func ParseTaskRef(s string) (int64, bool) { return parseRef("TASK", s) }

// Overdue reports whether an open task is past its due time at now.
func (t *ManualTask) Overdue(now time.Time) bool { return t.Status == TaskOpen && now.After(t.DueAt) }

// TaskDue is how long a system's tier gives a person to do a manual task: the tier says how
// much an access change there matters (a leaver's access to a critical system cannot wait three
// days).
func TaskDue(t Tier) time.Duration {
	switch t {
	case TierCritical:
		return 4 * time.Hour
	case TierHigh:
		return 24 * time.Hour
	}
	return 72 * time.Hour
}
