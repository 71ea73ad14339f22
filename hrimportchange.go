package gatehouse

// HRImportChange is one person's line of an applied HR import's evidence: what the import did
// to them, as it was applied. An import keeps one per person it changed (or skipped, or held
// for review), so that its record says who joined, moved and left, and what each gained and
// lost, without reading the audit log; the people are named as they were stored by the
// import, so the evidence reads without a lookup of employee ids.
type HRImportChange struct {
	ImportID string `json:"import_id"`
	// Seq is the position in the applied plan (removals first, then by employee_id), from 1.
	Seq        int    `json:"seq"`
	Class      string `json:"class"` // the JML class: joiner, mover, leaver, …
	EmployeeID string `json:"employee_id"`
	IdentityID string `json:"identity_id,omitempty"`
	Name       string `json:"name"` // first and last name
	Email      string `json:"email"`
	Reason     string `json:"reason,omitempty"`
	// LateDays, for a leaver terminated after their end date, is how many days after; Late
	// says so in words ("terminated 3 days after end date").
	LateDays int             `json:"late_days,omitempty"`
	Late     string          `json:"late,omitempty"`
	Changes  []HRFieldChange `json:"changes,omitempty"`
	Gained   []HRGrantChange `json:"gained,omitempty"`
	Lost     []HRGrantChange `json:"lost,omitempty"`
}

// HRFieldChange is one field of a person an import changed.
type HRFieldChange struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// HRGrantChange is a grant an import gave or revoked.
type HRGrantChange struct {
	EntitlementID string      `json:"entitlement_id"`
	Role          string      `json:"role,omitempty"` // the birthright role
	Source        GrantSource `json:"source"`
	GrantID       string      `json:"grant_id,omitempty"`
}
