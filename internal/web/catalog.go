package web

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// The catalog is readable by everyone signed in: people need to see what exists to ask for it.
// Who holds an entitlement is for readers only.

type systemRow struct {
	System       *gatehouse.System
	Entitlements int
}

func (h *handler) systems(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	cat, err := h.svc.GetCatalog(r.Context(), p)
	if err != nil {
		return err
	}
	count := map[string]int{}
	for _, e := range cat.Entitlements {
		count[e.System]++
	}
	rows := make([]systemRow, 0, len(cat.Systems))
	for _, s := range cat.Systems {
		rows = append(rows, systemRow{System: s, Entitlements: count[s.ID]})
	}
	h.render(w, r, p, http.StatusOK, "systems", &view{Title: "Systems", Section: "catalog", Tab: "systems", Data: rows})
	return nil
}

type systemView struct {
	System       *gatehouse.System
	Settings     []keyValue
	Entitlements []*gatehouse.Entitlement
	More         bool
	// Health (readers; systemhealth.go): the provisioning status, the test button for
	// operators, and the result of a test when the page answers one.
	Status  *service.SystemStatus
	CanTest bool
	Test    *service.SystemTest
}

func (h *handler) system(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	return h.systemPage(w, r, p, nil)
}

// systemPage renders a system's page, with the result of a connection test when test is set.
func (h *handler) systemPage(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal, test *service.SystemTest) error {
	ctx := r.Context()
	s, err := h.svc.GetSystem(ctx, p, r.PathValue("id"))
	if err != nil {
		return err
	}
	v := systemView{System: s, Test: test, CanTest: p.Has(gatehouse.RoleOperator) && h.svc.CanTestSystem(s)}
	if p.CanReadAll() {
		if v.Status, err = h.svc.SystemStatus(ctx, p, s.ID); err != nil {
			return err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.Connector.Settings)) {
		v.Settings = append(v.Settings, keyValue{k, settingText(k, s.Connector.Settings[k])})
	}
	page, err := h.svc.ListEntitlements(ctx, p, gatehouse.EntitlementFilter{System: s.ID, Limit: gatehouse.MaxLimit})
	if err != nil {
		return err
	}
	v.Entitlements, v.More = page.Items, page.NextCursor != ""
	h.render(w, r, p, http.StatusOK, "system", &view{Title: s.Name, Section: "catalog", Tab: "systems", Data: v})
	return nil
}

// settingText shows a connector setting. The catalog holds secrets only by reference (*_env,
// *_file) and refuses inline ones, but a page is the wrong place to find out that a check was
// missed: anything that looks like a secret, and passwords inside URLs, are masked anyway.
func settingText(key string, val any) string {
	k := strings.ToLower(key)
	if !strings.HasSuffix(k, "_env") && !strings.HasSuffix(k, "_file") {
		for _, w := range []string{"password", "passwd", "secret", "token", "api_key", "apikey", "private_key", "access_key"} {
			if strings.Contains(k, w) {
				return "(hidden)"
			}
		}
	}
	s := fmt.Sprint(val)
	if u, err := url.Parse(s); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return u.String()
		}
	}
	return s
}

type entitlementsView struct {
	Query, System, Risk string
	Filtered            bool
	Systems             []*gatehouse.System
	SystemNames         map[string]string
	Risks               []gatehouse.Risk
	Items               []*gatehouse.Entitlement
	NextURL, FirstURL   string
}

func (h *handler) entitlements(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	ctx := r.Context()
	q := r.URL.Query()
	var f gatehouse.EntitlementFilter
	if err := decodeFilter(q, &f); err != nil {
		return err
	}
	v := entitlementsView{
		Query:  f.Query,
		System: f.System,
		Risk:   string(f.Risk),
		Risks:  []gatehouse.Risk{gatehouse.RiskStandard, gatehouse.RiskSensitive, gatehouse.RiskPrivileged},
	}
	if v.Risk != "" && !slices.Contains(v.Risks, gatehouse.Risk(v.Risk)) {
		return gatehouse.Errorf(gatehouse.EINVALID, "risk %q is not one of standard, sensitive, privileged", v.Risk)
	}
	v.Filtered = f.Query != "" || f.System != "" || f.Risk != "" || f.Requestable != nil
	var err error
	if v.Systems, err = h.svc.ListSystems(ctx, p); err != nil {
		return err
	}
	v.SystemNames = map[string]string{}
	for _, s := range v.Systems {
		v.SystemNames[s.ID] = s.Name
	}
	f.Limit = pageSize
	page, err := h.svc.ListEntitlements(ctx, p, f)
	if err != nil {
		return err
	}
	v.Items = page.Items
	if page.NextCursor != "" {
		v.NextURL = pageURL("/catalog/entitlements", q, page.NextCursor)
	}
	if f.Cursor != "" {
		v.FirstURL = pageURL("/catalog/entitlements", q, "")
	}
	h.render(w, r, p, http.StatusOK, "entitlements", &view{Title: "Entitlements", Section: "catalog", Tab: "entitlements", Data: v})
	return nil
}

type entitlementView struct {
	Ent    *gatehouse.Entitlement
	System *gatehouse.System
	Roles  []*gatehouse.Role
	SoD    []*gatehouse.SoDRule

	ShowHolders bool
	Holders     []holderRow
	HoldersMore bool
	// Direct lists the active direct grants (source direct): made by an operator by hand rather
	// than decided by a request or a rule, each with who granted it and why.
	Direct     []directRow
	DirectMore bool
}

