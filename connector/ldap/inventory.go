package ldap

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse/gatehouse/connector"
)

// groupsBaseSearchMax is how many named groups Inventory reads one by one; more than that and
// it reads every group under groups_dn in one paged search, which is cheaper than many round
// trips even when some groups are not managed.
const groupsBaseSearchMax = 32

// Inventory reads all accounts under users_dn and disabled_dn, and the members of groups, with
// paged searches on a connection of its own (see scan.go). Member DNs are resolved against the
// accounts read, locally: the cost is one pass over the directory whatever the number of
// memberships.
func (c *Connector) Inventory(ctx context.Context, groups []string) (*connector.Inventory, error) {
	inv, err := c.inventory(ctx, groups)
	if err != nil {
		return nil, classify(err, "ldap inventory")
	}
	return inv, nil
}

func (c *Connector) inventory(ctx context.Context, groups []string) (*connector.Inventory, error) {
	s, err := c.newScanner(ctx)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	// Closing the connection is how a cancelled context stops a read in progress.
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	search := func(base string, scope int, filter string, attrs []string, fn func(*rawEntry) error) error {
		err := s.pagedSearch(ctx, base, scope, filter, attrs, c.cfg.PageSize, fn)
		if isCode(err, goldap.LDAPResultNoSuchObject) {
			return nil // a base or group that does not exist holds nothing
		}
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}

	var inv connector.Inventory
	idx := &dnIndex{exact: map[string]int{}}
	bases := c.accountBases()
	for bi, base := range bases {
		// With disabled_dn outside users_dn, which search found an entry says whether it is
		// enabled; otherwise each DN is checked.
		separate := len(bases) > 1
		err := search(base, goldap.ScopeWholeSubtree, c.d.userFilter, c.d.accountAttrs, func(e *rawEntry) error {
			dn := string(e.DN)
			enabled := bi == 0
			switch {
			case c.d.disableInPlace:
				uac, err := strconv.ParseInt(e.first("userAccountControl"), 10, 64)
				enabled = err == nil && uac&uacAccountDisable == 0
			case !separate:
				if parsed, err := goldap.ParseDN(dn); err == nil {
					enabled = !c.isDisabled(parsed)
				}
			}
			var id []byte
			if v := e.values(c.d.idAttr); len(v) > 0 {
				id = v[0]
			}
			idx.exact[dn] = len(inv.Accounts)
			inv.Accounts = append(inv.Accounts, connector.Account{
				Ref:        connector.AccountRef{ID: c.d.formatID(id), Locator: dn},
				Username:   e.first(c.d.usernameAttr),
				Email:      e.first("mail"),
				EmployeeID: e.first(c.d.employeeAttr),
				Enabled:    enabled,
			})
			return nil
		})
		if err != nil {
			return nil, classify(err, "accounts under %s", base)
		}
	}

	inv.Groups = map[string]*connector.Group{}
	// AD hands out at most MaxValRange (1,500) values of a large attribute, as
	// member;range=0-1499; the rest is read after the scan, range by range.
	var ranged []rangedGroup
	group := func(id string, e *rawEntry) {
		g := &connector.Group{ID: id}
		var vals [][]byte
		for _, a := range e.Attrs {
			switch {
			case asciiEqualFold(a.Type, "member"):
				vals = append(vals, a.Vals...)
			case len(a.Type) > len("member;range=") && asciiEqualFold(a.Type[:len("member;range=")], "member;range="):
				vals = append(vals, a.Vals...)
				if !strings.HasSuffix(string(a.Type), "-*") {
					ranged = append(ranged, rangedGroup{id: id, dn: string(e.DN)})
				}
			}
		}
		for _, m := range vals {
			if i, ok := idx.lookup(m, inv.Accounts); ok {
				g.Members = append(g.Members, inv.Accounts[i].Ref)
				continue
			}
			v := string(m)
			if normDN(v) == c.placeholder {
				continue
			}
			g.Foreign = append(g.Foreign, v)
		}
		inv.Groups[id] = g
	}
	isGroup := func(e *rawEntry) bool {
		for _, oc := range e.values("objectClass") {
			if asciiEqualFold(oc, c.d.groupClass) {
				return true
			}
		}
		return false
	}
	readOne := func(id string) error {
		err := search(id, goldap.ScopeBaseObject, c.d.groupFilter, []string{"member"}, func(e *rawEntry) error {
			group(id, e)
			return nil
		})
		if isCode(err, goldap.LDAPResultInvalidDNSyntax) {
			return nil // not a DN: no such group
		}
		return classify(err, "group %s", id)
	}
	if groups != nil && len(groups) <= groupsBaseSearchMax {
		for _, id := range groups {
			if err := readOne(id); err != nil {
				return nil, err
			}
		}
		return &inv, c.readRanges(ctx, &inv, idx, ranged)
	}
	var wanted map[string]string // normalized DN → id asked for
	if groups != nil {
		wanted = make(map[string]string, len(groups))
		for _, id := range groups {
			wanted[normDN(id)] = id
		}
	}
	found := map[string]bool{}
	err = search(c.cfg.GroupsDN, goldap.ScopeWholeSubtree, c.d.groupFilter, []string{"objectClass", "member"}, func(e *rawEntry) error {
		if !isGroup(e) {
			return nil
		}
		dn := string(e.DN)
		if wanted == nil {
			group(dn, e)
			return nil
		}
		if id, ok := wanted[normDN(dn)]; ok {
			group(id, e)
			found[id] = true
		}
		return nil
	})
	if err != nil {
		return nil, classify(err, "groups under %s", c.cfg.GroupsDN)
	}
	for _, id := range groups {
		if !found[id] {
			// Outside groups_dn, or missing: read it on its own.
			if err := readOne(id); err != nil {
				return nil, err
			}
		}
	}
	return &inv, c.readRanges(ctx, &inv, idx, ranged)
}

