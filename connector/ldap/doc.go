// Package ldap is the Gatehouse connector for LDAP directories: OpenLDAP (and other directories
// with inetOrgPerson and groupOfNames) and Active Directory.
//
// OpenLDAP flavor (flavor: openldap, the default), as the catalog configures it (docs/connectors.md):
//
//   - users are inetOrgPerson entries under users_dn, named uid=<username>, with mail,
//     cn, sn, givenName and employeeNumber; an account is identified by its entryUUID, which
//     survives the moves below;
//   - groups are groupOfNames entries, named by their DN (usually under groups_dn), created
//     when the first member is added. groupOfNames must have a member, so an empty group holds
//     a placeholder member (cn=nobody) that is never reported as a member;
//   - OpenLDAP has no "disabled" attribute, so disabling removes the account from every group
//     under groups_dn and moves it under disabled_dn; enabling moves it back.
//
// AD flavor (flavor: ad): users are user objects CN=<username>,users_dn with sAMAccountName
// (at most 20 characters), userPrincipalName (the email), mail, names and
// employeeID, and a random password nobody knows (AD enables no account without one, and sets
// passwords only over TLS: use ldaps:// or start_tls). An account is identified by its
// objectGUID. Disabling sets the ACCOUNTDISABLE bit of userAccountControl and leaves the object
// and its memberships in place (the engine removes a leaver's memberships itself); disabled_dn
// is not used. Groups are group objects; member values beyond AD's MaxValRange are read with
// ranged retrieval.
//
// The engine names new accounts by the system's account_name rule (gatehouse.AccountNaming:
// by default the email's local part, lowercased and transliterated to ASCII, and for AD cut to
// 20 characters — characters, never bytes); the connector uses the name it is given and
// refuses a sAMAccountName AD cannot hold rather than cutting it behind the engine's back.
//
// Inventory reads every account and every group's member values with paged searches (RFC 2696)
// and resolves member DNs locally: one pass over the directory, never a search per member. It
// uses a dedicated connection and a lean decoder (scan.go) because go-ldap's generic packet
// decoding made it 4× slower than ldapsearch; writes go through go-ldap.
//
// A first load writes thousands of entries, so writes are batched where LDAP allows it: a
// group's membership changes of one reconcile go in one modify per 1,000 members
// (ChangeMembers, connector.MemberBatcher), with the accounts found by id in a few searches and
// those the connector itself created or adopted in this run not read again; and the engine may
// have up to the concurrency setting's creations in flight at once (connector.Concurrent) on
// the one connection, which carries them side by side.
//
// LDAP result codes are mapped to the connector package's error classes: a dropped connection,
// busy, unavailable or a time limit is retryable; invalid syntax, insufficient access, a schema
// violation, a rejected certificate is Permanent.
//
// Package ldaptest starts real servers for the tests: OpenLDAP slapd (and Samba AD) in a
// temporary directory.
package ldap
