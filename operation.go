package gatehouse

import "time"

// OperationStatus is where a provisioning operation is in its life.
type OperationStatus string

const (
	OpPending OperationStatus = "pending" // planned, not run yet
	OpRunning OperationStatus = "running" // sent to the target system
	OpApplied OperationStatus = "applied" // the target system confirmed it
	OpFailed  OperationStatus = "failed"  // the target system refused it, or the run was cut short
)

// Valid reports whether s is a known operation status.
func (s OperationStatus) Valid() bool {
	return s == OpPending || s == OpRunning || s == OpApplied || s == OpFailed
}

// Operation is the evidence of one idempotent change in a target system: what, to whom, why
// (Cause: grant:<id>, hr-import:<id>, catalog, drift, schedule), when the desired state changed
// (RequestedAt) and when it was applied (FinishedAt). Time-to-provision and time-to-deprovision
// are FinishedAt − RequestedAt. A failed operation is not retried as such: the next reconcile
// plans it again from the desired state, as a new row.
type Operation struct {
	ID          string          `json:"id"`
	ReconcileID string          `json:"reconcile_id"` // the reconcile run that planned it
	SystemID    string          `json:"system_id"`
	Kind        string          `json:"kind"` // create_account | enable | disable | add_member | remove_member
	IdentityID  string          `json:"identity_id,omitempty"`
	AccountRef  string          `json:"account_ref,omitempty"` // the account's immutable id in the system
	Username    string          `json:"username,omitempty"`
	Group       string          `json:"group,omitempty"` // the group's external id
	Cause       string          `json:"cause"`
	RequestedAt time.Time       `json:"requested_at"`
	CreatedAt   time.Time       `json:"created_at"` // when it was planned
	StartedAt   *time.Time      `json:"started_at,omitempty"`
	FinishedAt  *time.Time      `json:"finished_at,omitempty"`
	Status      OperationStatus `json:"status"`
	Attempts    int             `json:"attempts"` // the reconcile job's attempt that ran it
	Error       string          `json:"error,omitempty"`
	// Task is the manual task (TASK-000123) a pending operation waits for: a person does it,
	// and the operation is applied when the task is done.
	Task string `json:"task,omitempty"`
	// Detail explains the operation beyond its kind: for create_account, how the account's
	// name was chosen (the system's account_name rule: template, cuts, collisions).
	Detail string `json:"detail,omitempty"`
}

// ReconcileStatus is the outcome of a reconcile run.
type ReconcileStatus string

const (
	ReconcileRunning   ReconcileStatus = "running"
	ReconcileConverged ReconcileStatus = "converged" // every planned operation applied
	ReconcileFailed    ReconcileStatus = "failed"    // the inventory could not be read, or an operation failed
	// ReconcileInterrupted: the process stopped while the run was running (killed, crashed);
	// marked at the next start, when its job runs the system again.
	ReconcileInterrupted ReconcileStatus = "interrupted"
)

// Reconcile is one run of the reconciler over one system: its cause, counts, and the drift it
// found. The latest run per system is what `gatehouse drift` shows.
type Reconcile struct {
	ID         string          `json:"id"`
	SystemID   string          `json:"system_id"`
	Cause      string          `json:"cause"`
	JobID      int64           `json:"job_id,omitempty"`
	Attempt    int             `json:"attempt"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt *time.Time      `json:"finished_at,omitempty"`
	Status     ReconcileStatus `json:"status"`
	Planned    int             `json:"planned"`
	Applied    int             `json:"applied"`
	Failed     int             `json:"failed"`
	// Accounts and Groups are how many accounts and groups the run's inventory read from the
	// system: the system page's "last inventory".
	Accounts int            `json:"accounts"`
	Groups   int            `json:"groups"`
	Error    string         `json:"error,omitempty"`
	Findings []DriftFinding `json:"findings"`
}

// DriftFinding is a difference between a target system and the desired state that no
// desired-state change explains (a membership nobody granted, an account with no identity, a
// leaver's enabled account, a foreign group member). Action says whether the engine repairs it
// (enforce) or only reports it (report), per the system's drift policy.
type DriftFinding struct {
	Kind       string `json:"kind"`
	SystemID   string `json:"system_id"`
	IdentityID string `json:"identity_id,omitempty"`
	Account    string `json:"account,omitempty"`
	Username   string `json:"username,omitempty"`
	Group      string `json:"group,omitempty"`
	Member     string `json:"member,omitempty"`
	Action     string `json:"action"` // enforce | report
	Detail     string `json:"detail"`
}
