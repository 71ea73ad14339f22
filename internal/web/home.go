package web

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

type homeView struct {
	Identity  *gatehouse.Identity // nil for the bootstrap admin, which has no identity
	Bootstrap bool
	Roles     []gatehouse.AccessRole

	MyGrants     int
	MyGrantsMore bool // more than one page; MyGrants is then a lower bound

	Systems, Entitlements, CatalogRoles, SoDRules int

	// Only for readers (admin, operator, auditor).
	Reader       bool
	Identities   int
	Grants       int
	GrantsMore   bool
	Verification *service.Verification
}

// home answers "who am I here, and is everything in order": the signed-in identity, its
// Gatehouse roles, the size of what it may see, and for readers whether the audit chain holds.
func (h *handler) home(w http.ResponseWriter, r *http.Request, p *gatehouse.Principal) error {
	ctx := r.Context()
	v := homeView{Bootstrap: p.Bootstrap, Roles: p.Roles, Reader: p.CanReadAll()}
	if p.IdentityID != "" {
		id, err := h.svc.GetIdentity(ctx, p, p.IdentityID)
		if err != nil {
			return err
		}
		v.Identity = id
		mine, err := h.svc.ListGrants(ctx, p, gatehouse.GrantFilter{IdentityID: id.ID, Status: "active", Limit: gatehouse.MaxLimit})
		if err != nil {
			return err
		}
		v.MyGrants, v.MyGrantsMore = len(mine.Items), mine.NextCursor != ""
	}
	cat, err := h.svc.GetCatalog(ctx, p)
	if err != nil {
		return err
	}
	v.Systems, v.Entitlements, v.CatalogRoles, v.SoDRules = len(cat.Systems), len(cat.Entitlements), len(cat.Roles), len(cat.SoD)
	if v.Reader {
		if v.Identities, err = h.svc.CountIdentities(ctx, p, gatehouse.IdentityFilter{}); err != nil {
			return err
		}
		// The service has no grant count, so count one maximal page of active grants; beyond
		// it the page says "1000+".
		all, err := h.svc.ListGrants(ctx, p, gatehouse.GrantFilter{Status: "active", Limit: gatehouse.MaxLimit})
		if err != nil {
			return err
		}
		v.Grants, v.GrantsMore = len(all.Items), all.NextCursor != ""
		if v.Verification, err = h.svc.RecentVerification(ctx, p, time.Minute); err != nil {
			return err
		}
	}
	h.render(w, r, p, http.StatusOK, "home", &view{Title: "Home", Section: "home", Data: v})
	return nil
}
