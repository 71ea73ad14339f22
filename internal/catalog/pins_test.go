package catalog

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestPlanPinsPeople: a plan pins every designated email to the identity it names, shows the
// person, stores the pins on apply, and, once the address names someone else, says so.
func TestPlanPinsPeople(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	people := addPeople(t, s, examplePeople...)
	doc := exampleDoc(t)
	sec := doc.Catalog.Settings.SecurityApprovers[0]

	plan, _, err := planAndApply(t, s, doc, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := plan.Write(&out); err != nil {
		t.Fatal(err)
	}
	want := "@ settings.security_approvers[0]: " + sec + " is pinned to " + personName(people[strings.ToLower(sec)])
	if !strings.Contains(out.String(), want) {
		t.Errorf("plan output lacks %q:\n%s", want, out.String())
	}
	st, err := s.GetSettings(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.SecurityApproverIDs[0] != people[strings.ToLower(sec)].ID {
		t.Errorf("stored pins %v", st.SecurityApproverIDs)
	}

	// The approver is renamed and someone else takes the address: a plan of the same catalog
	// moves the pin, and says whose it was.
	var taker *gatehouse.Identity
	err = s.Update(context.Background(), func(tx store.Tx) error {
		old := *people[strings.ToLower(sec)]
		old.Email = "renamed@example.com"
		if err := tx.UpdateIdentity(context.Background(), &old); err != nil {
			return err
		}
		taker = &gatehouse.Identity{EmployeeID: "E99999", Email: sec, Kind: gatehouse.KindPerson, Status: gatehouse.StatusActive}
		if err := tx.CreateIdentity(context.Background(), taker); err != nil {
			return err
		}
		return tx.AppendAudit(context.Background(), &gatehouse.AuditEvent{Time: t0, Actor: "test", Action: "identity.update", ObjectType: "identity", ObjectID: old.ID})
	})
	if err != nil {
		t.Fatal(err)
	}
	again := makePlan(t, s, exampleDoc(t))
	out.Reset()
	_ = again.Write(&out)
	if !strings.Contains(out.String(), "~ settings (security_approver_ids)") || !strings.Contains(out.String(), "the address now names someone else") ||
		!strings.Contains(out.String(), taker.ID) {
		t.Errorf("plan after the address moved:\n%s", out.String())
	}
}
