package ldap

import (
	"context"
	"fmt"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse/gatehouse/connector"
)

var _ connector.MemberBatcher = (*Connector)(nil)

// membersPerModify bounds the member values of one modify. A first load adds thousands of
// people to a group: one value a request costs a round trip (and a placeholder check) each,
// while one request for all of them could exceed what the server accepts in one request
// (OpenLDAP's default sockbuf_max_incoming_auth is 4 MiB; directories set their own limits).
// 1,000 DNs are ~50 KiB.
const membersPerModify = 1000

// idsPerSearch bounds the ids one search looks up ((|(entryUUID=…)…) on an indexed attribute).
const idsPerSearch = 500

// ChangeMembers adds and removes many members of group (connector.MemberBatcher): the accounts
// are found by id in a few searches instead of one read each, and each modify carries up to
// membersPerModify values. A modify the server refuses because some of its values are already
// there (or already gone) is applied value by value, as AddMember and RemoveMember do, so the
// batch stays idempotent; a missing group is created with the members to add.
func (c *Connector) ChangeMembers(ctx context.Context, group string, add, remove []connector.AccountRef) error {
	if len(remove) > 0 {
		dns, err := c.resolveMany(ctx, remove, true)
		if err != nil {
			return fmt.Errorf("ldap remove members from %s: %w", group, err)
		}
		for part := range chunks(dns, membersPerModify) {
			if err := c.removeValues(ctx, group, part); err != nil {
				return err
			}
		}
	}
	if len(add) == 0 {
		return nil
	}
	dns, err := c.resolveMany(ctx, add, false)
	if err != nil {
		return fmt.Errorf("ldap add members to %s: %w", group, err)
	}
	for len(dns) > 0 {
		n, err := c.addValues(ctx, group, dns[:min(membersPerModify, len(dns))], dns[:min(c.membersPerCreate(), len(dns))])
		if err != nil {
			return err
		}
		dns = dns[n:]
	}
	if c.d.placeholder {
		// The group may have been empty: drop the placeholder (usually it is not there: 16).
		del := goldap.NewModifyRequest(group, nil)
		del.Delete("member", []string{c.cfg.Placeholder})
		err := c.do(ctx, func(conn *goldap.Conn) error { return conn.Modify(del) })
		if err != nil && !isCode(err, goldap.LDAPResultNoSuchAttribute) {
			return classify(err, "ldap group %s: remove the empty-group placeholder", group)
		}
	}
	return nil
}

// addValues adds member values dns to group in one modify. When the group is missing, it
// creates it with members ifMissing (dns and the next ones) and reports how many it added:
// a group added with its members in one request is much cheaper for the server than one grown
// by modifies, each of which compares every new value with every value already there (a first
// load's 10,000-member group: 10 modifies of 1,000 cost ~1 s on slapd). When the server
// refuses because a value is there already, each is added alone.
func (c *Connector) addValues(ctx context.Context, group string, dns, ifMissing []string) (int, error) {
	mod := goldap.NewModifyRequest(group, nil)
	mod.Add("member", dns)
	err := c.do(ctx, func(conn *goldap.Conn) error { return conn.Modify(mod) })
	switch {
	case err == nil:
		return len(dns), nil
	case isCode(err, goldap.LDAPResultNoSuchObject):
		err = c.createGroup(ctx, group, ifMissing...)
		if err == nil {
			return len(ifMissing), nil
		}
		if !isCode(err, goldap.LDAPResultEntryAlreadyExists) {
			return 0, classify(err, "ldap create group %s", group)
		}
		// Created concurrently: add to it, one by one (some may be in it now).
	case isCode(err, goldap.LDAPResultAttributeOrValueExists, goldap.LDAPResultEntryAlreadyExists):
		// Some are members already (AD says entryAlreadyExists): the rest still need adding.
	default:
		return 0, classify(err, "ldap add %d members to %s", len(dns), group)
	}
	for _, dn := range dns {
		if err := c.addValue(ctx, group, dn); err != nil {
			return 0, err
		}
	}
	return len(dns), nil
}

// membersPerCreate bounds the members a group is created with: ~500 KB of DNs on OpenLDAP,
// well within its default 4 MiB request limit; on AD the modify's bound, as AD documents limits
// on the values one operation may change.
func (c *Connector) membersPerCreate() int {
	if c.d.disableInPlace {
		return membersPerModify
	}
	return 10 * membersPerModify
}

// addValue adds one member value; one that is there already is fine.
func (c *Connector) addValue(ctx context.Context, group, dn string) error {
	mod := goldap.NewModifyRequest(group, nil)
	mod.Add("member", []string{dn})
	err := c.do(ctx, func(conn *goldap.Conn) error { return conn.Modify(mod) })
	if err == nil || isCode(err, goldap.LDAPResultAttributeOrValueExists) ||
		(c.d.disableInPlace && isCode(err, goldap.LDAPResultEntryAlreadyExists)) {
		return nil
	}
	return classify(err, "ldap add %s to %s", dn, group)
}

