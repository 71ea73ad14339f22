package service

import "github.com/gatehouse/gatehouse"

// Who may do what. Every exported Service method calls one of these first.
//
//	anyone signed in  own identity, own grants, own tokens, the catalog (to know what to ask for)
//	auditor           reads everything, including the audit log; changes nothing
//	operator          reads everything; creates and updates identities, grants and revokes access
//	admin             everything: catalog apply, Gatehouse roles, tokens for others

func authenticated(p *gatehouse.Principal) error {
	if p == nil {
		return gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "sign in first")
	}
	return nil
}

func requireReadAll(p *gatehouse.Principal) error {
	if err := authenticated(p); err != nil {
		return err
	}
	if !p.CanReadAll() {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "this needs the auditor, operator or admin role")
	}
	return nil
}

func requireOperator(p *gatehouse.Principal) error {
	if err := authenticated(p); err != nil {
		return err
	}
	if !p.Has(gatehouse.RoleOperator) {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "this needs the operator or admin role")
	}
	return nil
}

func requireAdmin(p *gatehouse.Principal) error {
	if err := authenticated(p); err != nil {
		return err
	}
	if !p.Has(gatehouse.RoleAdmin) {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "this needs the admin role")
	}
	return nil
}

// requireSelfOrReadAll lets an identity read what is its own, and readers read everyone's.
func requireSelfOrReadAll(p *gatehouse.Principal, identityID string) error {
	if err := authenticated(p); err != nil {
		return err
	}
	if p.CanReadAll() || (p.IdentityID != "" && p.IdentityID == identityID) {
		return nil
	}
	return gatehouse.Errorf(gatehouse.EFORBIDDEN, "you may only see your own access")
}

// requireSCIM admits a SCIM client: a token with the scim scope (gatehouse.ScopeSCIM). Such a
// token is an identity source, not a person signing in; it may do nothing else.
func requireSCIM(p *gatehouse.Principal) error {
	if err := authenticated(p); err != nil {
		return err
	}
	if !p.HasScope(gatehouse.ScopeSCIM) {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "this needs a token with the scim scope")
	}
	return nil
}

// SCIMSource is the identity source a SCIM client writes as: "scim:" and the email of the
// token's identity (a service account such as okta-provisioning@example.com). It names the
// token's identity, not the token, so that rotating a token keeps what the source owns.
func SCIMSource(p *gatehouse.Principal) string { return "scim:" + p.Email }
