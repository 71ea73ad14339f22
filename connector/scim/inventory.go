package scim

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/connector"
)

// groupsLookupMax is how many named groups Inventory reads one by one (a filter each); more than
// that and it lists every group, which is cheaper than many round trips.
const groupsLookupMax = 32

// Attributes asked for (attributes=, RFC 7644 section 3.4.2.5) to cut the payload; servers that
// ignore the parameter send whole resources, which decode the same.
const (
	userAttributes  = "id,userName,externalId,active,emails"
	groupAttributes = "id,displayName,members"
)

// Inventory lists every user (paged) and the groups asked for with their members, the two
// listings side by side. Member values that are not users of the listing (nested groups,
// users deleted since) are Foreign.
func (c *Connector) Inventory(ctx context.Context, groups []string) (*connector.Inventory, error) {
	inv := &connector.Inventory{Groups: map[string]*connector.Group{}}
	type groupsResult struct {
		gs  map[string]*group // by the external id asked for
		err error
	}
	done := make(chan groupsResult, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if c.groups {
		go func() {
			gs, err := c.readGroups(ctx, groups)
			done <- groupsResult{gs, err}
		}()
	} else {
		done <- groupsResult{}
	}
	err := list(ctx, c, c.usersPath, url.Values{"attributes": {userAttributes}}, userID, func(u *user) {
		inv.Accounts = append(inv.Accounts, c.account(u))
	})
	if err != nil {
		cancel()
		<-done
		return nil, fmt.Errorf("scim inventory: users: %w", err)
	}
	gr := <-done
	if gr.err != nil {
		return nil, fmt.Errorf("scim inventory: groups: %w", gr.err)
	}
	known := make(map[string]struct{}, len(inv.Accounts))
	for i := range inv.Accounts {
		known[inv.Accounts[i].Ref.ID] = struct{}{}
	}
	for id, g := range gr.gs {
		out := &connector.Group{ID: id}
		for _, m := range g.Members {
			if _, ok := known[m.Value]; ok && !strings.EqualFold(m.Type, "Group") {
				out.Members = append(out.Members, connector.AccountRef{ID: m.Value})
			} else {
				out.Foreign = append(out.Foreign, m.Value)
			}
		}
		inv.Groups[id] = out
	}
	return inv, nil
}

// readGroups reads the groups named (by displayName) with their members; nil reads them all.
func (c *Connector) readGroups(ctx context.Context, names []string) (map[string]*group, error) {
	out := map[string]*group{}
	if names != nil && len(names) <= groupsLookupMax && c.filter {
		for _, name := range names {
			gs, err := find(ctx, c, c.groupsPath, "displayName", name, groupAttributes, groupID,
				func(g *group) string { return g.DisplayName })
			if err != nil {
				return nil, err
			}
			if g := pick(gs, name); g != nil {
				out[name] = g
				c.remember(name, g.ID)
			}
		}
		return out, nil
	}
	var wanted map[string]string // lower-case displayName → name asked for
	if names != nil {
		wanted = make(map[string]string, len(names))
		for _, n := range names {
			wanted[strings.ToLower(n)] = n
		}
	}
	err := list(ctx, c, c.groupsPath, url.Values{"attributes": {groupAttributes}}, groupID, func(g *group) {
		c.remember(g.DisplayName, g.ID)
		name := g.DisplayName
		if wanted != nil {
			n, ok := wanted[strings.ToLower(name)]
			if !ok {
				return
			}
			name = n
		}
		if prev := out[name]; prev != nil && prev.DisplayName == name {
			return // two groups differ only in case: the exact one wins
		}
		gg := *g
		out[name] = &gg
	})
	return out, err
}

// pick chooses the group named name among case-insensitive matches: the exact one if any.
func pick(gs []group, name string) *group {
	for i := range gs {
		if gs[i].DisplayName == name {
			return &gs[i]
		}
	}
	if len(gs) > 0 {
		return &gs[0]
	}
	return nil
}
