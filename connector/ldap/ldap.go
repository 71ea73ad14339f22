package ldap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse/gatehouse/connector"
)

// Connector is an open LDAP connector. It keeps one connection, shared by concurrent callers
// (go-ldap multiplexes requests on it), and dials again when the connection is lost.
type Connector struct {
	cfg         Config
	password    string
	tls         *tls.Config
	usersDN     *goldap.DN
	groupsDN    *goldap.DN
	disabledDN  *goldap.DN // nil: cannot disable
	placeholder string     // normalized
	d           *dialect

	mu     sync.Mutex
	conn   *goldap.Conn
	closed bool
	known  map[string]string // lower-cased account id → DN of accounts created or adopted here (remember)
	free   map[string]bool   // lower-cased account names PrepareCreates found free (takeFree)
}

var (
	_ connector.Connector = (*Connector)(nil)
	_ connector.Checker   = (*Connector)(nil)
)

// Check binds and reads users_dn, groups_dn and disabled_dn: a missing container is a
// Permanent error naming the setting. Every failure is a connector.CheckError whose kind says
// what to fix (unreachable, tls, credentials, permission, config, server). It changes nothing,
// so it cannot prove that the bind DN may write: LDAP has no cheap "may I?" question, and a
// missing write right shows as a permission failure of the first operation instead.
func (c *Connector) Check(ctx context.Context) error {
	if _, err := c.client(ctx); err != nil {
		return err
	}
	containers := [][2]string{{"users_dn", c.cfg.UsersDN}, {"groups_dn", c.cfg.GroupsDN}}
	if c.disabledDN != nil && !c.d.disableInPlace {
		containers = append(containers, [2]string{"disabled_dn", c.cfg.DisabledDN})
	}
	for _, k := range containers {
		step := "read " + k[0]
		e, err := c.entry(ctx, k[1], "1.1")
		if err != nil {
			return failed(step, err, "ldap check %s %s", k[0], k[1])
		}
		if e == nil {
			// Without read rights OpenLDAP answers noSuchObject too, so the message says both.
			return connector.Failed(connector.FailConfig, step, connector.Permanentf(
				"ldap check: %s %s does not exist (or the bind DN may not read it)", k[0], k[1]))
		}
	}
	return nil
}

// Capabilities: everything. OpenLDAP disables only when disabled_dn is set, and disabling
// removes memberships there; AD disables in place and keeps them (the engine removes a
// leaver's memberships as separate operations).
func (c *Connector) Capabilities() connector.Capabilities {
	if c.d.disableInPlace {
		return connector.Capabilities{CreateAccount: true, Disable: true, Groups: true, CreatesGroups: true}
	}
	return connector.Capabilities{
		CreateAccount:             true,
		Disable:                   c.disabledDN != nil,
		Groups:                    true,
		CreatesGroups:             true,
		DisableRemovesMemberships: true,
	}
}

// Close closes the connection.
func (c *Connector) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.conn != nil {
		err := c.conn.Close()
		c.conn = nil
		return err
	}
	return nil
}

// client returns the shared connection, dialling and binding when there is none or it broke.
func (c *Connector) client(ctx context.Context) (*goldap.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, connector.Permanentf("ldap connector is closed")
	}
	if c.conn != nil && !c.conn.IsClosing() {
		return c.conn, nil
	}
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
	opts := []goldap.DialOpt{goldap.DialWithDialer(&net.Dialer{Timeout: c.cfg.Timeout})}
	if c.tls != nil && !c.cfg.StartTLS {
		opts = append(opts, goldap.DialWithTLSConfig(c.tls))
	}
	conn, err := goldap.DialURL(c.cfg.URL, opts...)
	if err != nil {
		if c.tls != nil && !c.cfg.StartTLS && errors.Is(err, io.EOF) {
			// Hung up on during the handshake: the port speaks plain LDAP, or something else.
			return nil, connector.Failed(connector.FailTLS, "connect", classify(err, "ldap dial %s: TLS handshake", c.cfg.URL))
		}
		return nil, failed("connect", err, "ldap dial %s", c.cfg.URL)
	}
	conn.SetTimeout(c.cfg.Timeout)
	if c.cfg.StartTLS {
		if err := conn.StartTLS(c.tls); err != nil {
			conn.Close()
			return nil, failed("starttls", err, "ldap starttls %s", c.cfg.URL)
		}
	}
	if err := conn.Bind(c.cfg.BindDN, c.password); err != nil {
		conn.Close()
		// The password is never part of the message; the bind DN is not a secret.
		return nil, failed("bind", err, "ldap bind as %s", c.cfg.BindDN)
	}
	c.conn = conn
	return conn, nil
}

// drop forgets conn if it is still the shared connection, so the next call dials again.
func (c *Connector) drop(conn *goldap.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == conn {
		c.conn = nil
	}
	conn.Close()
}

