package api

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// madeConfirmations remembers the confirmations made per fixture and purpose: the walk asks for
// a route's path more than once.
var madeConfirmations sync.Map // confirmationKey → id

type confirmationKey struct {
	f       *fixture
	purpose string
}

// confirmation returns the id of an open confirmation of "other"'s grant, addressed to "user"
// as the new manager, made for purpose (once per fixture). It is written to the store directly:
// a mover through the HR feed would change the callers' own identities.
func (f *fixture) confirmation(purpose string) string {
	f.t.Helper()
	key := confirmationKey{f, purpose}
	if id, ok := madeConfirmations.Load(key); ok {
		return id.(string)
	}
	c := &gatehouse.Confirmation{IdentityID: f.ids["other"].ID, GrantID: f.otherGrant.ID, EntitlementID: f.otherGrant.EntitlementID,
		ManagerID: f.ids["user"].ID, HRImportID: "walk"}
	err := f.st.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.CreateConfirmations(context.Background(), []*gatehouse.Confirmation{c}); err != nil {
			return err
		}
		return tx.AppendAudit(context.Background(), &gatehouse.AuditEvent{Actor: "test", Action: "confirmation.create", ObjectType: "confirmation", ObjectID: c.ID})
	})
	if err != nil {
		f.t.Fatal(err)
	}
	madeConfirmations.Store(key, c.ID)
	return c.ID
}

func TestConfirmationHandlers(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, eng.open(t))
			id := f.confirmation("handlers")

			// "user" sees what is addressed to them; "other", the mover, sees nothing and may
			// not decide; the decision revokes the grant.
			var page gatehouse.Page[*gatehouse.Confirmation]
			must(t, f.as(t, "user", "GET", "/api/v1/confirmations?mine=true", ""), s200).json(t, &page)
			if len(page.Items) != 1 || page.Items[0].ID != id {
				t.Fatalf("user's confirmations = %+v", page.Items)
			}
			f.secrets["other"] = f.token("other", 0).Secret
			must(t, f.as(t, "other", "GET", "/api/v1/confirmations", ""), s200).json(t, &page)
			if len(page.Items) != 0 {
				t.Fatalf("the mover sees %+v", page.Items)
			}
			e := must(t, f.as(t, "other", "POST", "/api/v1/confirmations/"+id+"/confirm", ""), s403).errorOf(t)
			if !strings.Contains(e.Message, "own access") {
				t.Errorf("mover deciding: %+v", e)
			}
			must(t, f.as(t, "user", "GET", "/api/v1/confirmations?status=bogus", ""), http.StatusBadRequest)
			var c gatehouse.Confirmation
			must(t, f.as(t, "user", "POST", "/api/v1/confirmations/"+id+"/revoke", `{"comment":"not in my team"}`), s200).json(t, &c)
			if c.Status != gatehouse.ConfirmationRevoked || c.DecidedBy != "user@example.com" || c.Comment != "not in my team" {
				t.Fatalf("decided = %+v", c)
			}
			must(t, f.as(t, "user", "POST", "/api/v1/confirmations/"+id+"/confirm", ""), http.StatusConflict)
			g, err := f.st.GetGrant(context.Background(), f.otherGrant.ID)
			if err != nil || g.RevokedAt == nil {
				t.Fatalf("grant after revoke = %+v, %v", g, err)
			}
		})
	}
}
