package ldap

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
)

// CreateAccount creates the account, or adopts the existing account with the same username
// (enabled or disabled). An existing account with a different employee id belongs to somebody
// else and is not adopted. The engine names the account (spec.Username, by the system's
// account_name rule); without a name, the default rule names it (see username).
//
// OpenLDAP: uid=<username>,users_dn, an inetOrgPerson with mail, cn, sn, givenName and
// employeeNumber. AD: CN=<username>,users_dn, a user with sAMAccountName (at most 20
// characters: a longer name is refused, never cut), userPrincipalName (the email), mail, names, employeeID,
// and a random password nobody knows (AD will not enable an account without one; people sign in
// through SSO) — which AD accepts only over TLS (ldaps:// or start_tls).
func (c *Connector) CreateAccount(ctx context.Context, spec connector.AccountSpec) (connector.AccountRef, error) {
	username, err := c.username(spec)
	if err != nil {
		return connector.AccountRef{}, err
	}
	for attempt := 0; ; attempt++ {
		ref, found, err := c.adopt(ctx, username, spec)
		if err != nil || found {
			if found {
				c.remember(ref)
			}
			return ref, err
		}
		req, err := c.addAccountRequest(username, spec)
		if err != nil {
			return connector.AccountRef{}, err
		}
		dn := req.DN
		err = c.do(ctx, func(conn *goldap.Conn) error { return conn.Add(req) })
		if isCode(err, goldap.LDAPResultEntryAlreadyExists) && attempt == 0 {
			continue // created concurrently (or by a previous attempt whose answer was lost): adopt it
		}
		if isCode(err, goldap.LDAPResultEntryAlreadyExists) {
			// Still no account of that name where accounts live: the name belongs to something
			// else. AD keeps sAMAccountName unique in the whole domain, not just users_dn.
			return connector.AccountRef{}, connector.Permanent(fmt.Errorf("ldap create account: %s %q is taken by an entry "+
				"that is not an account under %s (another object with that name there, or an account elsewhere in the domain); "+
				"not adopted: give the person another name or rename that entry: %w", c.d.usernameAttr, username, c.cfg.UsersDN, err))
		}
		if err != nil {
			return connector.AccountRef{}, classify(err, "ldap add %s", dn)
		}
		e, err := c.entry(ctx, dn, c.d.idAttr)
		if err != nil {
			return connector.AccountRef{}, classify(err, "ldap read %s", dn)
		}
		if e == nil || len(e.GetRawAttributeValue(c.d.idAttr)) == 0 {
			return connector.AccountRef{}, fmt.Errorf("ldap add %s: created entry has no %s", dn, c.d.idAttr)
		}
		ref = connector.AccountRef{ID: c.d.formatID(e.GetRawAttributeValue(c.d.idAttr)), Locator: e.DN}
		c.remember(ref)
		return ref, nil
	}
}

// username is the account's name: spec.Username as the engine gave it, else the default
// naming rule of the flavor (the email's local part, lowercased, transliterated to ASCII, and
// for AD cut to 20 characters, counted as characters). A name AD cannot hold is refused:
// cutting it here would create an account under a name the engine does not know.
func (c *Connector) username(spec connector.AccountSpec) (string, error) {
	name := spec.Username
	if name == "" {
		if local, _, ok := strings.Cut(spec.Email, "@"); !ok || local == "" {
			return "", connector.Permanentf("ldap create account: email %q has no local part to name the account", spec.Email)
		}
		rule := gatehouse.AccountNaming{}
		if c.d.disableInPlace {
			rule.MaxLength = ADMaxUsername
		}
		var err error
		if name, _, err = rule.Candidate(gatehouse.NamePerson{Email: spec.Email}); err != nil {
			return "", connector.Permanentf("ldap create account: %v", err)
		}
	}
	if n := utf8.RuneCountInString(name); c.d.disableInPlace && n > ADMaxUsername {
		return "", connector.Permanentf("ldap create account: sAMAccountName %q has %d characters; AD holds at most %d (declare account_name.max_length)",
			name, n, ADMaxUsername)
	}
	return name, nil
}