// removeValues deletes member values dns from group in one modify. When the server refuses
// because a value is not there (or the group would be left empty), each is removed alone by
// removeValue, which knows those answers.
func (c *Connector) removeValues(ctx context.Context, group string, dns []string) error {
	mod := goldap.NewModifyRequest(group, nil)
	mod.Delete("member", dns)
	err := c.do(ctx, func(conn *goldap.Conn) error { return conn.Modify(mod) })
	switch {
	case err == nil, isCode(err, goldap.LDAPResultNoSuchObject):
		return nil
	case isCode(err, goldap.LDAPResultNoSuchAttribute, goldap.LDAPResultObjectClassViolation, goldap.LDAPResultUnwillingToPerform):
	default:
		return classify(err, "ldap remove %d members from %s", len(dns), group)
	}
	for _, dn := range dns {
		if err := c.removeValue(ctx, group, dn); err != nil {
			return fmt.Errorf("ldap remove member: %w", err)
		}
	}
	return nil
}

// resolveMany finds the current DNs of accounts, as resolve does for one: by id, in searches
// of up to idsPerSearch ids, and one by one (resolve) for those the searches did not find. An
// account that is not found fails the batch (the engine then runs its operations one by one,
// so that only that one fails) — unless removing, where its last known DN is used as
// RemoveMember does, and an account with none is left out: it cannot be a member.
func (c *Connector) resolveMany(ctx context.Context, refs []connector.AccountRef, removing bool) ([]string, error) {
	found := map[string]string{} // lower-cased id → DN
	var ids []string
	for _, r := range refs {
		if dn, ok := c.knownDN(r); ok {
			found[strings.ToLower(r.ID)] = dn
			continue
		}
		if r.ID != "" && c.d.idFilter(r.ID) != "" {
			ids = append(ids, r.ID)
		}
	}
	for part := range chunks(ids, idsPerSearch) {
		var f strings.Builder
		f.WriteString("(|")
		for _, id := range part {
			f.WriteString(c.d.idFilter(id))
		}
		f.WriteString(")")
		es, err := c.findAccounts(ctx, f.String())
		if err != nil {
			return nil, err
		}
		seen := map[string]int{}
		for _, e := range es {
			id := strings.ToLower(c.d.formatID(e.GetRawAttributeValue(c.d.idAttr)))
			if seen[id]++; seen[id] > 1 {
				delete(found, id) // ambiguous: resolve reports it
				continue
			}
			found[id] = e.DN
		}
	}
	dns := make([]string, 0, len(refs))
	for _, r := range refs {
		if dn, ok := found[strings.ToLower(r.ID)]; ok && r.ID != "" {
			dns = append(dns, dn)
			continue
		}
		dn, err := c.resolve(ctx, r)
		switch {
		case err == nil:
		case removing && connector.IsPermanent(err) && r.Locator != "":
			dn = r.Locator
		case removing && connector.IsPermanent(err):
			continue
		default:
			return nil, err
		}
		dns = append(dns, dn)
	}
	return dns, nil
}

// chunks yields s in parts of at most n.
func chunks[T any](s []T, n int) func(yield func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(s) > 0 {
			k := min(n, len(s))
			if !yield(s[:k]) {
				return
			}
			s = s[k:]
		}
	}
}

var _ connector.Concurrent = (*Connector)(nil)

// Concurrency is the concurrency setting (connector.Concurrent). The operations share the one
// connection: LDAP carries requests side by side on it, and slapd serves them on its threads.
func (c *Connector) Concurrency() int { return c.cfg.Concurrency }

// remember notes the DN of an account this connector created or adopted: a first load adds
// each new account to ~10 groups, and reading it back for each (resolve) would double the
// round trips. The connector lives for one reconcile; its only moves of an account go through
// SetEnabled, which forgets it. A rename by somebody else within the run goes unseen until the
// next inventory reports the membership as drift, as it would between resolve and modify.
func (c *Connector) remember(ref connector.AccountRef) {
	if ref.ID == "" || ref.Locator == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.known == nil {
		c.known = map[string]string{}
	}
	c.known[strings.ToLower(ref.ID)] = ref.Locator
}

// forget drops what remember noted about an account (it is being moved).
func (c *Connector) forget(ref connector.AccountRef) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.known, strings.ToLower(ref.ID))
}

// knownDN is the DN remember noted for ref, when ref names that account where it was noted.
func (c *Connector) knownDN(ref connector.AccountRef) (string, bool) {
	if ref.ID == "" {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	dn, ok := c.known[strings.ToLower(ref.ID)]
	if !ok || (ref.Locator != "" && ref.Locator != dn) {
		return "", false
	}
	return dn, true
}
