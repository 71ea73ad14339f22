package service

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/store"
)

// GetSettings returns the catalog settings. Everyone signed in may read the catalog: people
// need to see what exists to ask for it.
func (s *Catalog) GetSettings(ctx context.Context, p *gatehouse.Principal) (gatehouse.Settings, error) {
	if err := authenticated(p); err != nil {
		return gatehouse.Settings{}, err
	}
	return s.store.GetSettings(ctx)
}

// GetCatalog returns the whole stored catalog.
func (s *Catalog) GetCatalog(ctx context.Context, p *gatehouse.Principal) (*gatehouse.Catalog, error) {
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
func (s *Catalog) ListSystems(ctx context.Context, p *gatehouse.Principal) ([]*gatehouse.System, error) {
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
func (s *Catalog) GetSystem(ctx context.Context, p *gatehouse.Principal, id string) (*gatehouse.System, error) {
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
func (s *Catalog) ListEntitlements(ctx context.Context, p *gatehouse.Principal, f gatehouse.EntitlementFilter) (gatehouse.Page[*gatehouse.Entitlement], error) {
	if err := authenticated(p); err != nil {
		return gatehouse.Page[*gatehouse.Entitlement]{}, err
	}
	return s.store.ListEntitlements(ctx, f)
}

// GetEntitlement returns one entitlement.
func (s *Catalog) GetEntitlement(ctx context.Context, p *gatehouse.Principal, id string) (*gatehouse.Entitlement, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	return s.store.GetEntitlement(ctx, id)
}

// ListRoles lists roles.
func (s *Catalog) ListRoles(ctx context.Context, p *gatehouse.Principal) ([]*gatehouse.Role, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	return s.store.ListRoles(ctx)
}

// GetRole returns one role.
func (s *Catalog) GetRole(ctx context.Context, p *gatehouse.Principal, id string) (*gatehouse.Role, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	return s.store.GetRole(ctx, id)
}

// ListSoDRules lists separation-of-duties rules.
func (s *Catalog) ListSoDRules(ctx context.Context, p *gatehouse.Principal) ([]*gatehouse.SoDRule, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	return s.store.ListSoDRules(ctx)
}

// GetSoDRule returns one SoD rule.
func (s *Catalog) GetSoDRule(ctx context.Context, p *gatehouse.Principal, id string) (*gatehouse.SoDRule, error) {
	if err := authenticated(p); err != nil {
		return nil, err
	}
	return s.store.GetSoDRule(ctx, id)
}

// PlanCatalog says what applying files would change, and changes nothing. Readers may plan: a
// reviewer of a catalog change should see its effect. The plan says which grants the apply
// revokes and carries the confirmation the apply needs to revoke them (catalog.Revocations).
func (s *Catalog) PlanCatalog(ctx context.Context, p *gatehouse.Principal, files []catalog.File) (*catalog.Plan, error) {
	if err := requireReadAll(p); err != nil {
		return nil, err
	}
	doc, err := catalog.Parse(files, s.connectors)
	if err != nil {
		return nil, err
	}
	if err := catalog.CheckSecrets(doc, s.secrets); err != nil {
		return nil, err
	}
	plan, err := catalog.MakePlan(ctx, s.store, doc)
	if err != nil {
		return nil, err
	}
	// Read apart from the plan: a grant given in between changes the confirmation, and the
	// apply, which recomputes both in one transaction, refuses it.
	if plan.Revocations, err = s.planRevocations(ctx, s.store, plan, doc); err != nil {
		return nil, err
	}
	return plan, nil
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

// CatalogApply says how to apply a catalog.
type CatalogApply struct {
	// Prune allows removing entitlements people hold, revoking their grants.
	Prune  bool   `json:"prune,omitempty"`
	Reason string `json:"reason,omitempty"` // why, for the audit log
	// RebindSecrets names the systems whose connector may move (a changed url) with its
	// secrets unchanged (catalog.SecretRebind).
	RebindSecrets []string `json:"rebind_secrets,omitempty"`
	// ConfirmRevocations is the plan's Revocations.Confirmation: without it an apply that
	// revokes grants is refused (catalog.UnconfirmedError), and with that of another plan too.
	ConfirmRevocations string `json:"confirm_revocations,omitempty"`
}

// CatalogRequest is the JSON body of a catalog plan or apply (docs/api.md): the catalog's files
// and, for an apply, its options. A plan takes no options.
type CatalogRequest struct {
	Files []CatalogFile `json:"files"`
	CatalogApply
}

// CatalogFile is one catalog file as it crosses the API: its name (problems are located in it,
// and the catalog digest covers it) and its YAML as text.
type CatalogFile struct {
	Name    string `json:"name"`
	Content string `json:"content"`
}

// CatalogFilesOf gives files read with catalog.Load the form they cross the API in.
func CatalogFilesOf(files []catalog.File) []CatalogFile {
	out := make([]CatalogFile, len(files))
	for i, f := range files {
		out[i] = CatalogFile{Name: f.Name, Content: string(f.Content)}
	}
	return out
}

// ApplyCatalog applies files with prune, reason and rebind and no confirmation of
// revocations: an apply that would revoke grants is refused (see ApplyCatalogWith).
func (s *Catalog) ApplyCatalog(ctx context.Context, p *gatehouse.Principal, files []catalog.File, prune bool, reason string, rebind ...string) (*ApplyResult, error) {
	return s.ApplyCatalogWith(ctx, p, files, CatalogApply{Prune: prune, Reason: reason, RebindSecrets: rebind})
}

// ApplyCatalogWith makes the stored catalog equal to files, atomically (admins only). The plan
// is made inside the same transaction as the apply, so nothing can change in between. Secret
// references the server does not allow are refused, and so is a connector that moves with its
// secrets unless in.RebindSecrets names it. An apply that revokes grants (of the entitlements
// it removes, or birthright grants its rules no longer give) is refused unless
// in.ConfirmRevocations is the confirmation of exactly those revocations; the catalog.apply
// audit event records the revocations confirmed.
func (s *Catalog) ApplyCatalogWith(ctx context.Context, p *gatehouse.Principal, files []catalog.File, in CatalogApply) (*ApplyResult, error) {
	if err := checkTexts(reasonText("reason", in.Reason)); err != nil {
		return nil, err
	}
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	doc, err := catalog.Parse(files, s.connectors)
	if err != nil {
		return nil, err
	}
	if err := catalog.CheckSecrets(doc, s.secrets); err != nil {
		return nil, err
	}
	var out ApplyResult
	err = s.change(ctx, func(tx store.Tx, fx *effects) error {
		plan, err := catalog.MakePlan(ctx, tx, doc)
		if err != nil {
			return err
		}
		if err := catalog.CheckRebinds(plan, doc, in.RebindSecrets); err != nil {
			return err
		}
		if plan.Revocations, err = s.planRevocations(ctx, tx, plan, doc); err != nil {
			return err
		}
		// Without prune, removing entitlements people hold is refused by catalog.Apply, with
		// its own message (re-run with --prune): that comes first.
		if in.Prune || len(plan.Blocked()) == 0 {
			if err := catalog.CheckConfirmation(plan.Revocations, in.ConfirmRevocations); err != nil {
				return err
			}
		}
		res, err := catalog.Apply(ctx, tx, plan, catalog.ApplyOptions{
			Actor: p.Actor(), Prune: in.Prune, Reason: in.Reason, Now: s.now(), Revocations: plan.Revocations,
		})
		if err != nil {
			return err
		}
		out = ApplyResult{Plan: plan, Result: res}
		// Every system is reconciled for everybody: a rule or a group may concern anyone. An
		// apply that changed nothing (the stored catalog again) wrote nothing and implies nothing.
		if !res.NoChange {
			fx.reconcile.Catalog()
		}
		for _, r := range res.Revoked {
			fx.revoked(r.GrantID, r.IdentityID, "")
		}
		revoked := res.Revoked
		if changesBirthright(plan) {
			// Same transaction: a catalog whose rules changed never stands with grants that
			// follow the old rules.
			br, lost, err := s.recomputeBirthright(ctx, tx, fx, p, "catalog:"+prefix(plan.Digest, 12))
			if err != nil {
				return err
			}
			out.Birthright = br
			revoked = append(revoked, lost...)
		}
		// What was revoked must be what was confirmed. They are computed from the same state
		// in the same transaction, so a difference is a bug: revoke nothing then.
		if got := catalog.NewRevocations(plan, revoked); got.ConfirmationOf() != plan.Revocations.ConfirmationOf() {
			return fmt.Errorf("catalog apply: revoked %s, but the plan said %s", got, plan.Revocations)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// planRevocations says which grants applying plan (the catalog of doc) revokes, in r: the
// active grants of the entitlements it removes, and the birthright grants that the roles of
// doc no longer give to the people holding them (the grants of removed entitlements aside:
// they are revoked with the entitlement).
func (s *Catalog) planRevocations(ctx context.Context, r store.Reader, plan *catalog.Plan, doc *catalog.Document) (*catalog.Revocations, error) {
	revoked, err := catalog.PrunedGrants(ctx, r, plan)
	if err != nil {
		return nil, err
	}
	if changesBirthright(plan) {
		removed := map[string]bool{}
		for _, c := range plan.Changes {
			if c.Op == catalog.OpRemove && c.Kind == catalog.KindEntitlement {
				removed[c.ID] = true
			}
		}
		current, err := allIdentities(ctx, r)
		if err != nil {
			return nil, err
		}
		grants, err := activeGrants(ctx, r, s.now())
		if err != nil {
			return nil, err
		}
		for id, held := range grants {
			grants[id] = slices.DeleteFunc(held, func(g *gatehouse.Grant) bool { return removed[g.EntitlementID] })
		}
		roles, err := jml.CompileRoles(doc.Catalog.Roles)
		if err != nil {
			return nil, err
		}
		revoked = append(revoked, birthrightLosses(jml.Recompute(current, roles, grants))...)
	}
	return catalog.NewRevocations(plan, revoked), nil
}

// birthrightLosses lists the grants a recomputation revokes.
func birthrightLosses(plan *jml.Plan) []catalog.Revoked {
	var out []catalog.Revoked
	for _, it := range plan.Items {
		for _, l := range it.Lose {
			out = append(out, catalog.Revoked{GrantID: l.GrantID, IdentityID: it.IdentityID, Birthright: true})
		}
	}
	return out
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
// rules, in tx, and returns the grants it revoked.
func (s *Catalog) recomputeBirthright(ctx context.Context, tx store.Tx, fx *effects, p *gatehouse.Principal, ref string) (*BirthrightResult, []catalog.Revoked, error) {
	current, err := allIdentities(ctx, tx)
	if err != nil {
		return nil, nil, err
	}
	grants, err := activeGrants(ctx, tx, s.now())
	if err != nil {
		return nil, nil, err
	}
	cat, err := tx.LoadCatalog(ctx)
	if err != nil {
		return nil, nil, err
	}
	roles, err := jml.CompileRoles(cat.Roles)
	if err != nil {
		return nil, nil, err
	}
	st := &hrState{entitlements: map[string]*gatehouse.Entitlement{}}
	for _, e := range cat.Entitlements {
		st.entitlements[e.ID] = e
	}
	plan := jml.Recompute(current, roles, grants)
	if err := s.applyJML(ctx, tx, fx, p, ref, plan, st); err != nil {
		return nil, nil, err
	}
	return &BirthrightResult{Identities: len(plan.Items), GrantsGained: plan.Summary.GrantsGained,
		GrantsLost: plan.Summary.GrantsLost, Warnings: plan.Warnings}, birthrightLosses(plan), nil
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
