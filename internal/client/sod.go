package client

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// SoDGrantRef is one grant that puts an entitlement on a side of a broken rule.
type SoDGrantRef struct {
	ID            string                `json:"id"`
	EntitlementID string                `json:"entitlement_id"`
	Source        gatehouse.GrantSource `json:"source"`
	Reference     string                `json:"reference,omitempty"`
	GrantedAt     time.Time             `json:"granted_at"`
	ExpiresAt     *time.Time            `json:"expires_at,omitempty"`
}

// SoDViolation is one person holding a conflicting pair today.
type SoDViolation struct {
	Rule        string        `json:"rule"`
	Severity    string        `json:"severity"`
	OnViolation string        `json:"on_violation"`
	IdentityID  string        `json:"identity_id"`
	Email       string        `json:"email"`
	Left        string        `json:"left"`
	Right       string        `json:"right"`
	LeftGrants  []SoDGrantRef `json:"left_grants"`
	RightGrants []SoDGrantRef `json:"right_grants"`
	Since       time.Time     `json:"since"`
}

// SoDViolations is the whole report (not paged) with its counts.
type SoDViolations struct {
	Items         []*SoDViolation `json:"items"`
	Count         int             `json:"count"`
	Identities    int             `json:"identities"`
	ByOnViolation map[string]int  `json:"by_on_violation"`
	RulesChecked  int             `json:"rules_checked"`
	GrantsChecked int             `json:"grants_checked"`
	At            time.Time       `json:"at"`
}

// SoDViolations calls GET /api/v1/sod/violations.
func (c *Client) SoDViolations(ctx context.Context, f service.SoDViolationFilter) (*SoDViolations, error) {
	return list[SoDViolations](ctx, c, "/api/v1/sod/violations", f)
}