// addAccountRequest builds the add request of a new account.
func (c *Connector) addAccountRequest(username string, spec connector.AccountSpec) (*goldap.AddRequest, error) {
	cn := strings.TrimSpace(spec.FirstName + " " + spec.LastName)
	if cn == "" {
		cn = username
	}
	sn := spec.LastName
	if sn == "" {
		sn = username // sn is mandatory for person
	}
	var req *goldap.AddRequest
	if c.d.disableInPlace {
		req = goldap.NewAddRequest("CN="+goldap.EscapeDN(username)+","+c.cfg.UsersDN, nil)
		req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
		req.Attribute("sAMAccountName", []string{username})
		req.Attribute("displayName", []string{cn})
		if spec.Email != "" {
			req.Attribute("userPrincipalName", []string{spec.Email})
		}
		pw, err := randomPassword()
		if err != nil {
			return nil, fmt.Errorf("ldap create account: %w", err)
		}
		req.Attribute("unicodePwd", []string{pw})
		req.Attribute("userAccountControl", []string{strconv.Itoa(uacNormalAccount)})
	} else {
		req = goldap.NewAddRequest("uid="+goldap.EscapeDN(username)+","+c.cfg.UsersDN, nil)
		req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "inetOrgPerson"})
		req.Attribute("uid", []string{username})
		req.Attribute("cn", []string{cn})
	}
	if spec.Email != "" {
		req.Attribute("mail", []string{spec.Email})
	}
	req.Attribute("sn", []string{sn})
	if spec.FirstName != "" {
		req.Attribute("givenName", []string{spec.FirstName})
	}
	if spec.EmployeeID != "" {
		req.Attribute(c.d.employeeAttr, []string{spec.EmployeeID})
	}
	return req, nil
}

// randomPassword is an AD unicodePwd value: a random password meeting the default complexity
// rules, quoted and UTF-16LE encoded as AD requires. Nobody ever learns it.
func randomPassword() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	pw := "\"" + base64.RawURLEncoding.EncodeToString(b) + "aA1!" + "\""
	u := utf16.Encode([]rune(pw))
	out := make([]byte, 2*len(u))
	for i, r := range u {
		out[2*i], out[2*i+1] = byte(r), byte(r>>8)
	}
	return string(out), nil
}

// adopt looks for an existing account named username.
func (c *Connector) adopt(ctx context.Context, username string, spec connector.AccountSpec) (connector.AccountRef, bool, error) {
	if c.takeFree(username) {
		return connector.AccountRef{}, false, nil // found free just before (PrepareCreates)
	}
	es, err := c.findAccounts(ctx, "(&"+c.d.userFilter+"("+c.d.usernameAttr+"="+goldap.EscapeFilter(username)+"))")
	if err != nil {
		return connector.AccountRef{}, false, err
	}
	switch len(es) {
	case 0:
		return connector.AccountRef{}, false, nil
	case 1:
	default:
		return connector.AccountRef{}, false, connector.Permanentf("ldap create account: %d entries have uid %s", len(es), username)
	}
	e := es[0]
	if have := e.GetAttributeValue(c.d.employeeAttr); have != "" && spec.EmployeeID != "" && have != spec.EmployeeID {
		return connector.AccountRef{}, false, connector.Permanentf(
			"ldap create account: %s exists for another employee (%s %s, want %s)", e.DN, c.d.employeeAttr, have, spec.EmployeeID)
	}
	return connector.AccountRef{ID: c.d.formatID(e.GetRawAttributeValue(c.d.idAttr)), Locator: e.DN}, true, nil
}

