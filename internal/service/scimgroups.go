package service

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/store"
)

// SCIM groups are what an IdP pushes over SCIM so that its groups can be reviewed in Gatehouse.
// Only a SCIM client (a token with the scim scope) writes them, and only the source that created
// a group may change or delete it. SCIM clients read every group (as they read every user, to
// match by displayName); people read them with the reader roles.

// requireSCIMOrReadAll admits a SCIM client or a reader (auditor, operator, admin).
func requireSCIMOrReadAll(p *gatehouse.Principal) error {
	if err := authenticated(p); err != nil {
		return err
	}
	if p.HasScope(gatehouse.ScopeSCIM) || p.CanReadAll() {
		return nil
	}
	return gatehouse.Errorf(gatehouse.EFORBIDDEN, "this needs the auditor, operator or admin role, or a token with the scim scope")
}

// scimGroupAudit is how a group appears in audit events: small groups whole, big ones without
// their member list, which a replace records as a difference instead (an "everyone" group of
// 10,000 members would otherwise write 700 KB of evidence for each one-person change).
type scimGroupAudit struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"display_name"`
	ExternalID  string   `json:"external_id,omitempty"`
	Source      string   `json:"source"`
	Version     int64    `json:"version"`
	MemberCount int      `json:"member_count"`
	Members     []string `json:"members,omitempty"`
}

// auditMembersMax is the largest member list an audit event records whole.
const auditMembersMax = 100

func auditGroup(g *gatehouse.SCIMGroup, withMembers bool) scimGroupAudit {
	a := scimGroupAudit{ID: g.ID, DisplayName: g.DisplayName, ExternalID: g.ExternalID, Source: g.Source,
		Version: g.Version, MemberCount: len(g.Members)}
	if withMembers {
		a.Members = slices.Clone(nonNilStrings(g.Members))
	}
	return a
}

// scimGroupChange is the after side of a replace event: the group without its members, and the
// members added and removed.
type scimGroupChange struct {
	scimGroupAudit
	MembersAdded   []string `json:"members_added,omitempty"`
	MembersRemoved []string `json:"members_removed,omitempty"`
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// cleanSCIMGroup checks what a SCIM client sent and returns a copy with members de-duplicated
// and sorted.
func cleanSCIMGroup(g *gatehouse.SCIMGroup) (*gatehouse.SCIMGroup, error) {
	if g == nil || strings.TrimSpace(g.DisplayName) == "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "display_name: required")
	}
	out := *g
	out.Members = slices.Clone(nonNilStrings(g.Members))
	slices.Sort(out.Members)
	out.Members = slices.Compact(out.Members)
	for _, m := range out.Members {
		if m == "" {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "members: an empty identity id")
		}
	}
	return &out, nil
}

// CreateSCIMGroup stores a group a SCIM client pushed, owned by the client's source. Members
// are identity ids; an unknown one is refused by name.
func (s *InboundSCIM) CreateSCIMGroup(ctx context.Context, p *gatehouse.Principal, g *gatehouse.SCIMGroup) (*gatehouse.SCIMGroup, error) {
	if err := requireSCIM(p); err != nil {
		return nil, err
	}
	out, err := cleanSCIMGroup(g)
	if err != nil {
		return nil, err
	}
	out.ID, out.Source = "", SCIMSource(p)
	err = s.store.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateSCIMGroup(ctx, out); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, s.event(p, gatehouse.AuditSCIMGroupCreate, "scim_group", out.ID, nil,
			auditGroup(out, len(out.Members) <= auditMembersMax), ""))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetSCIMGroup returns one group with its members, to a SCIM client or a reader.
func (s *InboundSCIM) GetSCIMGroup(ctx context.Context, p *gatehouse.Principal, id string) (*gatehouse.SCIMGroup, error) {
	if err := requireSCIMOrReadAll(p); err != nil {
		return nil, err
	}
	g, err := s.store.GetSCIMGroup(ctx, id)
	if err != nil {
		return nil, err
	}
	s.nameGroupSources(ctx, []*gatehouse.SCIMGroup{g})
	return g, nil
}

// nameGroupSources fills SourceName (the service account's current email) for people reading
// groups, resolving each distinct source once.
func (s *InboundSCIM) nameGroupSources(ctx context.Context, gs []*gatehouse.SCIMGroup) {
	names := map[string]string{}
	for _, g := range gs {
		name, ok := names[g.Source]
		if !ok {
			name = sourceLabel(ctx, s.store, g.Source)
			names[g.Source] = name
		}
		g.SourceName = name
	}
}

// ListSCIMGroups lists groups by display name, to a SCIM client or a reader. f.MemberID may be
// an identity's id, email or employee_id.
func (s *InboundSCIM) ListSCIMGroups(ctx context.Context, p *gatehouse.Principal, f gatehouse.SCIMGroupFilter) (gatehouse.Page[*gatehouse.SCIMGroup], error) {
	if err := requireSCIMOrReadAll(p); err != nil {
		return gatehouse.Page[*gatehouse.SCIMGroup]{}, err
	}
	if ok, err := s.resolveMember(ctx, &f); !ok {
		return gatehouse.Page[*gatehouse.SCIMGroup]{Items: []*gatehouse.SCIMGroup{}}, err
	}
	page, err := s.store.ListSCIMGroups(ctx, f)
	if err != nil {
		return page, err
	}
	s.nameGroupSources(ctx, page.Items)
	return page, nil
}

// CountSCIMGroups counts the groups f selects, for a SCIM client (totalResults) or a reader.
func (s *InboundSCIM) CountSCIMGroups(ctx context.Context, p *gatehouse.Principal, f gatehouse.SCIMGroupFilter) (int, error) {
	if err := requireSCIMOrReadAll(p); err != nil {
		return 0, err
	}
	if ok, err := s.resolveMember(ctx, &f); !ok {
		return 0, err
	}
	return s.store.CountSCIMGroups(ctx, f)
}

// resolveMember turns f.MemberID, an identity's id, email or employee_id, into its id. A key
// that names nobody selects no group (ok false, no error): "the groups of x" is then empty,
// for a SCIM client's filter as for a person's search.
func (s *InboundSCIM) resolveMember(ctx context.Context, f *gatehouse.SCIMGroupFilter) (ok bool, err error) {
	if f.MemberID == "" {
		return true, nil
	}
	i, err := s.store.GetIdentity(ctx, f.MemberID)
	switch {
	case gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND:
		return false, nil
	case err != nil:
		return false, err
	case i.Attributes[AttrSCIMDeleted] == "true":
		return false, nil // a deleted user is in no group (the store never lists them)
	}
	f.MemberID = i.ID
	return true, nil
}

// ReplaceSCIMGroup replaces the display name, external id and members of group g.ID. g.Version
// is the version the client read (its If-Match), 0 for an unconditional replace; a group
// changed since is an ECONFLICT. Only the group's own source may replace it.
func (s *InboundSCIM) ReplaceSCIMGroup(ctx context.Context, p *gatehouse.Principal, g *gatehouse.SCIMGroup) (*gatehouse.SCIMGroup, error) {
	if err := requireSCIM(p); err != nil {
		return nil, err
	}
	out, err := cleanSCIMGroup(g)
	if err != nil {
		return nil, err
	}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		before, err := tx.GetSCIMGroup(ctx, out.ID)
		if err != nil {
			return err
		}
		if err := ownSCIMGroup(ctx, tx, p, before); err != nil {
			return err
		}
		if out.Version == 0 {
			out.Version = before.Version
		} else if out.Version != before.Version {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "scim group %q is at version %d, not %d: it changed since it was read",
				out.ID, before.Version, out.Version)
		}
		if before.DisplayName == out.DisplayName && before.ExternalID == out.ExternalID && slices.Equal(before.Members, out.Members) {
			// Nothing changes (a PATCH removing a member who is not one, a PUT of the group
			// as read): no new version, so the client's ETag stays valid, and no event.
			out = before
			return nil
		}
		if err := tx.UpdateSCIMGroup(ctx, out); err != nil {
			return err
		}
		added, removed := memberDiff(before.Members, out.Members)
		after := scimGroupChange{scimGroupAudit: auditGroup(out, false), MembersAdded: added, MembersRemoved: removed}
		return tx.AppendAudit(ctx, s.event(p, gatehouse.AuditSCIMGroupReplace, "scim_group", out.ID, auditGroup(before, false), after, ""))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteSCIMGroup deletes a group and its memberships; only its own source may.
func (s *InboundSCIM) DeleteSCIMGroup(ctx context.Context, p *gatehouse.Principal, id string) error {
	if err := requireSCIM(p); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx store.Tx) error {
		before, err := tx.GetSCIMGroup(ctx, id)
		if err != nil {
			return err
		}
		if err := ownSCIMGroup(ctx, tx, p, before); err != nil {
			return err
		}
		if err := tx.DeleteSCIMGroup(ctx, id); err != nil {
			return err
		}
		// The before side keeps who was a member, for the review trail, unless the group is big.
		return tx.AppendAudit(ctx, s.event(p, gatehouse.AuditSCIMGroupDelete, "scim_group", id,
			auditGroup(before, len(before.Members) <= auditMembersMax), nil, ""))
	})
}

// scimLeaveGroups ends the SCIM group memberships of user id, whom the client p just deleted,
// in the deletion's transaction: each group loses the member and moves to a new version (its
// ETag changes), and each change is audited with the deletion's reference. Groups of every
// source are changed, since the user no longer exists for any of them.
func (s *InboundSCIM) scimLeaveGroups(ctx context.Context, tx store.Tx, p *gatehouse.Principal, id, ref string) error {
	var groups []*gatehouse.SCIMGroup
	f := gatehouse.SCIMGroupFilter{MemberID: id, Limit: gatehouse.MaxLimit}
	for {
		page, err := tx.ListSCIMGroups(ctx, f)
		if err != nil {
			return fmt.Errorf("groups of deleted user %s: %w", id, err)
		}
		groups = append(groups, page.Items...)
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	for _, g := range groups {
		// The store no longer lists the deleted user among g.Members (they are deleted in this
		// transaction already): writing the list back removes their member row.
		g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == id })
		before := auditGroup(g, false)
		before.MemberCount++
		if err := tx.UpdateSCIMGroup(ctx, g); err != nil {
			return fmt.Errorf("remove deleted user %s from scim group %s: %w", id, g.ID, err)
		}
		after := scimGroupChange{scimGroupAudit: auditGroup(g, false), MembersRemoved: []string{id}}
		ev := s.event(p, gatehouse.AuditSCIMGroupReplace, "scim_group", g.ID, before, after, "member removed: user "+id+" was deleted")
		ev.Reference = ref
		if err := tx.AppendAudit(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

// scimDeletionsLeaveGroups ends the group memberships of the people an approved held SCIM
// change deleted (a DELETE the leaver guard held), as the DELETE would have.
func (s *InboundSCIM) scimDeletionsLeaveGroups(ctx context.Context, tx store.Tx, p *gatehouse.Principal, plan *jml.Plan, ref string) error {
	for _, it := range plan.Items {
		if it.Identity != nil && it.IdentityID != "" && it.Identity.Attributes[AttrSCIMDeleted] == "true" {
			if err := s.scimLeaveGroups(ctx, tx, p, it.IdentityID, ref); err != nil {
				return err
			}
		}
	}
	return nil
}

// ownSCIMGroup refuses a change to a group another source created: two IdPs pushing the same
// directory must not undo each other's groups.
func ownSCIMGroup(ctx context.Context, r store.Reader, p *gatehouse.Principal, g *gatehouse.SCIMGroup) error {
	if g.Source != SCIMSource(p) {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "scim group %q belongs to source %q, not %q", g.ID,
			sourceLabel(ctx, r, g.Source), sourceLabel(ctx, r, SCIMSource(p)))
	}
	return nil
}

// memberDiff returns the members of after not in before, and of before not in after; both
// lists sorted.
func memberDiff(before, after []string) (added, removed []string) {
	in := make(map[string]bool, len(before))
	for _, m := range before {
		in[m] = true
	}
	for _, m := range after {
		if !in[m] {
			added = append(added, m)
		}
		delete(in, m)
	}
	for _, m := range before {
		if in[m] {
			removed = append(removed, m)
		}
	}
	return added, removed
}
