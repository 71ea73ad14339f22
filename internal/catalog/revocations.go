package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// An apply that takes access away from people must be confirmed: a catalog directory applied
// by mistake (or with --prune, to the wrong server) would otherwise revoke thousands of grants
// in a fraction of a second. The plan says what it revokes and carries a confirmation; the
// apply carries it out only when given that confirmation, and refuses when what it would
// revoke is no longer what the plan showed.

// Revocations are the grants applying a plan revokes: those of the entitlements it removes
// (apply with prune) and the birthright grants its rules no longer give.
type Revocations struct {
	Grants int `json:"grants"` // every grant revoked
	People int `json:"people"` // the identities losing at least one grant
	// Pruned are grants of removed entitlements (revoked only by an apply with prune);
	// Birthright are birthright grants that the changed roles no longer give.
	Pruned     int `json:"pruned"`
	Birthright int `json:"birthright"`
	// Confirmation names exactly these revocations, and the objects removed with them, over
	// this stored catalog: an apply revokes them only when given it (confirm_revocations). A
	// grant given or revoked, or the stored catalog changed, in between makes another
	// confirmation, and the apply is refused.
	Confirmation string `json:"confirmation"`
}

// Revoked is one grant an apply revokes, and whose it is.
type Revoked struct {
	GrantID    string
	IdentityID string
	Birthright bool // lost to a changed rule; otherwise revoked with its removed entitlement
}

// NewRevocations counts the grants that applying plan revokes and seals them with their
// confirmation. It returns nil when nothing is revoked: such an apply needs no confirmation.
func NewRevocations(plan *Plan, grants []Revoked) *Revocations {
	if len(grants) == 0 {
		return nil
	}
	r := &Revocations{Grants: len(grants)}
	people := map[string]bool{}
	ids := make([]string, 0, len(grants))
	for _, g := range grants {
		people[g.IdentityID] = true
		if g.Birthright {
			r.Birthright++
			ids = append(ids, "b:"+g.GrantID)
		} else {
			r.Pruned++
			ids = append(ids, "p:"+g.GrantID)
		}
	}
	r.People = len(people)
	// What is confirmed: these grants, the objects removed with them, from this stored
	// catalog. Not the document's digest: the same catalog sent under other file names
	// revokes the same grants.
	for _, c := range plan.Changes {
		if c.Op == OpRemove {
			ids = append(ids, "r:"+c.Kind+":"+c.ID)
		}
	}
	slices.Sort(ids)
	h := sha256.New()
	fmt.Fprintf(h, "gatehouse catalog revocations v1\n%s\n%s\n", plan.Base, strings.Join(ids, "\n"))
	r.Confirmation = "rv1-" + hex.EncodeToString(h.Sum(nil))[:32]
	return r
}

// ConfirmationOf returns r's confirmation; "" for nil (nothing revoked).
func (r *Revocations) ConfirmationOf() string {
	if r == nil {
		return ""
	}
	return r.Confirmation
}

// String says what is revoked, for people: "1,776 grants of 212 people (1,700 of removed
// entitlements, 76 birthright grants the rules no longer give)".
func (r *Revocations) String() string {
	if r == nil {
		return "no grants"
	}
	var parts []string
	if r.Pruned > 0 {
		parts = append(parts, fmt.Sprintf("%s of removed entitlements", counted(r.Pruned, "grant", "grants")))
	}
	if r.Birthright > 0 {
		parts = append(parts, fmt.Sprintf("%s the rules no longer give", counted(r.Birthright, "birthright grant", "birthright grants")))
	}
	return fmt.Sprintf("%s of %s (%s)", counted(r.Grants, "grant", "grants"), counted(r.People, "person", "people"),
		strings.Join(parts, ", "))
}

func counted(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// UnconfirmedError refuses an apply that would revoke grants without their confirmation, or
// with the confirmation of another plan. It is a conflict (HTTP 409) carrying the revocations,
// so that a client can show them and ask.
type UnconfirmedError struct {
	Revocations *Revocations
	Given       string // the confirmation given; "" for none
}

func (e *UnconfirmedError) Error() string { return e.err().Error() }

// Unwrap makes the error a gatehouse ECONFLICT with the message of Error.
func (e *UnconfirmedError) Unwrap() error { return e.err() }

func (e *UnconfirmedError) err() *gatehouse.Error {
	if e.Given == "" {
		return gatehouse.Errorf(gatehouse.ECONFLICT,
			"this apply revokes %s; nothing was applied. Confirm with confirm_revocations %q from its plan (on the command line: --yes)",
			e.Revocations, e.Revocations.Confirmation)
	}
	return gatehouse.Errorf(gatehouse.ECONFLICT,
		"confirm_revocations %q is not what this apply revokes now: %s (confirmation %q); the catalog or the grants changed since the plan. Nothing was applied; plan again",
		e.Given, e.Revocations, e.Revocations.Confirmation)
}

// CheckConfirmation returns nil when r needs no confirmation or given confirms it, and an
// *UnconfirmedError otherwise.
func CheckConfirmation(r *Revocations, given string) error {
	given = strings.TrimSpace(given)
	if r == nil || given == r.Confirmation {
		return nil
	}
	return &UnconfirmedError{Revocations: r, Given: given}
}

// PrunedGrants lists the active grants of the entitlements plan removes: what an apply with
// prune revokes with them.
func PrunedGrants(ctx context.Context, r store.Reader, plan *Plan) ([]Revoked, error) {
	var out []Revoked
	for _, c := range plan.Changes {
		if c.Op != OpRemove || c.Kind != KindEntitlement || c.ActiveGrants == 0 {
			continue
		}
		grants, err := activeGrantsOf(ctx, r, c.ID)
		if err != nil {
			return nil, err
		}
		for _, g := range grants {
			out = append(out, Revoked{GrantID: g.ID, IdentityID: g.IdentityID})
		}
	}
	return out, nil
}

// activeGrantsOf lists the active grants of one entitlement.
func activeGrantsOf(ctx context.Context, r store.Reader, entitlementID string) ([]*gatehouse.Grant, error) {
	var grants []*gatehouse.Grant
	f := gatehouse.GrantFilter{EntitlementID: entitlementID, Status: "active", Limit: gatehouse.MaxLimit}
	for {
		page, err := r.ListGrants(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("catalog: grants of %s: %w", entitlementID, err)
		}
		grants = append(grants, page.Items...)
		if page.NextCursor == "" {
			return grants, nil
		}
		f.Cursor = page.NextCursor
	}
}
