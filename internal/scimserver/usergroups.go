package scimserver

import (
	"context"

	"github.com/gatehouse/gatehouse"
)

// A User's groups attribute (RFC 7643 section 4.1.2) is read-only: it shows the SCIM groups
// the user is a member of, each with its id, a $ref to the Group, its name and type "direct"
// (Gatehouse groups do not nest). Membership changes go through /Groups; groups sent on a
// POST or PUT are ignored, and a PATCH of them is 400 mutability (RFC 7644 section 3.5.2).
// The groups of a page of users are read in one query.

// userDocGroup is one value of groups.
type userDocGroup struct {
	Value   string `json:"value"`
	Ref     string `json:"$ref"`
	Display string `json:"display"`
	Type    string `json:"type"`
}

// userGroups maps identity ids to their groups; a nil map has not been loaded.
type userGroups map[string][]gatehouse.SCIMMembership

func (h *Handler) userGroups(ctx context.Context, p *gatehouse.Principal, ids ...string) (userGroups, error) {
	gs, err := h.svc.SCIMUserGroups(ctx, p, ids)
	return userGroups(gs), err
}

// docs renders the groups of identity id (nil when it has none).
func (g userGroups) docs(id, base string) []userDocGroup {
	ms := g[id]
	if len(ms) == 0 {
		return nil
	}
	out := make([]userDocGroup, len(ms))
	for i, m := range ms {
		out[i] = userDocGroup{Value: m.GroupID, Ref: base + "/Groups/" + m.GroupID, Display: m.DisplayName, Type: "direct"}
	}
	return out
}

// set adds the groups attribute to a rendered user (unassigned, so absent, when it has none).
func (g userGroups) set(res map[string]any, base string) map[string]any {
	id, _ := res["id"].(string)
	docs := g.docs(id, base)
	if len(docs) == 0 {
		return res
	}
	list := make([]any, len(docs))
	for i, d := range docs {
		list[i] = map[string]any{"value": d.Value, "$ref": d.Ref, "display": d.Display, "type": d.Type}
	}
	res["groups"] = list
	return res
}

// renderUser renders one user with its groups (one query).
func (h *Handler) renderUser(ctx context.Context, p *gatehouse.Principal, i *gatehouse.Identity, base string) (map[string]any, error) {
	gs, err := h.userGroups(ctx, p, i.ID)
	if err != nil {
		return nil, err
	}
	return gs.set(userResource(i, base, h.managers(ctx, p)), base), nil
}
