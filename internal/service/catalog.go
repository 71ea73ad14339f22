package service

import (
	"context"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/store"
)

// GetSettings returns the catalog settings. Everyone signed in may read the catalog: people
// need to see what exists to ask for it.
func (s *Service) GetSettings(ctx context.Context, p *gatehouse.Principal) (gatehouse.Settings, error) {
	if err := authenticated(p); err != nil {
		return gatehouse.Settings{}, err
	}
	return s.store.GetSettings(ctx)
}

// GetCatalog returns the whole stored catalog.
func (s *Service) GetCatalog(ctx context.Context, p *gatehouse.Principal) (*gatehouse.Catalog, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	c, err := s.store.LoadCatalog(ctx)
	if err != nil {
		return nil, err
	}
	c.Systems = connectorsFor(p, c.Systems)
	return c, nil
}

// ListSystems lists systems.
func (s *Service) ListSystems(ctx context.Context, p *gatehouse.Principal) ([]*gatehouse.System, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	list, err := s.store.ListSystems(ctx)
	if err != nil {
		return nil, err
	}
	return connectorsFor(p, list), nil
}

// GetSystem returns one system.
func (s *Service) GetSystem(ctx context.Context, p *gatehouse.Principal, id string) (*gatehouse.System, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	sys, err := s.store.GetSystem(ctx, id)
	if err != nil {
		return nil, err
	}
	return connectorsFor(p, []*gatehouse.System{sys})[0], nil
}

// connectorsFor returns systems as p may see them. Everyone may read the catalog, but a
// connector's settings (server URLs, bind DNs, where its secrets live) are a map for an attacker
// and of no use to someone asking for access: only readers (admin, operator, auditor) see them;
// others see the connector's type alone.
func connectorsFor(p *gatehouse.Principal, systems []*gatehouse.System) []*gatehouse.System {
	if p.CanReadAll() {
		return systems
	}
	out := make([]*gatehouse.System, len(systems))
	for i, sys := range systems {
		c := *sys
		c.Connector = gatehouse.Connector{Type: sys.Connector.Type}
		out[i] = &c
	}
	return out
}

// requestFor returns r as p may see it. A failed request's error ends in the connector's own
// words, which name its server, DNs and where its secret is read from (connectorsFor): only
// readers see them; others see what failed, and that an operator can see why.
func requestFor(p *gatehouse.Principal, r *gatehouse.AccessRequest) *gatehouse.AccessRequest {
	if p.CanReadAll() || (r.Error == "" && !slices.ContainsFunc(r.Events, isFailedEvent)) {
		return r
	}
	c := *r
	c.Error = publicFailure(r.Error)
	c.Events = slices.Clone(r.Events)
	for i, e := range c.Events {
		if isFailedEvent(e) {
			c.Events[i].Comment = publicFailure(e.Comment)
		}
	}
	return &c
}

func isFailedEvent(e gatehouse.RequestEvent) bool { return e.Kind == "failed" }

// publicFailure keeps "add_member GROUP in SYSTEM failed" of a provisioning failure and drops
// the connector's error after it.
func publicFailure(msg string) string {
	if msg == "" {
		return ""
	}
	head, _, _ := strings.Cut(msg, " failed: ")
	return strings.TrimSuffix(head, " failed") + " failed; an operator can see why (the system's operations)"
}

// ListEntitlements lists entitlements.
func (s *Service) ListEntitlements(ctx context.Context, p *gatehouse.Principal, f store.EntitlementFilter) (store.Page[*gatehouse.Entitlement], error) {
	if err := authenticated(p); err != nil {
		return store.Page[*gatehouse.Entitlement]{}, err
	}
	return s.store.ListEntitlements(ctx, f)
}

// GetEntitlement returns one entitlement.
func (s *Service) GetEntitlement(ctx context.Context, p *gatehouse.Principal, id string) (*gatehouse.Entitlement, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	return s.store.GetEntitlement(ctx, id)
}

// ListRoles lists roles.
func (s *Service) ListRoles(ctx context.Context, p *gatehouse.Principal) ([]*gatehouse.Role, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	return s.store.ListRoles(ctx)
}

// GetRole returns one role.
func (s *Service) GetRole(ctx context.Context, p *gatehouse.Principal, id string) (*gatehouse.Role, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	return s.store.GetRole(ctx, id)
}

// ListSoDRules lists separation-of-duties rules.
func (s *Service) ListSoDRules(ctx context.Context, p *gatehouse.Principal) ([]*gatehouse.SoDRule, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	return s.store.ListSoDRules(ctx)
}

// GetSoDRule returns one SoD rule.
func (s *Service) GetSoDRule(ctx context.Context, p *gatehouse.Principal, id string) (*gatehouse.SoDRule, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	return s.store.GetSoDRule(ctx, id)
}

