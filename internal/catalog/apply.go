package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// PruneReason is the revoke reason of grants revoked because their entitlement left the
// catalog.
const PruneReason = "catalog prune: entitlement removed"

// ApplyOptions say who applies a plan, and how.
type ApplyOptions struct {
	Actor string // as in audit events: an email, "bootstrap", "system:<component>"
	// Prune allows removing entitlements that still have active grants, revoking the grants.
	Prune  bool
	Reason string // why (a ticket, a pull request); recorded on every audit event
	Now    time.Time
	// Revocations are the confirmed revocations of the apply (CheckConfirmation), recorded on
	// its catalog.apply event; nil when it revokes nothing.
	Revocations *Revocations
}

// Result is what Apply did.
type Result struct {
	Summary       Summary `json:"summary"`
	RevokedGrants int     `json:"revoked_grants"`
	NoChange      bool    `json:"no_change"`
	// Revoked are the grants revoked with their entitlements, for checking them against the
	// confirmed revocations.
	Revoked []Revoked `json:"-"`
}

// Apply carries out plan in tx: every change with one audit event (action
// "<kind>.create|update|delete", before and after, reference "catalog:<digest prefix>"), every
// grant revoked by a prune with a "grant.revoke" event, then one "catalog.apply" event with the
// summary and the confirmed revocations (opts.Revocations). An empty plan writes nothing.
//
// plan must come from MakePlan over the same transaction (tx is a store.Reader). Apply still
// checks that the stored catalog is the one the plan was made against and recounts the grants
// of removed entitlements, rather than trusting a plan that may have been computed earlier.
// If an entitlement to remove has active grants and opts.Prune is false, it returns an
// ECONFLICT error naming all of them and writes nothing.
func Apply(ctx context.Context, tx store.Tx, plan *Plan, opts ApplyOptions) (*Result, error) {
	if plan == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "catalog apply: no plan")
	}
	if opts.Actor == "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "catalog apply: actor is required")
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	res := &Result{Summary: plan.Summary()}
	if plan.Empty() {
		res.NoChange = true
		return res, nil
	}

	stored, err := tx.LoadCatalog(ctx)
	if err != nil {
		return nil, fmt.Errorf("catalog apply: %w", err)
	}
	if base, err := baseDigest(stored); err != nil {
		return nil, fmt.Errorf("catalog apply: %w", err)
	} else if base != plan.Base {
		return nil, gatehouse.Errorf(gatehouse.ECONFLICT, "the stored catalog changed since this plan was made; plan again")
	}

	var gone []string
	for _, c := range plan.Changes {
		if c.Op == OpRemove && c.Kind == KindEntitlement {
			gone = append(gone, c.ID)
		}
	}
	active := map[string]int{}
	if len(gone) > 0 {
		if active, err = tx.CountActiveGrants(ctx, gone); err != nil {
			return nil, fmt.Errorf("catalog apply: %w", err)
		}
	}
	if !opts.Prune {
		var blocked []string
		for _, id := range gone {
			if n := active[id]; n > 0 {
				blocked = append(blocked, fmt.Sprintf("entitlement %s has %d active grants", id, n))
			}
		}
		if len(blocked) > 0 {
			return nil, gatehouse.Errorf(gatehouse.ECONFLICT, "%s; re-run with --prune to revoke them", strings.Join(blocked, "; "))
		}
	}

	a := applier{tx: tx, opts: opts, ref: "catalog:" + prefix(plan.Digest, 12)}
	for _, c := range plan.Changes {
		if c.Op == OpRemove && c.Kind == KindEntitlement && active[c.ID] > 0 {
			revoked, err := a.revokeAll(ctx, c.ID)
			if err != nil {
				return nil, err
			}
			res.RevokedGrants += len(revoked)
			res.Revoked = append(res.Revoked, revoked...)
		}
		if err := a.change(ctx, c); err != nil {
			return nil, err
		}
	}
	// The summary's fields stay at the top of the event, as before confirmations existed.
	summary, err := json.Marshal(struct {
		Summary
		Revocations *Revocations `json:"revocations,omitempty"`
	}{res.Summary, opts.Revocations})
	if err != nil {
		return nil, fmt.Errorf("catalog apply: %w", err)
	}
	if err := tx.AppendAudit(ctx, &gatehouse.AuditEvent{
		Time: opts.Now, Actor: opts.Actor, Action: gatehouse.AuditCatalogApply, ObjectType: "catalog", ObjectID: plan.Digest,
		After: summary, Reason: opts.Reason, Reference: a.ref,
	}); err != nil {
		return nil, fmt.Errorf("catalog apply: audit: %w", err)
	}
	return res, nil
}