type rangedGroup struct{ id, dn string }

// readRanges reads the rest of the member values of groups AD returned only in part, asking
// for member;range=N-* until the server answers with a range ending in *.
func (c *Connector) readRanges(ctx context.Context, inv *connector.Inventory, idx *dnIndex, groups []rangedGroup) error {
	for _, rg := range groups {
		g := inv.Groups[rg.id]
		start := len(g.Members) + len(g.Foreign)
		for {
			attr := fmt.Sprintf("member;range=%d-*", start)
			e, err := c.entry(ctx, rg.dn, attr)
			if err != nil {
				return classify(err, "ldap inventory: members of %s", rg.dn)
			}
			if e == nil {
				break
			}
			done := true
			n := 0
			for _, a := range e.Attributes {
				if !strings.HasPrefix(strings.ToLower(a.Name), "member;range=") {
					continue
				}
				done = strings.HasSuffix(a.Name, "-*")
				for _, m := range a.Values {
					n++
					if i, ok := idx.lookup([]byte(m), inv.Accounts); ok {
						g.Members = append(g.Members, inv.Accounts[i].Ref)
					} else if normDN(m) != c.placeholder {
						g.Foreign = append(g.Foreign, m)
					}
				}
			}
			if done || n == 0 {
				break
			}
			start += n
		}
	}
	return nil
}

// dnIndex finds accounts by DN. Member values almost always repeat the entry DN byte for byte
// (we wrote them), so the exact map answers without parsing or allocating; the normalized map,
// built on the first miss, catches values written differently by hand (spacing, case).
type dnIndex struct {
	exact map[string]int
	norm  map[string]int
}

func (x *dnIndex) lookup(dn []byte, accounts []connector.Account) (int, bool) {
	if i, ok := x.exact[string(dn)]; ok {
		return i, true
	}
	if x.norm == nil {
		x.norm = make(map[string]int, len(accounts))
		for i := range accounts {
			x.norm[normDN(accounts[i].Ref.Locator)] = i
		}
	}
	i, ok := x.norm[normDN(strings.Clone(string(dn)))]
	return i, ok
}
