package gatehouse

import (
	"encoding/json"
	"time"
)

// HRImportStatus is where an HR import stands.
type HRImportStatus string

const (
	// ImportApplied: the snapshot was applied (at once, or after an admin approved it).
	ImportApplied HRImportStatus = "applied"
	// ImportHeld: the leaver guard stopped the import; nothing was applied, an admin decides.
	ImportHeld HRImportStatus = "held"
	// ImportRejected: an admin rejected a held import; nothing was applied.
	ImportRejected HRImportStatus = "rejected"
)

// Valid reports whether s is a known import status.
func (s HRImportStatus) Valid() bool {
	return s == ImportApplied || s == ImportHeld || s == ImportRejected
}

// HRImport records one HR feed import: the evidence of what HR sent (file name, SHA-256, row
// count), what it meant (Summary, the JML plan's counts), and for a held import the content
// itself, so that approving it later applies exactly the file that was held.
type HRImport struct {
	ID        string          `json:"id"`
	CreatedAt time.Time       `json:"created_at"`
	CreatedBy string          `json:"created_by"` // the actor
	FileName  string          `json:"file_name"`
	SHA256    string          `json:"sha256"` // of the bytes as received
	RowCount  int             `json:"row_count"`
	Status    HRImportStatus  `json:"status"`
	Reason    string          `json:"reason,omitempty"` // why held, or why rejected
	Summary   json.RawMessage `json:"summary,omitempty"`
	// Format is the content's format: "csv" or "json".
	Format string `json:"format"`
	// Delta: the file listed only changes (gatehouse hr import --delta): its rows were upserts
	// and the people it did not list were left alone. Otherwise it was a full snapshot.
	Delta bool `json:"delta"`
	// Content is the file as received; kept while the import is held (empty otherwise, and in
	// lists).
	Content   string     `json:"-"`
	DecidedBy string     `json:"decided_by,omitempty"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
}
