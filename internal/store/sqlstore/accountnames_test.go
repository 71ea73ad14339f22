package sqlstore_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestAccountNames: a system's naming rule round-trips, a person keeps the first name given on a
// system, and a name is never recorded for a second person; on both engines.
func TestAccountNames(t *testing.T) {
	t.Parallel()
	for _, eng := range []struct {
		name string
		open func(testing.TB) storetest.Harness
	}{{"sqlite", storetest.NewSQLite}, {"postgres", storetest.NewPostgres}} {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			h := eng.open(t)
			ctx := context.Background()
			rule := &gatehouse.AccountNaming{Template: "{given.1}{family}", MaxLength: 20, Collision: "refuse"}
			err := h.Store.Update(ctx, func(tx store.Tx) error {
				if err := tx.PutSystem(ctx, &gatehouse.System{ID: "ad", Name: "AD", Tier: gatehouse.TierHigh,
					Connector: gatehouse.Connector{Type: "ldap"}, AccountName: rule}); err != nil {
					return err
				}
				if err := tx.PutSystem(ctx, &gatehouse.System{ID: "wiki", Name: "Wiki", Tier: gatehouse.TierStandard,
					Connector: gatehouse.Connector{Type: "scim"}}); err != nil {
					return err
				}
				for _, n := range []*gatehouse.AccountName{
					{SystemID: "ad", IdentityID: "i1", Name: "jane.doe-smithson-lo", Detail: "first"},
					{SystemID: "ad", IdentityID: "i1", Name: "jdoe", Detail: "again: ignored"},
					{SystemID: "ad", IdentityID: "i2", Name: "Jane.Doe-Smithson-LO", Detail: "somebody else's: ignored"},
					{SystemID: "ad", IdentityID: "i2", Name: "jane.doe-smithson-l2"},
					{SystemID: "other", IdentityID: "i2", Name: "jane.doe-smithson-lo"},
				} {
					if err := tx.AssignAccountName(ctx, n); err != nil {
						return err
					}
				}
				return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "test", Action: "test", ObjectType: "system", ObjectID: "ad"})
			})
			if err != nil {
				t.Fatal(err)
			}
			sys, err := h.Store.GetSystem(ctx, "ad")
			if err != nil || sys.AccountName == nil || *sys.AccountName != *rule {
				t.Fatalf("system = %+v, %v", sys, err)
			}
			if wiki, err := h.Store.GetSystem(ctx, "wiki"); err != nil || wiki.AccountName != nil {
				t.Fatalf("wiki = %+v, %v", wiki, err)
			}
			names, err := h.Store.ListAccountNames(ctx, "ad")
			if err != nil || len(names) != 2 || names[0].Name != "jane.doe-smithson-lo" || names[0].Detail != "first" ||
				names[1].Name != "jane.doe-smithson-l2" || names[1].AssignedAt.IsZero() {
				t.Fatalf("names = %+v, %v", names, err)
			}
		})
	}
}
