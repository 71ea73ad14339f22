package provision

import (
	"context"
	"slices"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// saveLinks stores the observed accounts as they are after the applied operations, so the
// accounts list and the next run's matching know whose account is whose. Only changed rows are
// written.
func (r *Reconciler) saveLinks(ctx context.Context, in *Input, plan Plan, rows []*gatehouse.Operation) error {
	type state struct {
		identity, username string
		enabled            bool
		groups             []string
	}
	accts := map[string]*state{}
	for _, l := range plan.Links {
		accts[l.Account.Ref.ID] = &state{l.IdentityID, l.Account.Username, l.Account.Enabled, slices.Clone(l.Groups)}
	}
	for i, row := range rows {
		if row.Status != gatehouse.OpApplied || row.AccountRef == "" {
			continue
		}
		st := accts[row.AccountRef]
		if st == nil {
			st = &state{identity: row.IdentityID, username: row.Username}
			accts[row.AccountRef] = st
		}
		switch plan.Ops[i].Kind {
		case OpCreateAccount:
			// CreateAccount adopts an existing account as it is; a new one is enabled.
			st.enabled = true
		case OpEnable:
			st.enabled = true
		case OpDisable:
			st.enabled = false
			if in.Capabilities.DisableRemovesMemberships {
				st.groups = nil
			}
		case OpAddMember:
			if !slices.Contains(st.groups, row.Group) {
				st.groups = append(st.groups, row.Group)
			}
		case OpRemoveMember:
			st.groups = slices.DeleteFunc(st.groups, func(g string) bool { return g == row.Group })
		}
	}
	stored := map[string]*gatehouse.Account{}
	for _, a := range in.Links {
		stored[a.ExternalID] = a
	}
	var changed []*gatehouse.Account
	for _, ref := range sortedKeys(accts) {
		st := accts[ref]
		slices.Sort(st.groups)
		a := &gatehouse.Account{SystemID: in.System.ID, ExternalID: ref, Username: st.username, IdentityID: st.identity,
			Enabled: st.enabled, Memberships: st.groups, ObservedAt: r.now()}
		if old := stored[ref]; old != nil {
			a.ID = old.ID
			if old.Username == a.Username && old.IdentityID == a.IdentityID && old.Enabled == a.Enabled &&
				slices.Equal(old.Memberships, a.Memberships) {
				continue
			}
		}
		changed = append(changed, a)
	}
	if len(changed) == 0 {
		return nil
	}
	wctx := context.WithoutCancel(ctx)
	return r.Store.Update(wctx, func(tx store.Tx) error {
		for _, a := range changed {
			if err := tx.UpsertAccount(wctx, a); err != nil {
				return err
			}
		}
		ev := &gatehouse.AuditEvent{Time: r.now(), Actor: Actor, Action: gatehouse.AuditAccountObserve, ObjectType: "system",
			ObjectID: in.System.ID, After: mustJSON(map[string]any{"accounts": len(changed)})}
		return tx.AppendAudit(wctx, ev)
	})
}
