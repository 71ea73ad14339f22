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
	c, err := newStandingCheck(ctx, rd, p)
	if err != nil {
		return "", err
	}
	if err := c.visit(plan.Items); err != nil {
		return "", err
	}
	return c.reason(), nil
}

// standingCheck is hrStandingHold over a plan handed over a chunk of items at a time (visit,
// before the items are applied: a joiner is an item without an identity id yet), then reason.
type standingCheck struct {
	ctx  context.Context
	rd   store.Reader
	p    *gatehouse.Principal
	self *gatehouse.Identity
	cat  *gatehouse.Catalog
	why  []string
	more int // reasons beyond the ones kept
}

// standingReasons is how many reasons a hold names: enough to say why; the dry run lists
// everyone.
const standingReasons = 5

func newStandingCheck(ctx context.Context, rd store.Reader, p *gatehouse.Principal) (*standingCheck, error) {
	c := &standingCheck{ctx: ctx, rd: rd, p: p}
	if p.IdentityID != "" {
		var err error
		if c.self, err = rd.GetIdentity(ctx, p.IdentityID); err != nil {
			return nil, fmt.Errorf("uploader: %w", err)
		}
	}
	return c, nil
}

// hold records one reason.
func (c *standingCheck) hold(why string) {
	if len(c.why) < standingReasons {
		c.why = append(c.why, why)
		return
	}
	c.more++
}

// reason says why the items visited wait for an admin, or "".
func (c *standingCheck) reason() string {
	if len(c.why) == 0 {
		return ""
	}
	more := ""
	if c.more > 0 {
		more = fmt.Sprintf(" and %d more", c.more)
	}
	return fmt.Sprintf("the import changes what %s may not change by hand, so an admin decides: %s%s",
		c.p.Actor(), strings.Join(c.why, "; "), more)
}

// visit checks items.
func (c *standingCheck) visit(items []*jml.Item) error {
	ctx, rd, p, self := c.ctx, c.rd, c.p, c.self
	for _, it := range items {
		if it.Write() && it.IdentityID == "" {
			// A joiner under the uploader: adding someone is no way to become their manager
			// either, as by hand (CreateIdentity).
			if self != nil && self.EmployeeID != "" && strings.EqualFold(it.Identity.ManagerID, self.EmployeeID) {
				c.hold(fmt.Sprintf("%s: a new person whose manager is the uploader", it.Email))
			}
			continue
		}
		if !it.Write() {
			continue
		}
		var standing []string // email, status, end_date
		manager := ""
		who := it.Email // named as people know them now, before the file renames them
		for _, ch := range it.Changes {
			switch ch.Field {
			case "email":
				who = ch.From
				if !strings.EqualFold(ch.From, ch.To) {
					standing = append(standing, ch.Field)
				}
			case "status", "end_date": // a passed end date is a termination (ApplyHRDates)
				standing = append(standing, ch.Field)
			case "manager_id":
				manager = ch.To
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
			for _, ch := range it.Changes {
				if slices.Contains(standing, ch.Field) || ch.Field == "manager_id" ||
					(!p.Has(gatehouse.RoleAdmin) && birthrightField(ch.Field)) {
					fields = append(fields, ch.Field)
				}
			}
			if len(fields) > 0 {
				c.hold(fmt.Sprintf("%s: own record (%s)", who, strings.Join(fields, ", ")))
			}
			continue
		case self != nil && manager != "" && strings.EqualFold(manager, self.EmployeeID):
			c.hold(fmt.Sprintf("%s: makes the uploader their manager", who))
			continue
		}
		if len(standing) == 0 || p.Has(gatehouse.RoleAdmin) {
			continue
		}
		whose := it.Identity
		if whose.HasRole(gatehouse.RoleAdmin) {
			c.hold(fmt.Sprintf("%s: %s of an admin", who, strings.Join(standing, " and ")))
			continue
		}
		if c.cat == nil {
			var err error
			if c.cat, err = rd.LoadCatalog(ctx); err != nil {
				return err
			}
		}
		if powers := designatedPowersIn(c.cat, whose); len(powers) > 0 {
			c.hold(fmt.Sprintf("%s: %s of a holder of a designated power (%s)", who, strings.Join(standing, " and "), strings.Join(powers, "; ")))
		}
	}
	return nil
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
