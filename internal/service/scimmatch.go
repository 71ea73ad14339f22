package service

// Which person a SCIM write is about, and which keys it may not take. A SCIM User has two
// uniqueness keys in Gatehouse: userName (the identity's email, unique ignoring case) and the
// enterprise employeeNumber (the identity's employee id, unique company-wide, shared with the
// HR feed). externalId is the client's own identifier, kept as sent and never a key: two users
// may share it, and it matches nobody on a create. Only a create with the userName of a person
// this client deleted brings that person back (a rehire); nothing else reuses a deleted user's
// id (RFC 7643 section 3.1: an id is never reassigned).

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// scimCreateMatch checks next (a create) against the keys other identities hold. It returns
// the person this client deleted whose userName next has (a rehire), or nil for a new person,
// in which case next gets a fresh id (and, when the client sent no employeeNumber, that id as
// its employee id: a key no client value can collide with).
func (s *InboundSCIM) scimCreateMatch(ctx context.Context, tx store.Tx, src string, next *gatehouse.Identity) (*gatehouse.Identity, error) {
	cur, err := scimUserNameHolder(ctx, tx, src, next.Email, "")
	if err != nil {
		return nil, err
	}
	if cur != nil {
		next.ID, next.StartDate = cur.ID, cur.StartDate
		if next.EmployeeID == "" {
			next.EmployeeID = cur.EmployeeID
		}
	} else {
		id, err := uuid.NewV7()
		if err != nil {
			return nil, err
		}
		next.ID = id.String()
		if next.EmployeeID == "" {
			next.EmployeeID = next.ID
		}
	}
	if err := scimEmployeeNumberFree(ctx, tx, src, next.EmployeeID, next.ID); err != nil {
		return nil, err
	}
	return cur, nil
}

// scimReplaceCheck refuses a PUT or PATCH of cur that would take a userName or an employee
// number another identity holds, naming the attribute and the holder (the store's unique
// indexes would refuse it too, but in Gatehouse's words, not the client's).
func scimReplaceCheck(ctx context.Context, r store.Reader, src string, cur, next *gatehouse.Identity) error {
	if !strings.EqualFold(cur.Email, next.Email) {
		held, err := scimUserNameHolder(ctx, r, src, next.Email, cur.ID)
		if err != nil {
			return err
		}
		if held != nil {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "userName %q is held by user %s, which this client deleted: a create with that userName rehires that person", next.Email, held.ID)
		}
	}
	if next.EmployeeID != cur.EmployeeID {
		return scimEmployeeNumberFree(ctx, r, src, next.EmployeeID, cur.ID)
	}
	return nil
}

// scimUserNameHolder looks userName up by email only (a renamed person's old userName is no
// key). It returns ECONFLICT when an identity other than self holds it and is visible or of
// another source; a person this client deleted is returned (a create rehires them).
func scimUserNameHolder(ctx context.Context, r store.Reader, src, userName, self string) (*gatehouse.Identity, error) {
	found, err := r.GetIdentity(ctx, userName)
	switch {
	case gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND:
		return nil, nil
	case err != nil:
		return nil, err
	case !strings.EqualFold(found.Email, userName) || found.ID == self:
		// GetIdentity tries the id, then the email, then the employee id: a match other
		// than the email means nobody has this email.
		return nil, nil
	case found.Source != src || found.Kind == gatehouse.KindService:
		return nil, gatehouse.Errorf(gatehouse.ECONFLICT, "userName %q is already used by an identity of source %q",
			userName, sourceLabel(ctx, r, found.Source))
	case scimVisible(found):
		return nil, gatehouse.Errorf(gatehouse.ECONFLICT, "userName %q is already used by user %s", userName, found.ID)
	}
	return found, nil
}