type directRow struct {
	*service.DirectGrant
	Identity *gatehouse.Identity // nil when not among the identities loaded
}

type holderRow struct {
	Grant    *gatehouse.Grant
	Identity *gatehouse.Identity // nil when not among the identities loaded (see entitlement)
	Expired  bool
}

func (h *handler) entitlement(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	ctx := r.Context()
	e, err := h.svc.GetEntitlement(ctx, p, r.PathValue("id"))
	if err != nil {
		return err
	}
	v := entitlementView{Ent: e, ShowHolders: p.CanReadAll()}
	cat, err := h.svc.GetCatalog(ctx, p)
	if err != nil {
		return err
	}
	for _, s := range cat.Systems {
		if s.ID == e.System {
			v.System = s
		}
	}
	for _, role := range cat.Roles {
		if slices.Contains(role.Entitlements, e.ID) {
			v.Roles = append(v.Roles, role)
		}
	}
	for _, rule := range cat.SoD {
		if slices.Contains(rule.Left, e.ID) || slices.Contains(rule.Right, e.ID) {
			v.SoD = append(v.SoD, rule)
		}
	}

	if v.ShowHolders {
		grants, err := h.svc.ListGrants(ctx, p, gatehouse.GrantFilter{EntitlementID: e.ID, Status: "active", Limit: pageSize})
		if err != nil {
			return err
		}
		v.HoldersMore = grants.NextCursor != ""
		people, err := h.identitiesByID(r, p, grants.Items)
		if err != nil {
			return err
		}
		now := h.svc.Now()
		for _, g := range grants.Items {
			v.Holders = append(v.Holders, holderRow{Grant: g, Identity: people[g.IdentityID], Expired: !g.Active(now)})
		}
		direct, err := h.svc.ListDirectGrants(ctx, p, e.ID, pageSize)
		if err != nil {
			return err
		}
		v.DirectMore = direct.NextCursor != ""
		if len(people) == 0 && len(direct.Items) > 0 {
			// identitiesByID reads identities only for a non-empty page of holders.
			if people, err = h.identitiesByID(r, p, []*gatehouse.Grant{direct.Items[0].Grant}); err != nil {
				return err
			}
		}
		for _, d := range direct.Items {
			v.Direct = append(v.Direct, directRow{DirectGrant: d, Identity: people[d.Grant.IdentityID]})
		}
	}
	h.render(w, r, p, http.StatusOK, "entitlement", &view{Title: e.Name, Section: "catalog", Tab: "entitlements", Data: v})
	return nil
}

// identitiesByID resolves the holders of a page of grants. The store has no "these ids" filter,
// so this reads one maximal page of identities as a map: one query, complete for up to
// gatehouse.MaxLimit identities; beyond that a holder may show by id only. A query per grant is
// what this avoids.
func (h *handler) identitiesByID(r *http.Request, p *gatehouse.Principal, grants []*gatehouse.Grant) (map[string]*gatehouse.Identity, error) {
	out := map[string]*gatehouse.Identity{}
	if len(grants) == 0 {
		return out, nil
	}
	page, err := h.svc.ListIdentities(r.Context(), p, gatehouse.IdentityFilter{Limit: gatehouse.MaxLimit})
	if err != nil {
		return nil, err
	}
	for _, i := range page.Items {
		out[i.ID] = i
	}
	return out, nil
}

type rolesView struct {
	Roles []*gatehouse.Role
}

func (h *handler) roles(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	roles, err := h.svc.ListRoles(r.Context(), p)
	if err != nil {
		return err
	}
	h.render(w, r, p, http.StatusOK, "roles", &view{Title: "Roles", Section: "catalog", Tab: "roles", Data: rolesView{Roles: roles}})
	return nil
}

type roleView struct {
	Role         *gatehouse.Role
	Entitlements []roleEntitlement
}

type roleEntitlement struct {
	ID     string
	Ent    *gatehouse.Entitlement // nil if the catalog lost it (apply validates, so rare)
	System *gatehouse.System
}

func (h *handler) role(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	role, err := h.svc.GetRole(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	ents, systems, err := h.catalogIndex(r, p)
	if err != nil {
		return err
	}
	v := roleView{Role: role}
	for _, id := range role.Entitlements {
		re := roleEntitlement{ID: id, Ent: ents[id]}
		if re.Ent != nil {
			re.System = systems[re.Ent.System]
		}
		v.Entitlements = append(v.Entitlements, re)
	}
	h.render(w, r, p, http.StatusOK, "role", &view{Title: role.Name, Section: "catalog", Tab: "roles", Data: v})
	return nil
}

type sodView struct {
	Rules []*gatehouse.SoDRule
	Names map[string]string // entitlement id → name
}

func (h *handler) sodRules(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	cat, err := h.svc.GetCatalog(r.Context(), p)
	if err != nil {
		return err
	}
	v := sodView{Rules: cat.SoD, Names: map[string]string{}}
	for _, e := range cat.Entitlements {
		v.Names[e.ID] = e.Name
	}
	h.render(w, r, p, http.StatusOK, "sod", &view{Title: "Separation of duties", Section: "catalog", Tab: "sod", Data: v})
	return nil
}
