package ldap

import (
	"context"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse/gatehouse/connector"
)

var _ connector.CreatePreparer = (*Connector)(nil)

// namesPerSearch bounds the account names one adopt search looks up ((|(uid=…)…) on the
// naming attribute, which directories index for equality).
const namesPerSearch = 200

// PrepareCreates looks for the accounts of the given creations in one search per
// namesPerSearch names and account base, instead of the two searches each CreateAccount makes
// (users_dn and disabled_dn) before it adds. It only notes the names nobody holds: the next
// CreateAccount of such a name adds at once. A name that is held is left to CreateAccount's own
// search, so adopting (a leaver's disabled account when they come back, an account another
// employee holds refused) works as without it. What it notes is replaced by the next call: a
// name is trusted free for one batch of creations, and should it be taken meanwhile, the add
// fails as taken and CreateAccount searches and adopts as it always did.
func (c *Connector) PrepareCreates(ctx context.Context, specs []connector.AccountSpec) error {
	free := make(map[string]bool, len(specs))
	var names []string
	for _, s := range specs {
		name, err := c.username(s)
		if err != nil {
			continue // CreateAccount refuses it itself
		}
		if k := strings.ToLower(name); !free[k] {
			free[k] = true
			names = append(names, name)
		}
	}
	c.mu.Lock()
	c.free = nil // an earlier batch's findings are old now
	c.mu.Unlock()
	for part := range chunks(names, namesPerSearch) {
		var f strings.Builder
		f.WriteString("(&" + c.d.userFilter + "(|")
		for _, n := range part {
			f.WriteString("(" + c.d.usernameAttr + "=" + goldap.EscapeFilter(n) + ")")
		}
		f.WriteString("))")
		es, err := c.findAccounts(ctx, f.String())
		if err != nil {
			return err
		}
		for _, e := range es {
			for _, v := range e.GetAttributeValues(c.d.usernameAttr) {
				delete(free, strings.ToLower(v))
			}
		}
	}
	c.mu.Lock()
	c.free = free
	c.mu.Unlock()
	return nil
}

// takeFree reports whether PrepareCreates found name free, and forgets it: a second attempt at
// the same name (after the add found it taken) searches.
func (c *Connector) takeFree(name string) bool {
	k := strings.ToLower(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.free[k] {
		return false
	}
	delete(c.free, k)
	return true
}