// PlanCatalog says what applying files would change, and changes nothing. Readers may plan: a
// reviewer of a catalog change should see its effect.
func (s *Service) PlanCatalog(ctx context.Context, p *gatehouse.Principal, files []catalog.File) (*catalog.Plan, error) {
	if err := requireReadAll(p); err != nil {
		return nil, err
	}
	doc, err := catalog.Parse(files)
	if err != nil {
		return nil, err
	}
	if err := catalog.CheckSecrets(doc, s.secrets); err != nil {
		return nil, err
	}
	return catalog.MakePlan(ctx, s.store, doc)
}

// ApplyResult is what an apply did, with the plan it carried out.
type ApplyResult struct {
	Plan   *catalog.Plan   `json:"plan"`
	Result *catalog.Result `json:"result"`
	// Birthright is what recomputing birthright grants did, when the apply added, changed or
	// removed a birthright role; nil otherwise.
	Birthright *BirthrightResult `json:"birthright,omitempty"`
}

// BirthrightResult counts a birthright recomputation.
type BirthrightResult struct {
	Identities   int      `json:"identities"`
	GrantsGained int      `json:"grants_gained"`
	GrantsLost   int      `json:"grants_lost"`
	Warnings     []string `json:"warnings,omitempty"`
}

// ApplyCatalog makes the stored catalog equal to files, atomically (admins only). The plan is
// made inside the same transaction as the apply, so nothing can change in between. rebind
// names the systems whose connector may move (a changed url) with its secrets unchanged
// (catalog.SecretRebind); secret references the server does not allow are refused.
func (s *Service) ApplyCatalog(ctx context.Context, p *gatehouse.Principal, files []catalog.File, prune bool, reason string, rebind ...string) (*ApplyResult, error) {
	if err := checkTexts(reasonText("reason", reason)); err != nil {
		return nil, err
	}
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	doc, err := catalog.Parse(files)
	if err != nil {
		return nil, err
	}
	if err := catalog.CheckSecrets(doc, s.secrets); err != nil {
		return nil, err
	}
	var out ApplyResult
	err = s.update(ctx, func(tx store.Tx) error {
		plan, err := catalog.MakePlan(ctx, tx, doc)
		if err != nil {
			return err
		}
		if err := catalog.CheckRebinds(plan, doc, rebind); err != nil {
			return err
		}
		res, err := catalog.Apply(ctx, tx, plan, catalog.ApplyOptions{
			Actor: p.Actor(), Prune: prune, Reason: reason, Now: s.now(),
		})
		if err != nil {
			return err
		}
		out = ApplyResult{Plan: plan, Result: res}
		if !changesBirthright(plan) {
			return nil
		}
		// Same transaction: a catalog whose rules changed never stands with grants that
		// follow the old rules.
		br, err := s.recomputeBirthright(ctx, tx, p, "catalog:"+prefix(plan.Digest, 12))
		out.Birthright = br
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// changesBirthright reports whether a catalog plan adds, changes or removes a role that has (or
// had) a birthright rule.
func changesBirthright(plan *catalog.Plan) bool {
	for _, c := range plan.Changes {
		if c.Kind != "role" {
			continue
		}
		for _, v := range []any{c.Before, c.After} {
			if r, ok := v.(*gatehouse.Role); ok && r != nil && r.Birthright != "" {
				return true
			}
		}
	}
	return false
}

// recomputeBirthright brings every active person's birthright grants in line with the stored
// rules, in tx.
func (s *Service) recomputeBirthright(ctx context.Context, tx store.Tx, p *gatehouse.Principal, ref string) (*BirthrightResult, error) {
	current, err := allIdentities(ctx, tx)
	if err != nil {
		return nil, err
	}
	grants, err := activeGrants(ctx, tx, s.now())
	if err != nil {
		return nil, err
	}
	cat, err := tx.LoadCatalog(ctx)
	if err != nil {
		return nil, err
	}
	roles, err := jml.CompileRoles(cat.Roles)
	if err != nil {
		return nil, err
	}
	st := &hrState{byID: map[string]*gatehouse.Identity{}, entitlements: map[string]*gatehouse.Entitlement{}}
	for _, e := range cat.Entitlements {
		st.entitlements[e.ID] = e
	}
	plan := jml.Recompute(current, roles, grants)
	if err := s.applyJML(ctx, tx, p, ref, plan, st); err != nil {
		return nil, err
	}
	return &BirthrightResult{Identities: len(plan.Items), GrantsGained: plan.Summary.GrantsGained,
		GrantsLost: plan.Summary.GrantsLost, Warnings: plan.Warnings}, nil
}

func prefix(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// pinnedPeople returns the identities a list of catalog pins names (Settings.SecurityApproverIDs
// and the like), skipping empty and unknown pins: powers are resolved by the identity pinned at
// catalog apply, never by whoever holds an email now.
func pinnedPeople(ctx context.Context, rd store.Reader, ids []string) ([]*gatehouse.Identity, error) {
	var out []*gatehouse.Identity
	for _, id := range ids {
		if id == "" {
			continue
		}
		who, err := rd.GetIdentity(ctx, id)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, who)
	}
	return out, nil
}
