package scim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/internal/scimproto"
)

// userName is the userName of a new account for spec (setting user_name).
func (c *Connector) userName(spec connector.AccountSpec) (string, error) {
	if spec.Username != "" {
		return spec.Username, nil
	}
	switch c.cfg.UserName {
	case UserNameEmployeeID:
		if spec.EmployeeID == "" {
			return "", connector.Permanentf("scim create account %s: user_name is employee_id and the person has none", spec.Email)
		}
		return spec.EmployeeID, nil
	case UserNameLocalPart:
		local, _, ok := strings.Cut(spec.Email, "@")
		if !ok || local == "" {
			return "", connector.Permanentf("scim create account: email %q has no local part to name the account", spec.Email)
		}
		return local, nil
	}
	if spec.Email == "" {
		return "", connector.Permanentf("scim create account: the person has no email to name the account")
	}
	return spec.Email, nil
}

// CreateAccount creates the user, or adopts the existing user with the same userName (enabled
// or disabled). One whose externalId is another employee id belongs to somebody else and is not
// adopted. With filtering the user is looked up first; without, the create's 409 (userName is
// unique, RFC 7643 section 4.1.1) leads to a full listing to find it.
func (c *Connector) CreateAccount(ctx context.Context, spec connector.AccountSpec) (connector.AccountRef, error) {
	name, err := c.userName(spec)
	if err != nil {
		return connector.AccountRef{}, err
	}
	if c.filter {
		if ref, found, err := c.adoptUser(ctx, name, spec); err != nil || found {
			return ref, err
		}
	}
	body := map[string]any{
		"schemas":  []string{schemaUser},
		"userName": name,
		"active":   true,
	}
	if spec.EmployeeID != "" {
		body["externalId"] = spec.EmployeeID
	}
	if spec.FirstName != "" || spec.LastName != "" {
		n := map[string]any{"formatted": strings.TrimSpace(spec.FirstName + " " + spec.LastName)}
		if spec.FirstName != "" {
			n["givenName"] = spec.FirstName
		}
		if spec.LastName != "" {
			n["familyName"] = spec.LastName
		}
		body["name"] = n
		body["displayName"] = n["formatted"]
	}
	if spec.Email != "" {
		body["emails"] = []map[string]any{{"value": spec.Email, "type": "work", "primary": true}}
	}
	r := request{method: http.MethodPost, path: c.usersPath, body: body}
	res, err := c.send(ctx, r)
	if err != nil {
		return connector.AccountRef{}, fmt.Errorf("scim create account %s: %w", name, err)
	}
	switch res.status {
	case http.StatusCreated, http.StatusOK:
		var u user
		if err := decode(r.step(), res, &u); err != nil {
			return connector.AccountRef{}, err
		}
		if u.ID == "" {
			return connector.AccountRef{}, fmt.Errorf("scim create account %s: the created user has no id", name)
		}
		return connector.AccountRef{ID: u.ID}, nil
	case http.StatusConflict:
		// Created concurrently, by a previous attempt whose answer was lost, or by hand.
		ref, found, err := c.adoptUser(ctx, name, spec)
		if err != nil || found {
			return ref, err
		}
		return connector.AccountRef{}, fmt.Errorf("scim create account %s: %w (and no user has that userName: another attribute is not unique)",
			name, c.statusError(r.step(), res))
	}
	return connector.AccountRef{}, fmt.Errorf("scim create account %s: %w", name, c.statusError(r.step(), res))
}

// adoptUser looks for the user named name.
func (c *Connector) adoptUser(ctx context.Context, name string, spec connector.AccountSpec) (connector.AccountRef, bool, error) {
	us, err := find(ctx, c, c.usersPath, "userName", name, "id,userName,externalId", userID,
		func(u *user) string { return u.UserName })
	if err != nil {
		return connector.AccountRef{}, false, fmt.Errorf("scim create account %s: look for an existing user: %w", name, err)
	}
	switch len(us) {
	case 0:
		return connector.AccountRef{}, false, nil
	case 1:
	default:
		return connector.AccountRef{}, false, connector.Permanentf("scim create account: %d users have userName %s", len(us), name)
	}
	u := us[0]
	if u.ExternalID != "" && spec.EmployeeID != "" && u.ExternalID != spec.EmployeeID {
		return connector.AccountRef{}, false, connector.Permanentf(
			"scim create account: user %s (%s) exists for another employee (externalId %s, want %s)", name, u.ID, u.ExternalID, spec.EmployeeID)
	}
	return connector.AccountRef{ID: u.ID}, true, nil
}

