package gatehouse

import (
	"encoding/json"
	"time"
)

// AuditEvent records one change of state: who, what, when, why, before and after. Events form a
// hash chain: Hash = SHA-256(canonical encoding of the event, including PrevHash). See package
// internal/audit for the encoding and the verifier.
type AuditEvent struct {
	Seq        int64           `json:"seq"`
	Time       time.Time       `json:"time"`
	Actor      string          `json:"actor"`  // an identity's email, "bootstrap", or "system:<component>"
	Action     AuditAction     `json:"action"` // one of the Audit… constants; stored and sent as its string
	ObjectType string          `json:"object_type"`
	ObjectID   string          `json:"object_id"`
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
	Reason     string          `json:"reason,omitempty"`
	Reference  string          `json:"reference,omitempty"` // ticket, HR import, catalog apply id
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}