// scimEmployeeNumberFree refuses an employee number held by an identity other than self,
// compared ignoring case: some HR systems issue E100 and e100 as one person's id in two
// spellings, and a client that changes the case must not make a second person of them. The
// number is stored as sent; the HR feed keeps its own, case-exact rule. The employee id is
// unique company-wide, a deleted person keeps theirs (for the audit trail and a rehire), and
// so it is never handed to someone else.
func scimEmployeeNumberFree(ctx context.Context, r store.Reader, src, employeeID, self string) error {
	if employeeID == "" {
		return nil
	}
	h, err := employeeNumberHolder(ctx, r, employeeID, self)
	if err != nil {
		return err
	}
	if h == nil {
		// Nor may it be another identity's id or email: lookups that take any key (a manager
		// reference typed by a person, a member filter) would find that identity instead.
		other, err := r.GetIdentity(ctx, employeeID)
		switch {
		case gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND:
			return nil
		case err != nil:
			return err
		case other.ID != self && (other.ID == employeeID || strings.EqualFold(other.Email, employeeID)):
			return gatehouse.Errorf(gatehouse.ECONFLICT, "employeeNumber %q is the id or the email of another identity; an employee number may not name someone else", employeeID)
		}
		return nil
	}
	held := fmt.Sprintf("employeeNumber %q", employeeID)
	if h.EmployeeID != employeeID {
		held = fmt.Sprintf("employeeNumber %q (as %q: employee numbers are compared ignoring case)", employeeID, h.EmployeeID)
	}
	switch {
	case h.Source != src || h.Kind == gatehouse.KindService:
		return gatehouse.Errorf(gatehouse.ECONFLICT, "%s is already used by an identity of source %q (employee numbers are unique company-wide)",
			held, sourceLabel(ctx, r, h.Source))
	case scimVisible(h):
		return gatehouse.Errorf(gatehouse.ECONFLICT, "%s is already used by user %s", held, h.ID)
	}
	return gatehouse.Errorf(gatehouse.ECONFLICT, "%s is held by user %s (userName %q), which this client deleted: a create with that userName rehires that person; an employee number is never reused for someone else",
		held, h.ID, h.Email)
}

// employeeNumberHolder returns an identity other than self whose employee id is employeeID
// ignoring case (the one with exactly that id first), or nil. The exact lookup uses the
// index; the one ignoring case scans the employee ids.
func employeeNumberHolder(ctx context.Context, r store.Reader, employeeID, self string) (*gatehouse.Identity, error) {
	page, err := r.ListIdentities(ctx, gatehouse.IdentityFilter{EmployeeID: employeeID, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("identity with employee id %q: %w", employeeID, err)
	}
	if len(page.Items) == 1 && page.Items[0].ID != self {
		return page.Items[0], nil
	}
	// A handful of spellings at most; self may be one of them.
	page, err = r.ListIdentities(ctx, gatehouse.IdentityFilter{EmployeeIDFold: employeeID, Limit: gatehouse.MaxLimit})
	if err != nil {
		return nil, fmt.Errorf("identity with employee id %q ignoring case: %w", employeeID, err)
	}
	for _, i := range page.Items {
		if i.ID != self {
			return i, nil
		}
	}
	return nil, nil
}

// SCIMUsersByExternalID returns every person SCIM shows whose externalId is externalID,
// compared exactly (externalId is caseExact, and no key: several users may share one).
func (s *InboundSCIM) SCIMUsersByExternalID(ctx context.Context, p *gatehouse.Principal, externalID string) ([]*gatehouse.Identity, error) {
	if err := requireSCIM(p); err != nil {
		return nil, err
	}
	var out []*gatehouse.Identity
	f := scimFilter(gatehouse.IdentityFilter{SCIMExternalID: externalID, Limit: gatehouse.MaxLimit})
	for {
		page, err := s.store.ListIdentities(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("users with externalId %q: %w", externalID, err)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out, nil
		}
		f.Cursor = page.NextCursor
	}
}

// SCIMUserByEmployeeNumber returns the person SCIM shows whose employee number is employeeID
// (a user's manager, an employeeNumber eq filter), by employee id only; ENOTFOUND when there is
// none.
func (s *InboundSCIM) SCIMUserByEmployeeNumber(ctx context.Context, p *gatehouse.Principal, employeeID string) (*gatehouse.Identity, error) {
	if err := requireSCIM(p); err != nil {
		return nil, err
	}
	i, err := identityByEmployeeID(ctx, s.store, employeeID)
	if err == nil && !scimVisible(i) {
		err = gatehouse.Errorf(gatehouse.ENOTFOUND, "no user with employeeNumber %q", employeeID)
	}
	return i, err
}