func (c *Connector) userPath(ref connector.AccountRef) (string, error) {
	if ref.ID == "" {
		return "", connector.Permanent(fmt.Errorf("scim account without id: %w", connector.ErrNotFound))
	}
	return c.usersPath + "/" + url.PathEscape(ref.ID), nil
}

// SetEnabled sets the user's active attribute (PATCH replace active, or PUT). With
// deprovision: delete, disabling deletes the user; enabling a deleted user is then a Permanent
// ErrNotFound, so the engine creates the account again.
func (c *Connector) SetEnabled(ctx context.Context, ref connector.AccountRef, enabled bool) error {
	path, err := c.userPath(ref)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		cur, err := c.get(ctx, path, nil)
		if err != nil {
			return fmt.Errorf("scim set enabled: %w", err)
		}
		var u user
		if err := cur.into(&u); err != nil {
			return connector.Permanentf("scim set enabled: read %s: %w", path, err)
		}
		switch {
		case !enabled && c.cfg.Deprovision == DeprovisionDelete:
			err = c.deleteUser(ctx, path, cur.version)
		case u.enabled() == enabled:
			return nil
		default:
			err = c.write(ctx, path, cur,
				[]scimproto.PatchOp{{Op: "replace", Path: "active", Value: enabled}},
				func(m map[string]any) { m["active"] = enabled })
		}
		if errors.Is(err, errStale) && attempt == 0 {
			continue
		}
		if err != nil {
			return fmt.Errorf("scim set enabled %v: %w", enabled, err)
		}
		return nil
	}
}

// deleteUser deletes the user at path, which SetEnabled has just read: a 404 now means it was
// deleted concurrently, which is what was wanted.
func (c *Connector) deleteUser(ctx context.Context, path, version string) error {
	r := request{method: http.MethodDelete, path: path, ifMatch: version}
	res, err := c.send(ctx, r)
	if err != nil {
		return fmt.Errorf("scim deprovision: %w", err)
	}
	switch res.status {
	case http.StatusNoContent, http.StatusOK, http.StatusNotFound:
		return nil // 404: deleted concurrently
	case http.StatusPreconditionFailed:
		if version != "" {
			return fmt.Errorf("scim %s: %w", r.step(), errStale)
		}
	}
	return fmt.Errorf("scim deprovision: %w", c.statusError(r.step(), res))
}

// groupByName finds the group whose displayName is name: the remembered id, else a lookup.
func (c *Connector) groupByName(ctx context.Context, name string) (string, bool, error) {
	c.mu.Lock()
	id, ok := c.groupIDs[name]
	c.mu.Unlock()
	if ok {
		return id, true, nil
	}
	gs, err := find(ctx, c, c.groupsPath, "displayName", name, "id,displayName", groupID,
		func(g *group) string { return g.DisplayName })
	if err != nil {
		return "", false, fmt.Errorf("scim find group %s: %w", name, err)
	}
	if len(gs) > 1 {
		// displayName compares case-insensitively; an exact match settles it.
		exact := slices.DeleteFunc(slices.Clone(gs), func(g group) bool { return g.DisplayName != name })
		if len(exact) != 1 {
			return "", false, connector.Permanentf("scim find group: %d groups have displayName %s", len(gs), name)
		}
		gs = exact
	}
	if len(gs) == 0 {
		return "", false, nil
	}
	c.remember(name, gs[0].ID)
	return gs[0].ID, true, nil
}

func (c *Connector) remember(name, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id == "" {
		delete(c.groupIDs, name)
	} else {
		c.groupIDs[name] = id
	}
}

// AddMember adds the user to the group named group (its displayName), creating the group when
// it does not exist. The user is read first, so that an unknown account is ErrNotFound rather
// than a dangling member value.
func (c *Connector) AddMember(ctx context.Context, grp string, ref connector.AccountRef) error {
	if !c.groups {
		return connector.Permanentf("scim add member: the server has no groups")
	}
	path, err := c.userPath(ref)
	if err != nil {
		return err
	}
	if _, err := c.get(ctx, path, nil); err != nil {
		return fmt.Errorf("scim add member to %s: %w", grp, err)
	}
	for attempt := 0; attempt < 3; attempt++ {
		gid, ok, err := c.groupByName(ctx, grp)
		if err != nil {
			return err
		}
		if !ok {
			err = c.createGroup(ctx, grp, ref.ID)
			if errors.Is(err, errExists) {
				continue // created concurrently: add to it
			}
			return err
		}
		err = c.addMember(ctx, gid, ref.ID)
		if errors.Is(err, connector.ErrNotFound) || errors.Is(err, errStale) {
			c.remember(grp, "") // deleted (and maybe recreated) since we learnt its id
			continue
		}
		if err != nil {
			return fmt.Errorf("scim add member to %s: %w", grp, err)
		}
		return nil
	}
	return fmt.Errorf("scim add member to %s: the group keeps changing", grp)
}

