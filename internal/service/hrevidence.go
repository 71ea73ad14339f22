package service

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/jml"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The evidence of an applied HR import: the plan as it was applied, one row per person, kept
// with the import (gatehouse.HRImportChange) and shown on its page. It is written in the import's
// transaction, after each chunk of changes (a joiner's identity id and the new grants' ids are
// known then), in the order applied: the file's order, then the people missing from it. A held
// import has none until it is approved; the approval plans the file again, so what is kept is
// what was applied.

// hrEvidenceBatch is how many evidence rows are made and written at a time.
const hrEvidenceBatch = 500

// recordHRChanges stores items (applied by applyJML) as import id's evidence, numbered from
// seq on.
func recordHRChanges(ctx context.Context, tx store.Tx, id string, seq int, items []*jml.Item, st *hrState) error {
	for len(items) > 0 {
		n := min(len(items), hrEvidenceBatch)
		batch := make([]*gatehouse.HRImportChange, n)
		for i, it := range items[:n] {
			batch[i] = hrChange(id, seq+i, it, st)
		}
		if err := tx.CreateHRImportChanges(ctx, batch); err != nil {
			return fmt.Errorf("HR import %s: store its evidence: %w", id, err)
		}
		items, seq = items[n:], seq+n
	}
	return nil
}

// hrChange is one plan item as an evidence row, naming the person as the import stored them
// (or as they were, when the import did not rewrite them).
func hrChange(id string, seq int, it *jml.Item, st *hrState) *gatehouse.HRImportChange {
	c := &gatehouse.HRImportChange{ImportID: id, Seq: seq, Class: string(it.Class), EmployeeID: it.EmployeeID,
		IdentityID: it.IdentityID, Email: it.Email, Reason: it.Reason, LateDays: it.LateDays, Late: it.Late}
	who := it.Identity
	if who == nil {
		who = it.Before
	}
	if who != nil {
		c.Name = strings.TrimSpace(who.FirstName + " " + who.LastName)
	}
	for _, ch := range it.Changes {
		c.Changes = append(c.Changes, gatehouse.HRFieldChange{Field: ch.Field, From: ch.From, To: ch.To})
	}
	grants := func(gcs []jml.GrantChange) []gatehouse.HRGrantChange {
		var out []gatehouse.HRGrantChange
		for _, g := range gcs {
			out = append(out, gatehouse.HRGrantChange{EntitlementID: g.EntitlementID, Role: g.Role, Source: g.Source, GrantID: g.GrantID})
		}
		return out
	}
	c.Gained, c.Lost = grants(it.Gain), grants(it.Lose)
	return c
}

// ListHRImportChanges pages an import's evidence, a person a row in the order applied (readers). An
// import applied before its evidence was kept, and a held or rejected one, has none.
func (s *HR) ListHRImportChanges(ctx context.Context, p *gatehouse.Principal, f gatehouse.HRImportChangeFilter) (gatehouse.Page[*gatehouse.HRImportChange], error) {
	var none gatehouse.Page[*gatehouse.HRImportChange]
	if err := requireReadAll(p); err != nil {
		return none, err
	}
	if f.Class != "" && !slices.Contains(jml.Classes(), jml.Class(f.Class)) {
		return none, gatehouse.Errorf(gatehouse.EINVALID, "class: %q is not a plan class (%s)", f.Class, classNames())
	}
	if _, err := s.store.GetHRImport(ctx, f.ImportID); err != nil {
		return none, err
	}
	return s.store.ListHRImportChanges(ctx, f)
}

func classNames() string {
	var names []string
	for _, k := range jml.Classes() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// lateReason is the audit reason of a change by hand to an identity: when it terminates someone
// after their end date, reason with the late flag, as an HR import's termination carries it
// (jml/late.go: whole UTC days after the end date).
func lateReason(before, after *gatehouse.Identity, now time.Time, reason string) string {
	if before.Status == gatehouse.StatusTerminated || after.Status != gatehouse.StatusTerminated {
		return reason
	}
	days := jml.LateDays(after.EndDate, now)
	text := jml.LateText(days)
	// Moving the end date later in the same change does not make the termination on time
	// (as jml's markLate: the end date known before is what the access outlived).
	if d := jml.LateDays(before.EndDate, now); d > days && after.EndDate != before.EndDate {
		days = d
		text = jml.LateText(d) + fmt.Sprintf(" (%s, as stored before this change, which moves it to %s)", before.EndDate, after.EndDate)
	}
	if days == 0 {
		return reason
	}
	if reason == "" {
		return "late: " + text
	}
	return reason + "; late: " + text
}

// HRChangeLine says what an import did to one person in a line, naming them rather than by
// employee id: "Sam Taylor (E0042): department Finance → Engineering; +github/infra-team;
// −aws/billing-read". The CLI prints it; the import's page shows the same parts.
func HRChangeLine(c *gatehouse.HRImportChange) string {
	var b strings.Builder
	if c.Name != "" {
		b.WriteString(c.Name + " (" + c.EmployeeID + ")")
	} else {
		b.WriteString(c.EmployeeID)
	}
	var parts []string
	for _, ch := range c.Changes {
		from, to := ch.From, ch.To
		if from == "" {
			from = "—"
		}
		if to == "" {
			to = "—"
		}
		parts = append(parts, ch.Field+" "+from+" → "+to)
	}
	for _, g := range c.Gained {
		parts = append(parts, "+"+g.EntitlementID)
	}
	for _, g := range c.Lost {
		parts = append(parts, "−"+g.EntitlementID)
	}
	if c.Late != "" {
		parts = append(parts, "LATE: "+c.Late)
	}
	if len(parts) == 0 && c.Reason != "" {
		parts = append(parts, c.Reason)
	}
	if len(parts) > 0 {
		b.WriteString(": " + strings.Join(parts, "; "))
	}
	return b.String()
}