// SetEnabled disables an account by removing it from every group under groups_dn and then
// moving it under disabled_dn, and enables it by moving it back under users_dn. Memberships go
// first: a disable interrupted half way leaves an account without access, never a disabled one
// that still has it, and running it again finishes the move.
func (c *Connector) SetEnabled(ctx context.Context, ref connector.AccountRef, enabled bool) error {
	c.forget(ref) // it may move
	if c.d.disableInPlace {
		return c.setUAC(ctx, ref, enabled)
	}
	if c.disabledDN == nil {
		return connector.Permanentf("ldap set enabled: disabled_dn is not configured, so this directory cannot disable accounts")
	}
	dn, err := c.resolve(ctx, ref)
	if err != nil {
		return fmt.Errorf("ldap set enabled: %w", err)
	}
	parsed, err := goldap.ParseDN(dn)
	if err != nil || len(parsed.RDNs) == 0 {
		return connector.Permanentf("ldap set enabled: account DN %q does not parse", dn)
	}
	disabled := c.isDisabled(parsed)
	if !enabled {
		groups, err := c.search(ctx, c.cfg.GroupsDN,
			"(&"+c.d.groupFilter+"(member="+goldap.EscapeFilter(dn)+"))", []string{"1.1"})
		if err != nil {
			return classify(err, "ldap disable %s: find its groups", dn)
		}
		for _, g := range groups {
			if err := c.removeValue(ctx, g.DN, dn); err != nil {
				return fmt.Errorf("ldap disable %s: %w", dn, err)
			}
		}
	}
	if enabled == !disabled {
		return nil
	}
	to := c.cfg.DisabledDN
	if enabled {
		to = c.cfg.UsersDN
	}
	rdn := parsed.RDNs[0].String()
	err = c.do(ctx, func(conn *goldap.Conn) error {
		return conn.ModifyDN(goldap.NewModifyDNRequest(dn, rdn, true, to))
	})
	if isCode(err, goldap.LDAPResultEntryAlreadyExists) {
		return connector.Permanentf("ldap move %s under %s: another entry %s exists there", dn, to, rdn)
	}
	return classify(err, "ldap move %s under %s", dn, to)
}

// setUAC disables (AD): sets or clears the ACCOUNTDISABLE bit of userAccountControl, keeping
// the object where it is and every other bit as it was.
func (c *Connector) setUAC(ctx context.Context, ref connector.AccountRef, enabled bool) error {
	dn, err := c.resolve(ctx, ref)
	if err != nil {
		return fmt.Errorf("ldap set enabled: %w", err)
	}
	e, err := c.entry(ctx, dn, "userAccountControl")
	if err != nil {
		return classify(err, "ldap read %s", dn)
	}
	if e == nil {
		return connector.Permanent(fmt.Errorf("ldap set enabled %s: %w", dn, connector.ErrNotFound))
	}
	uac, err := strconv.ParseInt(e.GetAttributeValue("userAccountControl"), 10, 64)
	if err != nil {
		return connector.Permanentf("ldap set enabled %s: userAccountControl %q is not a number", dn, e.GetAttributeValue("userAccountControl"))
	}
	want := uac | uacAccountDisable
	if enabled {
		want = uac &^ uacAccountDisable
	}
	if want == uac {
		return nil
	}
	mod := goldap.NewModifyRequest(dn, nil)
	mod.Replace("userAccountControl", []string{strconv.FormatInt(want, 10)})
	return classify(c.do(ctx, func(conn *goldap.Conn) error { return conn.Modify(mod) }), "ldap set userAccountControl of %s", dn)
}

// AddMember adds the account's DN to the group's member values, creating the group when it
// does not exist, and drops the empty-group placeholder.
func (c *Connector) AddMember(ctx context.Context, group string, ref connector.AccountRef) error {
	dn, err := c.resolve(ctx, ref)
	if err != nil {
		return fmt.Errorf("ldap add member to %s: %w", group, err)
	}
	for attempt := 0; ; attempt++ {
		mod := goldap.NewModifyRequest(group, nil)
		mod.Add("member", []string{dn})
		err = c.do(ctx, func(conn *goldap.Conn) error { return conn.Modify(mod) })
		switch {
		case err == nil && !c.d.placeholder,
			// AD answers entryAlreadyExists for a member that is already there.
			isCode(err, goldap.LDAPResultAttributeOrValueExists, goldap.LDAPResultEntryAlreadyExists) && c.d.disableInPlace:
			return nil
		case err == nil, isCode(err, goldap.LDAPResultAttributeOrValueExists):
			// Drop the placeholder, if the group was empty. Usually it is not there (16).
			del := goldap.NewModifyRequest(group, nil)
			del.Delete("member", []string{c.cfg.Placeholder})
			err = c.do(ctx, func(conn *goldap.Conn) error { return conn.Modify(del) })
			if err != nil && !isCode(err, goldap.LDAPResultNoSuchAttribute) {
				return classify(err, "ldap group %s: remove the empty-group placeholder", group)
			}
			return nil
		case isCode(err, goldap.LDAPResultNoSuchObject) && attempt == 0:
			err = c.createGroup(ctx, group, dn)
			if err == nil {
				return nil
			}
			if isCode(err, goldap.LDAPResultEntryAlreadyExists) {
				continue // created concurrently: add to it
			}
			return classify(err, "ldap create group %s", group)
		default:
			return classify(err, "ldap add %s to %s", dn, group)
		}
	}
}