var errExists = errors.New("scim: exists")

// createGroup creates the group with its first members. errExists: it exists now.
func (c *Connector) createGroup(ctx context.Context, name string, memberIDs ...string) error {
	ms := make([]member, len(memberIDs))
	for i, id := range memberIDs {
		ms[i] = member{Value: id}
	}
	r := request{method: http.MethodPost, path: c.groupsPath, body: map[string]any{
		"schemas":     []string{schemaGroup},
		"displayName": name,
		"members":     ms,
	}}
	res, err := c.send(ctx, r)
	if err != nil {
		return fmt.Errorf("scim create group %s: %w", name, err)
	}
	switch res.status {
	case http.StatusCreated, http.StatusOK:
		var g group
		if decode(r.step(), res, &g) == nil && g.ID != "" {
			c.remember(name, g.ID)
		}
		return nil
	case http.StatusConflict:
		return errExists
	}
	return fmt.Errorf("scim create group %s: %w", name, c.statusError(r.step(), res))
}

// addMember adds memberID to the group with id gid: PATCH add, or read-modify-write.
func (c *Connector) addMember(ctx context.Context, gid, memberID string) error {
	path := c.groupsPath + "/" + url.PathEscape(gid)
	if c.patch {
		r := request{method: http.MethodPatch, path: path, body: scimproto.PatchRequest{
			Schemas:    []string{schemaPatchOp},
			Operations: []scimproto.PatchOp{{Op: "add", Path: "members", Value: []member{{Value: memberID}}}},
		}}
		res, err := c.send(ctx, r)
		if err != nil {
			return err
		}
		switch {
		case res.status == http.StatusOK || res.status == http.StatusNoContent:
			return nil
		case res.status == http.StatusConflict || res.status == http.StatusBadRequest:
			// Some servers refuse to add a member twice: fine if that is why.
			if in, rerr := c.isMember(ctx, path, memberID); rerr == nil && in {
				return nil
			}
		}
		return c.statusError(r.step(), res)
	}
	return c.rewriteMembers(ctx, path, []string{memberID}, nil)
}

// isMember reads the group at path and reports whether memberID is a member.
func (c *Connector) isMember(ctx context.Context, path, memberID string) (bool, error) {
	cur, err := c.get(ctx, path, nil)
	if err != nil {
		return false, err
	}
	var g group
	if err := cur.into(&g); err != nil {
		return false, connector.Permanentf("scim read %s: %w", path, err)
	}
	return slices.ContainsFunc(g.Members, func(m member) bool { return m.Value == memberID }), nil
}

// RemoveMember removes the user from the group: PATCH remove members[value eq "id"], or
// read-modify-write. A non-member, or a group that does not exist, is fine.
func (c *Connector) RemoveMember(ctx context.Context, grp string, ref connector.AccountRef) error {
	if !c.groups {
		return connector.Permanentf("scim remove member: the server has no groups")
	}
	if ref.ID == "" {
		return nil // no id: it cannot be a member value
	}
	for attempt := 0; attempt < 3; attempt++ {
		gid, ok, err := c.groupByName(ctx, grp)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		err = c.removeMember(ctx, c.groupsPath+"/"+url.PathEscape(gid), ref.ID)
		if errors.Is(err, connector.ErrNotFound) || errors.Is(err, errStale) {
			c.remember(grp, "")
			continue
		}
		if err != nil {
			return fmt.Errorf("scim remove member from %s: %w", grp, err)
		}
		return nil
	}
	return fmt.Errorf("scim remove member from %s: the group keeps changing", grp)
}

func (c *Connector) removeMember(ctx context.Context, path, memberID string) error {
	if c.patch {
		r := request{method: http.MethodPatch, path: path, body: scimproto.PatchRequest{
			Schemas:    []string{schemaPatchOp},
			Operations: []scimproto.PatchOp{{Op: "remove", Path: "members[value eq " + quote(memberID) + "]"}},
		}}
		res, err := c.send(ctx, r)
		if err != nil {
			return err
		}
		switch {
		case res.status == http.StatusOK || res.status == http.StatusNoContent:
			return nil
		case res.status == http.StatusBadRequest || res.status == http.StatusConflict:
			// noTarget (RFC 7644 section 3.5.2.2): not a member. Other servers say it otherwise;
			// read the group to be sure.
			if in, rerr := c.isMember(ctx, path, memberID); rerr == nil && !in {
				return nil
			}
		}
		return c.statusError(r.step(), res)
	}
	return c.rewriteMembers(ctx, path, nil, []string{memberID})
}

