package provision

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
)

// load reads what the planner of a full run needs: desired state from the store, observed
// state from the connector. It keeps only what the plan can use, because a full run holds a
// whole company at once (300,000 people and their grants held as the store returns them were
// half a gigabyte of live heap): grants of managed groups only, of revoked ones only the
// latest per person and group, and only the identities an account or a grant can lead to,
// each cut to the fields the plan reads. The plan is the same as with everything loaded.
func (r *Reconciler) load(ctx context.Context, sys *gatehouse.System, conn connector.Connector, o RunOptions) (*Input, error) {
	in, err := r.loadSystem(ctx, sys, conn, o)
	if err != nil {
		return nil, err
	}
	if in.Grants, err = r.loadGrants(ctx, in); err != nil {
		return nil, fmt.Errorf("load grants: %w", err)
	}
	if in.Links, err = all(ctx, func(c string) (gatehouse.Page[*gatehouse.Account], error) {
		return r.Store.ListAccounts(ctx, gatehouse.AccountFilter{SystemID: sys.ID, Limit: gatehouse.MaxLimit, Cursor: c})
	}); err != nil {
		return nil, fmt.Errorf("load accounts: %w", err)
	}
	if in.Inventory, err = conn.Inventory(ctx, managedGroups(in.Entitlements)); err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	// Identities come last: which ones the plan can use depends on the accounts found.
	if in.Identities, err = r.loadIdentities(ctx, in); err != nil {
		return nil, fmt.Errorf("load identities: %w", err)
	}
	shareIDs(in)
	return in, nil
}

// shareIDs points every grant at its holder's id string, so that a person's id is held once
// rather than once per grant as the store returned it.
func shareIDs(in *Input) {
	ids := make(map[string]string, len(in.Identities))
	for _, id := range in.Identities {
		ids[id.ID] = id.ID
	}
	for _, g := range in.Grants {
		if id, ok := ids[g.IdentityID]; ok {
			g.IdentityID = id
		}
	}
}

// loadGrants reads the system's grants a plan can use. A grant of an entitlement without an
// external id asks for nothing in the system. A revoked or expired grant only names the
// grant that caused a removal: the planner takes the one that ended last per person and
// group (the first read of equals), so it is the only one kept. Each is kept as a copy
// holding what the plan reads.
func (r *Reconciler) loadGrants(ctx context.Context, in *Input) ([]*gatehouse.Grant, error) {
	ents := map[string]*gatehouse.Entitlement{} // managed, by id, as the planner counts them
	for _, e := range in.Entitlements {
		if e.ExternalID != "" && e.System == in.System.ID {
			ents[e.ID] = e
		}
	}
	if len(ents) == 0 {
		return nil, nil
	}
	type held struct{ identity, group string }
	var kept []*gatehouse.Grant
	ended := map[held]int{} // the index in kept of the latest ended grant
	err := each(ctx, func(c string) (gatehouse.Page[*gatehouse.Grant], error) {
		return r.Store.ListGrants(ctx, gatehouse.GrantFilter{System: in.System.ID, Limit: gatehouse.MaxLimit, Cursor: c})
	}, func(g *gatehouse.Grant) {
		e := ents[g.EntitlementID]
		if e == nil {
			return
		}
		// The entitlement's id is shared rather than one copy per grant.
		slim := &gatehouse.Grant{ID: g.ID, IdentityID: g.IdentityID, EntitlementID: e.ID, GrantedAt: g.GrantedAt,
			ExpiresAt: g.ExpiresAt, RevokedAt: g.RevokedAt}
		if g.Active(in.Now) {
			kept = append(kept, slim)
			return
		}
		k := held{g.IdentityID, e.ExternalID}
		if i, ok := ended[k]; ok {
			if endOf(g).After(endOf(kept[i])) {
				kept[i] = slim
			}
			return
		}
		ended[k] = len(kept)
		kept = append(kept, slim)
	})
	return kept, err
}

// endOf is when a grant that is no longer active ended, as the planner dates its removal.
func endOf(g *gatehouse.Grant) time.Time {
	switch {
	case g.RevokedAt != nil:
		return *g.RevokedAt
	case g.ExpiresAt != nil:
		return *g.ExpiresAt
	}
	return g.GrantedAt
}

// loadIdentities reads the identities the plan of in can use (in.Grants, in.Links,
// in.Names and in.Inventory read): those holding a grant, stored as an account's owner, or
// given a name, and those an inventory account matches by employee id, email, or username as
// the email's local part. Everyone sharing such a key with somebody kept is kept too, so the
// planner sees the same ties (a local part two people share matches neither).
func (r *Reconciler) loadIdentities(ctx context.Context, in *Input) ([]*gatehouse.Identity, error) {
	byID := map[string]bool{}
	for _, g := range in.Grants {
		byID[g.IdentityID] = true
	}
	for _, l := range in.Links {
		if l.IdentityID != "" {
			byID[l.IdentityID] = true
		}
	}
	for _, n := range in.Names {
		byID[n.IdentityID] = true
	}
	employees, emails, users := map[string]bool{}, map[string]bool{}, map[string]bool{}
	if in.Inventory != nil {
		for _, a := range in.Inventory.Accounts {
			if a.EmployeeID != "" {
				employees[a.EmployeeID] = true
			}
			if a.Email != "" {
				emails[strings.ToLower(a.Email)] = true
			}
			if a.Username != "" {
				users[strings.ToLower(a.Username)] = true
			}
		}
	}
	var kept []*gatehouse.Identity
	err := each(ctx, func(c string) (gatehouse.Page[*gatehouse.Identity], error) {
		return r.Store.ListIdentities(ctx, gatehouse.IdentityFilter{Limit: gatehouse.MaxLimit, Cursor: c})
	}, func(id *gatehouse.Identity) {
		email := strings.ToLower(id.Email)
		local, _, at := strings.Cut(email, "@")
		if byID[id.ID] || (id.EmployeeID != "" && employees[id.EmployeeID]) || emails[email] || (at && users[local]) {
			kept = append(kept, &gatehouse.Identity{ID: id.ID, EmployeeID: id.EmployeeID, Email: id.Email,
				FirstName: id.FirstName, LastName: id.LastName, Status: id.Status, Kind: id.Kind, UpdatedAt: id.UpdatedAt})
		}
	})
	return kept, err
}

// all reads every page of a list.
func all[T any](ctx context.Context, list func(cursor string) (gatehouse.Page[T], error)) ([]T, error) {
	var out []T
	err := each(ctx, list, func(v T) { out = append(out, v) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// each reads every page of a list and hands each item to use, holding one page at a time.
func each[T any](ctx context.Context, list func(cursor string) (gatehouse.Page[T], error), use func(T)) error {
	cursor := ""
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		p, err := list(cursor)
		if err != nil {
			return err
		}
		for _, v := range p.Items {
			use(v)
		}
		if p.NextCursor == "" {
			return nil
		}
		cursor = p.NextCursor
	}
}