// do runs f on the shared connection. A network error on a connection that had been idle may
// only mean the server restarted since: f is run once more on a fresh connection (every
// operation is idempotent). A cancelled context closes the connection, which is the only way
// go-ldap has to abandon requests in flight; other callers then see a retryable error.
func (c *Connector) do(ctx context.Context, f func(*goldap.Conn) error) error {
	for attempt := 0; ; attempt++ {
		conn, err := c.client(ctx)
		if err != nil {
			return err
		}
		stop := context.AfterFunc(ctx, func() { c.drop(conn) })
		err = f(conn)
		cancelled := !stop()
		if cancelled {
			return fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		if err != nil && isCode(err, goldap.ErrorNetwork) {
			c.drop(conn)
			if attempt == 0 {
				continue
			}
		}
		return err
	}
}

// entry reads one entry by DN. A missing entry returns (nil, nil) only here, inside the
// package, where "absent" is an expected answer.
func (c *Connector) entry(ctx context.Context, dn string, attrs ...string) (*goldap.Entry, error) {
	var res *goldap.SearchResult
	err := c.do(ctx, func(conn *goldap.Conn) error {
		var err error
		res, err = conn.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases,
			0, 0, false, "(objectClass=*)", attrs, nil))
		return err
	})
	if isCode(err, goldap.LDAPResultNoSuchObject) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(res.Entries) == 0 {
		return nil, nil
	}
	return res.Entries[0], nil
}

// search runs a paged subtree search under base. A missing base is an empty result.
func (c *Connector) search(ctx context.Context, base, filter string, attrs []string) ([]*goldap.Entry, error) {
	var res *goldap.SearchResult
	err := c.do(ctx, func(conn *goldap.Conn) error {
		var err error
		req := goldap.NewSearchRequest(base, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
			0, 0, false, filter, attrs, nil)
		res, err = conn.SearchWithPaging(req, uint32(c.cfg.PageSize))
		return err
	})
	if isCode(err, goldap.LDAPResultNoSuchObject) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return res.Entries, nil
}

// accountBases are the subtrees holding accounts: users_dn, and disabled_dn unless it lies
// inside users_dn already.
func (c *Connector) accountBases() []string {
	bases := []string{c.cfg.UsersDN}
	if c.disabledDN != nil && !c.d.disableInPlace && !c.usersDN.AncestorOfFold(c.disabledDN) && !c.usersDN.EqualFold(c.disabledDN) {
		bases = append(bases, c.cfg.DisabledDN)
	}
	return bases
}

// findAccounts searches every account base with filter.
func (c *Connector) findAccounts(ctx context.Context, filter string) ([]*goldap.Entry, error) {
	var all []*goldap.Entry
	for _, b := range c.accountBases() {
		es, err := c.search(ctx, b, filter, c.d.accountAttrs)
		if err != nil {
			return nil, classify(err, "ldap search %s", b)
		}
		all = append(all, es...)
	}
	return all, nil
}

// isDisabled reports whether dn lies under disabled_dn.
func (c *Connector) isDisabled(dn *goldap.DN) bool {
	return !c.d.disableInPlace && c.disabledDN != nil && c.disabledDN.AncestorOfFold(dn)
}

// resolve finds the current DN of an account: at its locator when the entry there is still
// the same account (same entryUUID), else by entryUUID under the account bases. An account
// that is not found is a Permanent ErrNotFound.
func (c *Connector) resolve(ctx context.Context, ref connector.AccountRef) (string, error) {
	if dn, ok := c.knownDN(ref); ok {
		return dn, nil
	}
	if ref.Locator != "" {
		e, err := c.entry(ctx, ref.Locator, c.d.idAttr)
		if err != nil && !isCode(err, goldap.LDAPResultInvalidDNSyntax) {
			return "", classify(err, "ldap read %s", ref.Locator)
		}
		if e != nil && (ref.ID == "" || strings.EqualFold(c.d.formatID(e.GetRawAttributeValue(c.d.idAttr)), ref.ID)) {
			return e.DN, nil
		}
	}
	if f := c.d.idFilter(ref.ID); ref.ID != "" && f != "" {
		es, err := c.findAccounts(ctx, f)
		if err != nil && !isCode(err, goldap.LDAPResultInvalidAttributeSyntax, goldap.LDAPResultInappropriateMatching) {
			return "", err
		}
		if len(es) == 1 {
			return es[0].DN, nil
		}
		if len(es) > 1 {
			return "", connector.Permanentf("ldap account %s: %d entries have this %s", ref.ID, len(es), c.d.idAttr)
		}
	}
	return "", connector.Permanent(fmt.Errorf("ldap account %s: %w", refString(ref), connector.ErrNotFound))
}

func refString(ref connector.AccountRef) string {
	if ref.Locator != "" {
		return ref.ID + " (" + ref.Locator + ")"
	}
	return ref.ID
}

// normDN is the comparable form of a DN: parsed, attribute types and values lower-cased. A value
// that does not parse is compared as lower-cased text.
func normDN(s string) string {
	d, err := goldap.ParseDN(s)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(s))
	}
	return strings.ToLower(d.String())
}
