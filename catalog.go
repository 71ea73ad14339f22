package gatehouse

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Tier says how critical a system is; deprovisioning works critical systems first.
type Tier string

const (
	TierCritical Tier = "critical"
	TierHigh     Tier = "high"
	TierStandard Tier = "standard"
)

// Risk is an entitlement's risk level. Privileged access always needs security approval and an
// expiry.
type Risk string

const (
	RiskStandard   Risk = "standard"
	RiskSensitive  Risk = "sensitive"
	RiskPrivileged Risk = "privileged"
)

// EntitlementKind is what an entitlement is in its system.
type EntitlementKind string

const (
	KindGroup         EntitlementKind = "group"
	KindRole          EntitlementKind = "role"
	KindLicense       EntitlementKind = "license"
	KindPermissionSet EntitlementKind = "permission-set"
)

// SlugPattern is the syntax of system ids, entitlement slugs, role ids and SoD rule ids.
var SlugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Duration is a time.Duration that reads and writes as Go duration text ("720h", "0s") in JSON
// and YAML, which is what people write in a catalog.
type Duration time.Duration

func (d Duration) String() string { return time.Duration(d).String() }

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"8h\": %w", err)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// maxDays bounds day durations well below where time.Duration overflows (about 106,751 days).
const maxDays = 36500

// ParseDuration parses Go duration text, and also whole days ("30d"), which catalogs use often.
func ParseDuration(s string) (Duration, error) {
	if n := len(s); n > 1 && s[n-1] == 'd' {
		var days int
		if _, err := fmt.Sscanf(s[:n-1], "%d", &days); err == nil && fmt.Sprint(days) == s[:n-1] {
			switch {
			case days < 0:
				return 0, fmt.Errorf("%q is negative", s)
			case days > maxDays:
				// Worded as the catalog's other range errors (docs/catalog.md, "Errors").
				return 0, fmt.Errorf("%q is out of range (at most %dd)", s, maxDays)
			}
			return Duration(time.Duration(days) * 24 * time.Hour), nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (examples: 0s, 8h, 720h, 30d)", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return Duration(v), nil
}

// Settings are catalog-wide settings.
type Settings struct {
	SecurityApprovers []string    `json:"security_approvers"`
	LeaverGuard       LeaverGuard `json:"leaver_guard"`
	// EmergencyOperators may grant emergency entitlements at once (break-glass); they also
	// need the operator role. EmergencyMaxDuration bounds every such grant (0: the default,
	// see EmergencyLimit).
	EmergencyOperators   []string `json:"emergency_operators,omitempty"`
	EmergencyMaxDuration Duration `json:"emergency_max_duration,omitempty"`
	// Exceptions are the exceptions register's defaults (exception.go).
	Exceptions ExceptionSettings `json:"exceptions,omitzero"`
	// SecurityApproverIDs and EmergencyOperatorIDs pin each email above (same index) to the
	// identity it named when the catalog was applied: a power belongs to a person, and renaming
	// someone, or giving their old address to someone else, does not move it. "" pins no one.
	// Never written in a catalog file; catalog apply fills them in.
	SecurityApproverIDs  []string `json:"security_approver_ids,omitempty"`
	EmergencyOperatorIDs []string `json:"emergency_operator_ids,omitempty"`
}

// IsSecurityApprover reports whether the identity is a pinned security approver.
func (s Settings) IsSecurityApprover(identityID string) bool {
	return identityID != "" && slices.Contains(s.SecurityApproverIDs, identityID)
}

// IsEmergencyOperator reports whether the identity is a pinned emergency operator.
func (s Settings) IsEmergencyOperator(identityID string) bool {
	return identityID != "" && slices.Contains(s.EmergencyOperatorIDs, identityID)
}

// LeaverGuard holds an HR import that would terminate or suspend more than
// max(MinCount, MaxFraction × active identities).
type LeaverGuard struct {
	MaxFraction float64 `json:"max_fraction"`
	MinCount    int     `json:"min_count"`
}

// DefaultSettings are the settings of a catalog that names none.
func DefaultSettings() Settings {
	return Settings{SecurityApprovers: []string{}, LeaverGuard: LeaverGuard{MaxFraction: 0.05, MinCount: 20}}
}

// System is a target application or directory.
type System struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Owner     string    `json:"owner"` // an identity's email
	Tier      Tier      `json:"tier"`
	Connector Connector `json:"connector"`
	// AccountName is the declared rule naming the accounts Gatehouse creates (nil: the
	// defaults, see Naming).
	AccountName *AccountNaming `json:"account_name,omitempty"`
	// OwnerID is the identity Owner named when the catalog was applied (see Settings).
	OwnerID string `json:"owner_id,omitempty"`
}

// Connector is a system's connector configuration: its type (ldap, scim, manual) and the
// type-specific settings, exactly as written in the catalog. Secrets appear only by reference
// (keys ending in _env or _file).
type Connector struct {
	Type     string         `json:"type"`
	Settings map[string]any `json:"settings,omitempty"`
}

// Entitlement is something grantable in a system. Its ID is "<system>/<slug>".
type Entitlement struct {
	ID          string          `json:"id"`
	System      string          `json:"system"`
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	ExternalID  string          `json:"external_id,omitempty"`
	Kind        EntitlementKind `json:"kind"`
	Risk        Risk            `json:"risk"`
	Owner       string          `json:"owner"` // defaults to the system owner
	Requestable bool            `json:"requestable"`
	MaxDuration Duration        `json:"max_duration"` // 0: may be permanent
	Approval    []string        `json:"approval"`     // manager | owner | security | an email
	// Emergency: pre-approved for break-glass grants (service/emergency.go).
	Emergency bool `json:"emergency,omitempty"`
	// OwnerID is the identity Owner named when the catalog was applied; ApproverIDs pins each
	// email step of Approval (by the email, lowercased) the same way (see Settings).
	OwnerID     string            `json:"owner_id,omitempty"`
	ApproverIDs map[string]string `json:"approver_ids,omitempty"`
}

// ApproverID returns the identity an email step of the approval chain is pinned to ("" if none).
func (e *Entitlement) ApproverID(email string) string {
	return e.ApproverIDs[strings.ToLower(email)]
}

// Role is a named bundle of entitlements. A birthright role has a CEL rule over `identity` that
// assigns it automatically.
type Role struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Description  string   `json:"description,omitempty"`
	Entitlements []string `json:"entitlements"`
	Birthright   string   `json:"birthright,omitempty"`
}

// SoDRule names two sets of entitlements that one person must not hold together.
type SoDRule struct {
	ID          string   `json:"id"`
	Description string   `json:"description,omitempty"`
	Left        []string `json:"left"`
	Right       []string `json:"right"`
	Severity    string   `json:"severity"`     // low | medium | high | critical
	OnViolation string   `json:"on_violation"` // block | exception | record
}

// Catalog is the whole desired catalog: what a catalog YAML describes and what the store holds.
type Catalog struct {
	Settings     Settings       `json:"settings"`
	Systems      []*System      `json:"systems"`
	Entitlements []*Entitlement `json:"entitlements"`
	Roles        []*Role        `json:"roles"`
	SoD          []*SoDRule     `json:"sod"`
}
