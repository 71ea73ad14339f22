package provision

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
)

// A targeted run reconciles the people a change touched, not everybody: an HR import that moves
// 200 of 20,000 people need not read 20,000 accounts from a SCIM app serving a few thousand a
// second. It reads those people's accounts (connector.Finder) and plans them alone; everybody
// else is left as it is, neither planned for nor reported, until the next full run (the
// schedule, a catalog apply, `gatehouse reconcile`), which still finds all drift.

// TargetedMark follows the cause of a targeted run, and the number of people: "hr_import
// (targeted: 12 people)".
const TargetedMark = " (targeted: "

// loadScoped reads what a targeted run needs: the identities in o.Identities, their grants and
// stored accounts in the system, and from the connector their accounts and the managed groups.
// The inventory is cut to these people: an account found that a full run would match to
// somebody else is dropped, and each group keeps only these people's accounts as members (and
// no foreign members), so that nobody else's state is planned for, reported as drift, or
// stored.
func (r *Reconciler) loadScoped(ctx context.Context, sys *gatehouse.System, conn connector.Connector, o RunOptions) (*Input, error) {
	in, err := r.loadSystem(ctx, sys, conn, o)
	if err != nil {
		return nil, err
	}
	scope := map[string]bool{}
	var people []connector.Person
	for _, iid := range o.Identities {
		if scope[iid] {
			continue
		}
		id, err := r.Store.GetIdentity(ctx, iid)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND || (err == nil && id.ID != iid) {
			continue // deleted since, or an email that is no id: nobody to plan
		}
		if err != nil {
			return nil, fmt.Errorf("load identity %s: %w", iid, err)
		}
		scope[iid] = true
		in.Identities = append(in.Identities, id)
		person := connector.Person{Spec: connector.AccountSpec{Email: id.Email, FirstName: id.FirstName, LastName: id.LastName,
			EmployeeID: id.EmployeeID}}
		grants, err := all(ctx, func(c string) (gatehouse.Page[*gatehouse.Grant], error) {
			return r.Store.ListGrants(ctx, gatehouse.GrantFilter{IdentityID: iid, System: sys.ID, Limit: gatehouse.MaxLimit, Cursor: c})
		})
		if err != nil {
			return nil, fmt.Errorf("load grants of %s: %w", iid, err)
		}
		in.Grants = append(in.Grants, grants...)
		links, err := all(ctx, func(c string) (gatehouse.Page[*gatehouse.Account], error) {
			return r.Store.ListAccounts(ctx, gatehouse.AccountFilter{SystemID: sys.ID, IdentityID: iid, Limit: gatehouse.MaxLimit, Cursor: c})
		})
		if err != nil {
			return nil, fmt.Errorf("load accounts of %s: %w", iid, err)
		}
		for _, l := range links {
			in.Links = append(in.Links, l)
			person.Known = append(person.Known, connector.AccountRef{ID: l.ExternalID})
		}
		people = append(people, person)
	}
	inv, err := conn.(connector.Finder).InventoryOf(ctx, people, managedGroups(in.Entitlements))
	if err != nil {
		return nil, fmt.Errorf("read inventory of %d people: %w", len(people), err)
	}
	if in.Inventory, err = r.cut(ctx, in, inv, scope); err != nil {
		return nil, err
	}
	return in, nil
}

// cut keeps the accounts of inv that a full run would match to an identity in scope, and only
// them as group members. An account is kept when it is stored as one of theirs; else when its
// employee id or email names one of them (the planner's order: an account whose employee id is
// somebody else's is theirs, whatever its email); else when its username is the local part of
// one of their emails. Anything else is left to a full run.
func (r *Reconciler) cut(ctx context.Context, in *Input, inv *connector.Inventory, scope map[string]bool) (*connector.Inventory, error) {
	linked := map[string]bool{}
	for _, l := range in.Links {
		linked[l.ExternalID] = true
	}
	employees, emails, locals := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, id := range in.Identities {
		if id.EmployeeID != "" {
			employees[id.EmployeeID] = true
		}
		email := strings.ToLower(id.Email)
		emails[email] = true
		if local, _, ok := strings.Cut(email, "@"); ok {
			locals[local] = true
		}
	}
	// owner is the identity a key (employee id or email) names, "" for none.
	owners := map[string]string{}
	owner := func(key string) (string, error) {
		if o, ok := owners[key]; ok {
			return o, nil
		}
		id, err := r.Store.GetIdentity(ctx, key)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			err, id = nil, &gatehouse.Identity{}
		}
		if err != nil {
			return "", fmt.Errorf("match account %s: %w", key, err)
		}
		owners[key] = id.ID
		return id.ID, nil
	}
	mine := func(a *connector.Account) (bool, error) {
		if linked[a.Ref.ID] {
			return true, nil
		}
		// Nothing of it names these people: not theirs, without asking the store (a
		// connector's Inventory fallback lists everybody).
		if !employees[a.EmployeeID] && !emails[strings.ToLower(a.Email)] && !(a.Username != "" && locals[strings.ToLower(a.Username)]) {
			return false, nil
		}
		for _, key := range []string{a.EmployeeID, a.Email} {
			if key == "" {
				continue
			}
			o, err := owner(key)
			if err != nil || o != "" {
				return err == nil && scope[o], err
			}
		}
		return locals[strings.ToLower(a.Username)], nil
	}
	out := &connector.Inventory{Groups: map[string]*connector.Group{}}
	kept := map[string]bool{}
	for _, a := range inv.Accounts {
		ok, err := mine(&a)
		if err != nil {
			return nil, err
		}
		if ok && !kept[a.Ref.ID] {
			kept[a.Ref.ID] = true
			out.Accounts = append(out.Accounts, a)
		}
	}
	for name, g := range inv.Groups {
		cg := &connector.Group{ID: g.ID}
		for _, m := range g.Members {
			if kept[m.ID] {
				cg.Members = append(cg.Members, m)
			}
		}
		out.Groups[name] = cg
	}
	return out, nil
}

// TargetIdentities is the identities of a targeted run as a job carries them: sorted without
// repeats, or nil (a full run) when there are more than MaxTargeted.
func TargetIdentities(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	if ids = sortedUnique(ids); len(ids) > MaxTargeted {
		return nil
	}
	return ids
}

// sortedUnique is ids sorted without repeats (job arguments and their uniqueness key).
func sortedUnique(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}