// createGroup adds a groupOfNames named group with members (at least one).
func (c *Connector) createGroup(ctx context.Context, group string, members ...string) error {
	parsed, err := goldap.ParseDN(group)
	if err != nil || len(parsed.RDNs) == 0 || len(parsed.RDNs[0].Attributes) != 1 {
		return connector.Permanentf("group %q is not a DN with a single-valued first RDN", group)
	}
	rdn := parsed.RDNs[0].Attributes[0]
	if !strings.EqualFold(rdn.Type, "cn") {
		return connector.Permanentf("group %q: a %s is named cn=…", group, c.d.groupClass)
	}
	add := func(samName bool) error {
		req := goldap.NewAddRequest(group, nil)
		req.Attribute("objectClass", []string{"top", c.d.groupClass})
		req.Attribute("cn", []string{rdn.Value})
		if samName {
			req.Attribute("sAMAccountName", []string{rdn.Value})
		}
		req.Attribute("member", members)
		return c.do(ctx, func(conn *goldap.Conn) error { return conn.Add(req) })
	}
	if !c.d.disableInPlace {
		return add(false)
	}
	// AD: sAMAccountName is unique in the domain. Name the group after its cn, which is what
	// administrators expect; when another group elsewhere has that name, let AD pick one.
	err = add(true)
	if isCode(err, goldap.LDAPResultEntryAlreadyExists) {
		if e, rerr := c.entry(ctx, group, "1.1"); rerr == nil && e == nil {
			return add(false)
		}
	}
	return err
}

// RemoveMember removes the account from the group. An account that no longer exists is still
// removed by its last known DN (ref.Locator), so dangling members can be cleaned up.
func (c *Connector) RemoveMember(ctx context.Context, group string, ref connector.AccountRef) error {
	dn, err := c.resolve(ctx, ref)
	if err != nil {
		if !connector.IsPermanent(err) || ref.Locator == "" {
			if connector.IsPermanent(err) {
				return nil // not found and nowhere to look: it cannot be a member
			}
			return fmt.Errorf("ldap remove member from %s: %w", group, err)
		}
		dn = ref.Locator
	}
	if err := c.removeValue(ctx, group, dn); err != nil {
		return fmt.Errorf("ldap remove member: %w", err)
	}
	return nil
}

// removeValue deletes member value dn from group. A non-member, or a group that does not
// exist, is fine. The last member is replaced by the placeholder in the same modify, because
// groupOfNames may not be left without a member.
func (c *Connector) removeValue(ctx context.Context, group, dn string) error {
	mod := goldap.NewModifyRequest(group, nil)
	mod.Delete("member", []string{dn})
	err := c.do(ctx, func(conn *goldap.Conn) error { return conn.Modify(mod) })
	if c.d.disableInPlace && isCode(err, goldap.LDAPResultUnwillingToPerform) {
		// AD refuses to delete a value that is not there; check that this is why.
		e, rerr := c.entry(ctx, group, "member")
		if rerr == nil && (e == nil || !hasDN(e.GetAttributeValues("member"), dn)) {
			return nil
		}
	}
	if c.d.placeholder && isCode(err, goldap.LDAPResultObjectClassViolation) {
		mod = goldap.NewModifyRequest(group, nil)
		mod.Add("member", []string{c.cfg.Placeholder})
		mod.Delete("member", []string{dn})
		err = c.do(ctx, func(conn *goldap.Conn) error { return conn.Modify(mod) })
	}
	if err == nil || isCode(err, goldap.LDAPResultNoSuchAttribute, goldap.LDAPResultNoSuchObject) {
		return nil
	}
	return classify(err, "remove %s from %s", dn, group)
}

// hasDN reports whether dns holds dn, compared as DNs.
func hasDN(dns []string, dn string) bool {
	n := normDN(dn)
	for _, d := range dns {
		if d == dn || normDN(d) == n {
			return true
		}
	}
	return false
}
