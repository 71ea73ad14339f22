package service

import (
	"context"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

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
	if p.IdentityID == "" { // what it owns is keyed by its identity (SCIMSource)
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "a SCIM client must be an identity's token")
	}
	return nil
}

// SCIMSource is the identity source a SCIM client writes as: "scim:" and the identity id of
// the token's identity (a service account such as okta-provisioning@example.com). It names the
// token's identity, not the token, so that rotating a token keeps what the source owns; and its
// id, not its email, so that renaming the account keeps what it owns and an account given the
// old email owns nothing. People see it as SourceLabel shows it.
func SCIMSource(p *gatehouse.Principal) string { return scimSourcePrefix + p.IdentityID }

const scimSourcePrefix = "scim:"

// SourceLabel is how an identity source is shown to people: a SCIM source as "scim:" and its
// service account's current email (the stored key, "scim:<id>", stays as it is); any other
// source, or a SCIM source whose account no longer exists, as stored.
func (s *core) SourceLabel(ctx context.Context, src string) string {
	return sourceLabel(ctx, s.store, src)
}

func sourceLabel(ctx context.Context, r store.Reader, src string) string {
	id, ok := strings.CutPrefix(src, scimSourcePrefix)
	if !ok || id == "" {
		return src
	}
	acct, err := r.GetIdentity(ctx, id)
	if err != nil || acct.ID != id {
		return src // the key must name the account by id, not match it by email
	}
	return scimSourcePrefix + acct.Email
}

func (s *core) requireSelf(ctx context.Context, p *gatehouse.Principal, key string) error {
	if key == p.IdentityID {
		return nil
	}
	id, err := s.store.GetIdentity(ctx, key)
	if err != nil || id.ID != p.IdentityID {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "you may only see your own access")
	}
	return nil
}
