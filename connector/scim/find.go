package scim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/connector"
)

// orChunk is how many eq terms one filtered lookup joins with `or`: each term matches one user
// at most, so the answer fits one page, and the URL stays far below common 8 KB limits.
const orChunk = 40

// errNoFilter: the server refused a plain eq filter although it announced filtering; the
// caller reads the full inventory instead.
var errNoFilter = errors.New("scim: the server does not filter users")

// InventoryOf (connector.Finder) reads the users of the people given and the groups asked for,
// instead of every user. A person's known users are read by id (GET /Users/{id}: a renamed
// user keeps its id, and servers find a user by id at once, where SCIMMY evaluates a filter
// over every user: 50 ms a term with 20,000 users). A person without one is looked up by the
// userName CreateAccount would give them and, unless match_by keeps other attributes out, by
// externalId = employee id, several terms joined with `or` in one request; a server that
// rejects `or` (@better-auth/scim does) is asked one term a request from then on. Groups are
// read as Inventory reads them, with every member (the engine keeps those it asked about).
// Without filtering, or with match_by: email (emails cannot be looked up on every server), it
// reads the full Inventory.
//
// Servers compare userName as they like: SCIMMY's eq is case-sensitive, so a user whose
// userName differs from the person's email in case is found by externalId or by id only.
func (c *Connector) InventoryOf(ctx context.Context, people []connector.Person, groups []string) (*connector.Inventory, error) {
	if !c.filter || c.cfg.MatchBy == MatchEmail {
		return c.Inventory(ctx, groups)
	}
	inv := &connector.Inventory{Groups: map[string]*connector.Group{}}
	// The groups are read meanwhile, as Inventory does: with 50 groups of 400 they take
	// as long as 200 people's users.
	type groupsResult struct {
		gs  map[string]*group
		err error
	}
	done := make(chan groupsResult, 1)
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if c.groups && len(groups) > 0 {
		go func() {
			gs, err := c.readGroups(ctx, groups)
			done <- groupsResult{gs, err}
		}()
	} else {
		done <- groupsResult{}
	}
	seen := map[string]bool{}
	keep := func(u *user) {
		if u.ID != "" && !seen[u.ID] {
			seen[u.ID] = true
			inv.Accounts = append(inv.Accounts, c.account(u))
		}
	}
	var terms []term
	for _, person := range people {
		found := false
		for _, ref := range person.Known {
			ok, err := c.userByID(ctx, ref, keep)
			if err != nil {
				cancel()
				<-done
				return nil, fmt.Errorf("scim inventory of people: %w", err)
			}
			found = found || ok
		}
		if found {
			continue
		}
		p := person.Spec
		if c.cfg.MatchBy != MatchExternalID {
			if name, err := c.userName(p); err == nil {
				terms = append(terms, term{"userName", name})
			}
		}
		if p.EmployeeID != "" && c.cfg.MatchBy != MatchUserName {
			terms = append(terms, term{"externalId", p.EmployeeID})
		}
	}
	if err := c.lookUsers(ctx, terms, keep); err != nil {
		cancel()
		<-done
		if errors.Is(err, errNoFilter) {
			return c.Inventory(parent, groups)
		}
		return nil, fmt.Errorf("scim inventory of people: %w", err)
	}
	gr := <-done
	if gr.err != nil {
		return nil, fmt.Errorf("scim inventory of people: groups: %w", gr.err)
	}
	for id, g := range gr.gs {
		out := &connector.Group{ID: id}
		for _, m := range g.Members {
			if strings.EqualFold(m.Type, "Group") {
				out.Foreign = append(out.Foreign, m.Value)
			} else {
				out.Members = append(out.Members, connector.AccountRef{ID: m.Value})
			}
		}
		inv.Groups[id] = out
	}
	return inv, nil
}

// term is one `attr eq "value"` of a lookup.
type term struct{ attr, value string }

func (t term) filter() string { return t.attr + " eq " + quote(t.value) }

// matches: the server's answer is checked here too, as find does, so that a server ignoring the
// filter (and sending its first page of everybody) cannot slip other people in.
func (t term) matches(u *user) bool {
	if t.attr == "userName" {
		return strings.EqualFold(u.UserName, t.value)
	}
	return u.ExternalID == t.value
}

// userByID reads one user; a missing one is skipped (found false).
func (c *Connector) userByID(ctx context.Context, ref connector.AccountRef, each func(*user)) (found bool, err error) {
	path, err := c.userPath(ref)
	if err != nil {
		return false, nil
	}
	q := url.Values{}
	if !c.noAttributes() {
		q.Set("attributes", userAttributes)
	}
	r := request{method: http.MethodGet, path: path, query: q}
	res, err := c.send(ctx, r)
	if err != nil {
		return false, err
	}
	if res.status == http.StatusNotFound {
		return false, nil
	}
	if res.status != http.StatusOK {
		return false, c.statusError(r.step(), res)
	}
	var u user
	if err := decode(r.step(), res, &u); err != nil {
		return false, err
	}
	each(&u)
	return true, nil
}

// lookUsers finds the users matching any of terms: orChunk terms a request joined with `or`,
// or one a request once the server refused `or`.
func (c *Connector) lookUsers(ctx context.Context, terms []term, each func(*user)) error {
	for len(terms) > 0 {
		n := min(len(terms), orChunk)
		c.mu.Lock()
		noOr := c.noOr
		c.mu.Unlock()
		if noOr {
			n = 1
		}
		chunk := terms[:n]
		fs := make([]string, n)
		for i, t := range chunk {
			fs[i] = t.filter()
		}
		ok, err := c.lookup(ctx, strings.Join(fs, " or "), chunk, each)
		if err != nil {
			return err
		}
		if !ok {
			if n == 1 {
				return errNoFilter
			}
			c.mu.Lock()
			c.noOr = true // asked again below, one term a request
			c.mu.Unlock()
			continue
		}
		terms = terms[n:]
	}
	return nil
}

// lookup runs one filtered listing; ok is false when the server refused the filter.
func (c *Connector) lookup(ctx context.Context, filter string, terms []term, each func(*user)) (ok bool, err error) {
	q := url.Values{"filter": {filter}, "startIndex": {"1"}, "count": {strconv.Itoa(max(2*len(terms), 10))}}
	if !c.noAttributes() {
		q.Set("attributes", userAttributes)
	}
	r := request{method: http.MethodGet, path: c.usersPath, query: q}
	res, err := c.send(ctx, r)
	if err != nil {
		return false, err
	}
	if res.status == http.StatusBadRequest || filterUnsupported(res) {
		return false, nil
	}
	if res.status != http.StatusOK {
		return false, c.statusError(r.step(), res)
	}
	var page struct {
		TotalResults int    `json:"totalResults"`
		Resources    []user `json:"Resources"`
	}
	if err := decodePage(r.step(), res, &page); err != nil {
		return false, err
	}
	pick := func(u *user) {
		for _, t := range terms {
			if t.matches(u) {
				each(u)
				return
			}
		}
	}
	if page.TotalResults > len(page.Resources) {
		// More than a page (a server with a small page cap): read them all, paged.
		q.Del("startIndex")
		q.Del("count")
		return true, list(ctx, c, c.usersPath, q, userID, pick)
	}
	for i := range page.Resources {
		pick(&page.Resources[i])
	}
	return true, nil
}
