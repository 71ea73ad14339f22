package service

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/store"
)

// hrStandingHold says why an HR import uploaded by p waits for an admin, or "" when it need
// not. The file is the uploader's to write, so it is held to what the uploader may change by
// hand (mayChangeStanding, notOwnManager, UpdateIdentity): nobody changes their own record, nor
// makes themselves someone's manager, and only an admin changes the email, status or end date
// of an admin or of someone holding a designated power. A change of that kind is held, as the leaver
// guard holds one, for an admin to approve (ApproveHRImport): a legitimate one (an approver who
// leaves) still happens, with a second person's say.
func hrStandingHold(ctx context.Context, rd store.Reader, p *gatehouse.Principal, plan *jml.Plan) (string, error) {
	var self *gatehouse.Identity
	if p.IdentityID != "" {
		var err error
		if self, err = rd.GetIdentity(ctx, p.IdentityID); err != nil {
			return "", fmt.Errorf("uploader: %w", err)
		}
	}
	var cat *gatehouse.Catalog
	var why []string
	for _, it := range plan.Items {
		if it.Write() && it.IdentityID == "" {
			// A joiner under the uploader: adding someone is no way to become their manager
			// either, as by hand (CreateIdentity).
			if self != nil && self.EmployeeID != "" && strings.EqualFold(it.Identity.ManagerID, self.EmployeeID) {
				why = append(why, fmt.Sprintf("%s: a new person whose manager is the uploader", it.Email))
			}
			continue
		}
		if !it.Write() {
			continue
		}
		var standing []string // email, status, end_date
		manager := ""
		who := it.Email // named as people know them now, before the file renames them
		for _, c := range it.Changes {
			switch c.Field {
			case "email":
				who = c.From
				if !strings.EqualFold(c.From, c.To) {
					standing = append(standing, c.Field)
				}
			case "status", "end_date": // a passed end date is a termination (ApplyHRDates)
				standing = append(standing, c.Field)
			case "manager_id":
				manager = c.To
			}
		}
		switch {
		case self != nil && it.IdentityID == self.ID:
			// One's own standing and manager, and (but for an admin, who writes the birthright
			// rules anyway) the fields birthright rules decide on: moving oneself to another
			// department would grant oneself its birthright roles. Names and dates that grant
			// nothing still apply, so that the company's feed, holding the uploader's own row,
			// is not held for every correction.
			var fields []string
			for _, c := range it.Changes {
				if slices.Contains(standing, c.Field) || c.Field == "manager_id" ||
					(!p.Has(gatehouse.RoleAdmin) && birthrightField(c.Field)) {
					fields = append(fields, c.Field)
				}
			}
			if len(fields) > 0 {
				why = append(why, fmt.Sprintf("%s: own record (%s)", who, strings.Join(fields, ", ")))
			}
			continue
		case self != nil && manager != "" && strings.EqualFold(manager, self.EmployeeID):
			why = append(why, fmt.Sprintf("%s: makes the uploader their manager", who))
			continue
		}
		if len(standing) == 0 || p.Has(gatehouse.RoleAdmin) {
			continue
		}
		whose := it.Identity
		if whose.HasRole(gatehouse.RoleAdmin) {
			why = append(why, fmt.Sprintf("%s: %s of an admin", who, strings.Join(standing, " and ")))
			continue
		}
		if cat == nil {
			var err error
			if cat, err = rd.LoadCatalog(ctx); err != nil {
				return "", err
			}
		}
		if powers := designatedPowersIn(cat, whose); len(powers) > 0 {
			why = append(why, fmt.Sprintf("%s: %s of a holder of a designated power (%s)", who, strings.Join(standing, " and "), strings.Join(powers, "; ")))
		}
	}
	if len(why) == 0 {
		return "", nil
	}
	const most = 5 // enough to say why; the dry run lists everyone
	more := ""
	if len(why) > most {
		more = fmt.Sprintf(" and %d more", len(why)-most)
		why = why[:most]
	}
	return fmt.Sprintf("the import changes what %s may not change by hand, so an admin decides: %s%s",
		p.Actor(), strings.Join(why, "; "), more), nil
}

// birthrightField reports whether an HR field is one birthright rules are written over (see
// the catalog's birthright expressions): who someone is in the organisation, not their name.
func birthrightField(field string) bool {
	switch field {
	case "department", "title", "location", "employment_type":
		return true
	}
	return strings.HasPrefix(field, "attributes.")
}