func prefix(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

type applier struct {
	tx   store.Tx
	opts ApplyOptions
	ref  string
}

// changeActions names the event of each change, by kind and operation.
var changeActions = map[string]map[string]gatehouse.AuditAction{
	KindSettings:    {OpChange: gatehouse.AuditSettingsUpdate},
	KindSystem:      {OpAdd: gatehouse.AuditSystemCreate, OpChange: gatehouse.AuditSystemUpdate, OpRemove: gatehouse.AuditSystemDelete},
	KindEntitlement: {OpAdd: gatehouse.AuditEntitlementCreate, OpChange: gatehouse.AuditEntitlementUpdate, OpRemove: gatehouse.AuditEntitlementDelete},
	KindRole:        {OpAdd: gatehouse.AuditRoleCreate, OpChange: gatehouse.AuditRoleUpdate, OpRemove: gatehouse.AuditRoleDelete},
	KindSoD:         {OpAdd: gatehouse.AuditSoDCreate, OpChange: gatehouse.AuditSoDUpdate, OpRemove: gatehouse.AuditSoDDelete},
}

// change writes one change and its audit event.
func (a *applier) change(ctx context.Context, c Change) error {
	var err error
	switch c.Op {
	case OpAdd, OpChange:
		switch v := c.After.(type) {
		case gatehouse.Settings:
			err = a.tx.PutSettings(ctx, v)
		case *gatehouse.System:
			err = a.tx.PutSystem(ctx, v)
		case *gatehouse.Entitlement:
			err = a.tx.PutEntitlement(ctx, v)
		case *gatehouse.Role:
			err = a.tx.PutRole(ctx, v)
		case *gatehouse.SoDRule:
			err = a.tx.PutSoDRule(ctx, v)
		default:
			// A plan decoded from JSON has maps here; it cannot be applied, only shown.
			return fmt.Errorf("catalog apply: %s %s: plan holds %T, not a catalog object; apply a plan from MakePlan", c.Kind, c.ID, c.After)
		}
	case OpRemove:
		switch c.Kind {
		case KindSystem:
			err = a.tx.DeleteSystem(ctx, c.ID)
		case KindEntitlement:
			err = a.tx.DeleteEntitlement(ctx, c.ID)
		case KindRole:
			err = a.tx.DeleteRole(ctx, c.ID)
		case KindSoD:
			err = a.tx.DeleteSoDRule(ctx, c.ID)
		default:
			return fmt.Errorf("catalog apply: cannot remove %s %s", c.Kind, c.ID)
		}
	default:
		return fmt.Errorf("catalog apply: unknown operation %q", c.Op)
	}
	if err != nil {
		return fmt.Errorf("catalog apply: %s %s %s: %w", c.Op, c.Kind, c.ID, err)
	}
	action, ok := changeActions[c.Kind][c.Op]
	if !ok {
		return fmt.Errorf("catalog apply: no audit action for %s %s", c.Op, c.Kind)
	}
	ev := &gatehouse.AuditEvent{
		Time: a.opts.Now, Actor: a.opts.Actor, Action: action,
		ObjectType: c.Kind, ObjectID: c.ID, Reason: a.opts.Reason, Reference: a.ref,
	}
	if ev.Before, err = jsonOrNil(c.Before); err != nil {
		return fmt.Errorf("catalog apply: %s %s: %w", c.Kind, c.ID, err)
	}
	if ev.After, err = jsonOrNil(c.After); err != nil {
		return fmt.Errorf("catalog apply: %s %s: %w", c.Kind, c.ID, err)
	}
	if err := a.tx.AppendAudit(ctx, ev); err != nil {
		return fmt.Errorf("catalog apply: audit %s %s: %w", c.Kind, c.ID, err)
	}
	return nil
}

func jsonOrNil(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}

// revokeAll revokes every active grant of an entitlement, each with an audit event, and
// returns them.
func (a *applier) revokeAll(ctx context.Context, entitlementID string) ([]Revoked, error) {
	// Collect first, then revoke: revoking while paging would change the set being paged.
	grants, err := activeGrantsOf(ctx, a.tx, entitlementID)
	if err != nil {
		return nil, fmt.Errorf("catalog apply: %w", err)
	}
	// In bulk: an entitlement held by everyone has as many grants as there are people.
	out := make([]Revoked, 0, len(grants))
	revs := make([]store.Revocation, len(grants))
	evs := make([]*gatehouse.AuditEvent, len(grants))
	reason := PruneReason
	if a.opts.Reason != "" {
		reason += ": " + a.opts.Reason
	}
	for i, g := range grants {
		before, err := json.Marshal(g)
		if err != nil {
			return nil, fmt.Errorf("catalog apply: grant %s: %w", g.ID, err)
		}
		revoked := *g
		at := a.opts.Now
		revoked.RevokedAt, revoked.RevokedBy, revoked.RevokeReason = &at, a.opts.Actor, PruneReason
		after, err := json.Marshal(&revoked)
		if err != nil {
			return nil, fmt.Errorf("catalog apply: grant %s: %w", g.ID, err)
		}
		revs[i] = store.Revocation{GrantID: g.ID, Reason: PruneReason}
		evs[i] = &gatehouse.AuditEvent{
			Time: a.opts.Now, Actor: a.opts.Actor, Action: gatehouse.AuditGrantRevoke, ObjectType: "grant", ObjectID: g.ID,
			Before: before, After: after, Reason: reason, Reference: a.ref,
		}
		out = append(out, Revoked{GrantID: g.ID, IdentityID: g.IdentityID})
	}
	if err := a.tx.RevokeGrants(ctx, revs, a.opts.Now, a.opts.Actor); err != nil {
		var re *store.RowError
		if errors.As(err, &re) {
			return nil, fmt.Errorf("catalog apply: revoke grant %s of %s: %w", grants[re.Index].ID, entitlementID, re.Err)
		}
		return nil, fmt.Errorf("catalog apply: revoke grants of %s: %w", entitlementID, err)
	}
	if err := a.tx.AppendAudits(ctx, evs); err != nil {
		return nil, fmt.Errorf("catalog apply: audit revokes of grants of %s: %w", entitlementID, err)
	}
	return out, nil
}