// batchValues bounds the member values of one PATCH request: servers limit request sizes and
// operation counts (RFC 7644 section 3.12 tooMany), and 100 keeps a request well under both.
const batchValues = 100

// ChangeMembers adds or removes many members of the group named grp (connector.MemberBatcher):
// one PATCH per 100 members (an add of all their values, or one remove per member), or one
// read-modify-write when the server has no PATCH. A missing group is created with the members
// to add; removing from a missing group succeeds. A server that refuses the batch (400: an
// unknown member value, say) gets a permanent error back, and the engine retries each change
// alone so that only the bad one fails.
func (c *Connector) ChangeMembers(ctx context.Context, grp string, add, remove []connector.AccountRef) error {
	if !c.groups {
		return connector.Permanentf("scim change members: the server has no groups")
	}
	adds, removes := refIDs(add), refIDs(remove)
	if len(adds) == 0 && len(removes) == 0 {
		return nil
	}
	for attempt := 0; attempt < 3; attempt++ {
		gid, ok, err := c.groupByName(ctx, grp)
		if err != nil {
			return err
		}
		if !ok {
			if len(adds) == 0 {
				return nil
			}
			err = c.createGroup(ctx, grp, adds...)
			if errors.Is(err, errExists) {
				continue // created concurrently: change it
			}
			return err
		}
		err = c.changeMembers(ctx, c.groupsPath+"/"+url.PathEscape(gid), adds, removes)
		if errors.Is(err, connector.ErrNotFound) || errors.Is(err, errStale) {
			c.remember(grp, "") // deleted (and maybe recreated) since we learnt its id
			continue
		}
		if err != nil {
			return fmt.Errorf("scim change members of %s (%d to add, %d to remove): %w", grp, len(adds), len(removes), err)
		}
		return nil
	}
	return fmt.Errorf("scim change members of %s: the group keeps changing", grp)
}

func refIDs(refs []connector.AccountRef) []string {
	ids := make([]string, 0, len(refs))
	for _, r := range refs {
		if r.ID != "" {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// changeMembers applies adds and removes to the group at path.
func (c *Connector) changeMembers(ctx context.Context, path string, adds, removes []string) error {
	if !c.patch {
		return c.rewriteMembers(ctx, path, adds, removes)
	}
	for len(adds) > 0 || len(removes) > 0 {
		var ops []scimproto.PatchOp
		n := 0
		if len(adds) > 0 {
			k := min(len(adds), batchValues)
			ms := make([]member, k)
			for i, id := range adds[:k] {
				ms[i] = member{Value: id}
			}
			ops = append(ops, scimproto.PatchOp{Op: "add", Path: "members", Value: ms})
			adds, n = adds[k:], k
		}
		for len(removes) > 0 && n < batchValues {
			ops = append(ops, scimproto.PatchOp{Op: "remove", Path: "members[value eq " + quote(removes[0]) + "]"})
			removes, n = removes[1:], n+1
		}
		r := request{method: http.MethodPatch, path: path, body: scimproto.PatchRequest{Schemas: []string{schemaPatchOp}, Operations: ops}}
		res, err := c.send(ctx, r)
		if err != nil {
			return err
		}
		if res.status != http.StatusOK && res.status != http.StatusNoContent {
			return c.statusError(r.step(), res)
		}
	}
	return nil
}

// rewriteMembers is changeMembers for a server without PATCH: read the group, change its member
// list, write it back (If-Match when the server keeps versions; one retry on a stale version).
// A group that already is as asked is not written.
func (c *Connector) rewriteMembers(ctx context.Context, path string, adds, removes []string) error {
	drop := make(map[string]bool, len(removes))
	for _, id := range removes {
		drop[id] = true
	}
	for attempt := 0; ; attempt++ {
		cur, err := c.get(ctx, path, nil)
		if err != nil {
			return err
		}
		ms, _ := cur.raw["members"].([]any)
		have := map[string]bool{}
		kept := make([]any, 0, len(ms)+len(adds))
		changed := false
		for _, x := range ms {
			mm, _ := x.(map[string]any)
			v, _ := mm["value"].(string)
			if mm != nil && drop[v] {
				changed = true
				continue
			}
			have[v] = true
			kept = append(kept, x)
		}
		for _, id := range adds {
			if !have[id] {
				kept = append(kept, map[string]any{"value": id})
				have[id], changed = true, true
			}
		}
		if !changed {
			return nil // already as asked: no write
		}
		err = c.write(ctx, path, cur, nil, func(m map[string]any) { m["members"] = kept })
		if errors.Is(err, errStale) && attempt == 0 {
			continue
		}
		return err
	}
}
