package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// CreateGrants records many grants in one transaction (operators): birthright grants computed
// for a whole population (the demo seed, and later an HR import), where one transaction per
// grant would cost a commit each. Every grant is checked exactly as CreateGrant checks one
// (known identity and entitlement, no leaver, no duplicate, max_duration, privileged access
// time-bound) and gets its own audit event. If any grant is refused, none is recorded, and the
// error names the refused grant by its index: "grants[12]: …".
func (s *Grants) CreateGrants(ctx context.Context, p *gatehouse.Principal, in []NewGrant) ([]*gatehouse.Grant, error) {
	if err := requireOperator(p); err != nil {
		return nil, err
	}
	reqs := make([]NewGrant, len(in))
	for i, g := range in {
		if g.Source == "" {
			g.Source = gatehouse.SourceDirect
		}
		if err := checkNewGrant(g); err != nil {
			return nil, indexed(i, err)
		}
		reqs[i] = g
	}
	out := make([]*gatehouse.Grant, 0, len(reqs))
	err := s.change(ctx, func(tx store.Tx, fx *effects) error {
		b := newGrantBatch(tx, s.now())
		for i, req := range reqs {
			g, err := b.add(ctx, p, req)
			if err != nil {
				return indexed(i, err)
			}
			if err := tx.CreateGrant(ctx, g); err != nil {
				return indexed(i, err)
			}
			b.held[g.IdentityID][g.EntitlementID] = g.ID
			fx.granted(g)
			ev := s.event(p, gatehouse.AuditGrantCreate, "grant", g.ID, nil, g, req.Reason)
			ev.Reference = req.Reference
			if err := tx.AppendAudit(ctx, ev); err != nil {
				return err
			}
			out = append(out, g)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// internalPrincipal reports whether p is one of Gatehouse's own components (SystemPrincipal)
// rather than someone who signed in: no token, no identity, not the bootstrap token.
func internalPrincipal(p *gatehouse.Principal) bool {
	return p != nil && !p.Bootstrap && p.TokenID == "" && p.IdentityID == "" && strings.HasPrefix(p.Email, "system:")
}

// checkNewGrant checks what a grant request must carry whatever the state: the rules of
// CreateGrant that need no database.
func checkNewGrant(in NewGrant) error {
	if !in.Source.Valid() {
		return gatehouse.Errorf(gatehouse.EINVALID, "source: %q is not one of direct, birthright, request, review, exception, emergency", in.Source)
	}
	if strings.TrimSpace(in.Reference) == "" {
		return gatehouse.Errorf(gatehouse.EINVALID, "reference: a direct grant needs a ticket or exception reference")
	}
	if strings.TrimSpace(in.Reason) == "" {
		return gatehouse.Errorf(gatehouse.EINVALID, "reason: a direct grant needs a reason")
	}
	return nil
}

// grantBatch caches what a batch of grants looks up again and again (the same few dozen
// entitlements, each identity's active grants), so a batch costs one query per identity and
// entitlement rather than several per grant.
type grantBatch struct {
	tx           store.Tx
	now          time.Time
	identities   map[string]*gatehouse.Identity    // by the key the caller gave
	entitlements map[string]*gatehouse.Entitlement // by id
	held         map[string]map[string]string      // identity id → entitlement id → active grant id
}

func newGrantBatch(tx store.Tx, now time.Time) *grantBatch {
	return &grantBatch{tx: tx, now: now, identities: map[string]*gatehouse.Identity{},
		entitlements: map[string]*gatehouse.Entitlement{}, held: map[string]map[string]string{}}
}

// add checks one grant request against the state (including the grants added before it in the
// batch) and returns the grant to record.
func (b *grantBatch) add(ctx context.Context, p *gatehouse.Principal, in NewGrant) (*gatehouse.Grant, error) {
	id, ok := b.identities[in.Identity]
	if !ok {
		var err error
		if id, err = b.tx.GetIdentity(ctx, in.Identity); err != nil {
			return nil, err
		}
		b.identities[in.Identity] = id
	}
	if id.Status == gatehouse.StatusTerminated {
		return nil, gatehouse.Errorf(gatehouse.ECONFLICT, "%s is terminated; a leaver gets no access", id.Email)
	}
	ent, ok := b.entitlements[in.Entitlement]
	if !ok {
		var err error
		if ent, err = b.tx.GetEntitlement(ctx, in.Entitlement); err != nil {
			return nil, err
		}
		b.entitlements[in.Entitlement] = ent
	}
	held, ok := b.held[id.ID]
	if !ok {
		held = map[string]string{}
		f := gatehouse.GrantFilter{IdentityID: id.ID, Status: "active", Limit: gatehouse.MaxLimit}
		for {
			page, err := b.tx.ListGrants(ctx, f)
			if err != nil {
				return nil, err
			}
			for _, g := range page.Items {
				if g.Active(b.now) {
					held[g.EntitlementID] = g.ID
				}
			}
			if page.NextCursor == "" {
				break
			}
			f.Cursor = page.NextCursor
		}
		b.held[id.ID] = held
	}
	if gid, dup := held[ent.ID]; dup {
		return nil, gatehouse.Errorf(gatehouse.ECONFLICT, "%s already holds %s (grant %s)", id.Email, ent.ID, gid)
	}
	exp, err := grantExpiry(ent, time.Duration(in.Duration), b.now)
	if err != nil {
		return nil, err
	}
	g := &gatehouse.Grant{
		IdentityID: id.ID, EntitlementID: ent.ID, Source: in.Source, Reference: in.Reference,
		GrantedBy: p.Actor(), GrantedAt: b.now,
	}
	if !exp.IsZero() {
		g.ExpiresAt = &exp
	}
	return g, nil
}

// grantExpiry applies an entitlement's max_duration to a requested duration d (0: as long as
// allowed) and returns the expiry, the zero time for a permanent grant. It is CreateGrant's
// rule.
func grantExpiry(ent *gatehouse.Entitlement, d time.Duration, now time.Time) (time.Time, error) {
	maxD := time.Duration(ent.MaxDuration)
	if maxD > 0 && (d == 0 || d > maxD) {
		if d > maxD {
			return time.Time{}, gatehouse.Errorf(gatehouse.EINVALID, "duration: %s exceeds the max_duration %s of %s", d, maxD, ent.ID)
		}
		d = maxD
	}
	if ent.Risk == gatehouse.RiskPrivileged && d == 0 {
		return time.Time{}, gatehouse.Errorf(gatehouse.EINVALID, "duration: privileged access is always time-bound")
	}
	if d == 0 {
		return time.Time{}, nil
	}
	return now.Add(d), nil
}

// indexed prefixes an error's message with the index of the grant it is about.
func indexed(i int, err error) error { return indexedAs("grants", i, err) }

// indexedAs prefixes an error's message with the batch item it is about ("grants[3]: "),
// keeping its code.
func indexedAs(list string, i int, err error) error {
	var e *gatehouse.Error
	if errors.As(err, &e) {
		return &gatehouse.Error{Code: e.Code, Message: fmt.Sprintf("%s[%d]: %s", list, i, e.Message)}
	}
	return fmt.Errorf("%s[%d]: %w", list, i, err)
}
