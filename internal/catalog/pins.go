package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Pin is one designated email (a security approver, an emergency operator, an owner, a person
// named in an approval chain) and the identity apply pins it to. Powers are checked against the
// pinned identity, never the email: renaming someone, or giving their old address to someone
// else, does not move a power.
type Pin struct {
	Kind  string `json:"kind"`  // settings | system | entitlement
	ID    string `json:"id"`    // "settings" for the settings
	Field string `json:"field"` // security_approvers[0], owner, approval[2]
	Email string `json:"email"`
	// IdentityID is who the email names now; Name says who that is for people reading the plan
	// ("Ada Lovelace, E1001").
	IdentityID string `json:"identity_id"`
	Name       string `json:"name"`
	// WasID and Was are the identity the stored catalog pins the same place to, when it is
	// someone else: the address now belongs to another person. Empty for a new pin.
	WasID string `json:"was_id,omitempty"`
	Was   string `json:"was,omitempty"`
}

// String is the pin as a plan shows it: "@ settings.security_approvers[0]: sec@example.com is
// pinned to Sam Sec, E1001 (id …)", and "(was …: the address now names someone else)" when the
// pin moved.
func (pin Pin) String() string {
	where := pin.Kind + " " + pin.ID + " " + pin.Field
	if pin.Kind == KindSettings {
		where = "settings." + pin.Field
	}
	out := fmt.Sprintf("@ %s: %s is pinned to %s", where, pin.Email, pin.Name)
	if pin.WasID != "" {
		out += fmt.Sprintf(" (was %s: the address now names someone else)", pin.Was)
	}
	return out
}

// personRef is a place in the catalog that names a person by email, and where its pin goes.
type personRef struct {
	email, kind, id, field string
	report                 bool    // a defaulted owner is checked where it was written
	pin                    *string // where the identity id goes
	was                    string  // the stored pin of the same place
}

// pinPeople looks up every owner and approver email among identities, pins each place to the
// identity found (doc's …ID fields), and returns the pins that are new or changed against the
// stored catalog. A catalog that names an owner nobody can sign in as has no one to approve or
// review that access: unknown emails are Problems, with the file and line they were written on.
func pinPeople(ctx context.Context, r store.Reader, doc *Document, stored *gatehouse.Catalog) ([]Pin, error) {
	c := doc.Catalog
	old := struct {
		sec, emg map[string]string
		sys      map[string]*gatehouse.System
		ent      map[string]*gatehouse.Entitlement
	}{map[string]string{}, map[string]string{}, map[string]*gatehouse.System{}, map[string]*gatehouse.Entitlement{}}
	if stored != nil {
		for i, e := range stored.Settings.SecurityApprovers {
			if i < len(stored.Settings.SecurityApproverIDs) {
				old.sec[strings.ToLower(e)] = stored.Settings.SecurityApproverIDs[i]
			}
		}
		for i, e := range stored.Settings.EmergencyOperators {
			if i < len(stored.Settings.EmergencyOperatorIDs) {
				old.emg[strings.ToLower(e)] = stored.Settings.EmergencyOperatorIDs[i]
			}
		}
		for _, s := range stored.Systems {
			old.sys[s.ID] = s
		}
		for _, e := range stored.Entitlements {
			old.ent[e.ID] = e
		}
	}
	var refs []personRef
	var fills []func()
	c.Settings.SecurityApproverIDs = make([]string, len(c.Settings.SecurityApprovers))
	for i, e := range c.Settings.SecurityApprovers {
		refs = append(refs, personRef{e, KindSettings, KindSettings, fmt.Sprintf("security_approvers[%d]", i), true,
			&c.Settings.SecurityApproverIDs[i], old.sec[strings.ToLower(e)]})
	}
	c.Settings.EmergencyOperatorIDs = nil
	if len(c.Settings.EmergencyOperators) > 0 {
		c.Settings.EmergencyOperatorIDs = make([]string, len(c.Settings.EmergencyOperators))
	}
	for i, e := range c.Settings.EmergencyOperators {
		refs = append(refs, personRef{e, KindSettings, KindSettings, fmt.Sprintf("emergency_operators[%d]", i), true,
			&c.Settings.EmergencyOperatorIDs[i], old.emg[strings.ToLower(e)]})
	}
	for _, s := range c.Systems {
		ref := personRef{s.Owner, KindSystem, s.ID, "owner", true, &s.OwnerID, ""}
		if o := old.sys[s.ID]; o != nil && strings.EqualFold(o.Owner, s.Owner) {
			ref.was = o.OwnerID
		}
		refs = append(refs, ref)
	}
	for _, e := range c.Entitlements {
		o := old.ent[e.ID]
		// A defaulted owner is the system's owner, checked (and reported) at the system.
		ref := personRef{e.Owner, KindEntitlement, e.ID, "owner", doc.written(KindEntitlement, e.ID, "owner"), &e.OwnerID, ""}
		if o != nil && strings.EqualFold(o.Owner, e.Owner) {
			ref.was = o.OwnerID
		}
		refs = append(refs, ref)
		e.ApproverIDs = nil
		for i, step := range e.Approval {
			if !strings.Contains(step, "@") {
				continue
			}
			if e.ApproverIDs == nil {
				e.ApproverIDs = map[string]string{}
			}
			key := strings.ToLower(step)
			ref := personRef{step, KindEntitlement, e.ID, fmt.Sprintf("approval[%d]", i), true, new(string), ""}
			if o != nil {
				ref.was = o.ApproverID(step)
			}
			refs = append(refs, ref)
			// The map entry is written once the identity is known (below).
			fills = append(fills, func(m map[string]string, p *string) func() { return func() { m[key] = *p } }(e.ApproverIDs, ref.pin))
		}
	}
	known := map[string]*gatehouse.Identity{}
	var probs Problems
	var pins []Pin
	for _, ref := range refs {
		if ref.email == "" {
			continue // validation reports a missing owner
		}
		key := strings.ToLower(ref.email)
		who, looked := known[key]
		if !looked {
			id, err := r.GetIdentity(ctx, ref.email)
			switch {
			case err == nil:
				who = id
			case gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND:
			default:
				return nil, fmt.Errorf("catalog plan: look up %s: %w", ref.email, err)
			}
			known[key] = who
		}
		if who == nil {
			if ref.report {
				pos := doc.Pos(ref.kind, ref.id, ref.field)
				probs = append(probs, Problem{File: pos.File, Line: pos.Line, Field: doc.Path(ref.kind, ref.id, ref.field),
					Message: fmt.Sprintf("no identity with email %s", ref.email)})
			}
			continue
		}
		*ref.pin = who.ID
		if ref.was == who.ID || !ref.report {
			continue
		}
		pin := Pin{Kind: ref.kind, ID: ref.id, Field: ref.field, Email: ref.email, IdentityID: who.ID, Name: personName(who)}
		if ref.was != "" {
			pin.WasID = ref.was
			if prev, err := r.GetIdentity(ctx, ref.was); err == nil {
				pin.Was = personName(prev)
			} else if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				return nil, fmt.Errorf("catalog plan: look up %s: %w", ref.was, err)
			} else {
				pin.Was = ref.was
			}
		}
		pins = append(pins, pin)
	}
	if len(probs) > 0 {
		sortProblems(probs)
		return nil, probs
	}
	for _, f := range fills {
		f()
	}
	return pins, nil
}

// personName says who an identity is, for people reading a plan: "Ada Lovelace, E1001 (id …)".
func personName(i *gatehouse.Identity) string {
	name := strings.TrimSpace(i.FirstName + " " + i.LastName)
	if name == "" {
		name = i.Email
	}
	if i.EmployeeID != "" {
		name += ", " + i.EmployeeID
	}
	return name + " (id " + i.ID + ")"
}
