package sqlstore_test

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

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
				for _, c := range []struct {
					n       gatehouse.AccountName
					wantErr string
				}{
					{gatehouse.AccountName{SystemID: "ad", IdentityID: "i1", Name: "jane.doe-smithson-lo", Detail: "first"}, ""},
					{gatehouse.AccountName{SystemID: "ad", IdentityID: "i1", Name: "jane.doe-smithson-lo", Detail: "the same again"}, ""},
					{gatehouse.AccountName{SystemID: "ad", IdentityID: "i1", Name: "jdoe", Detail: "a second name"},
						"conflict: identity i1 already has the name jane.doe-smithson-lo on ad (not jdoe)"},
					{gatehouse.AccountName{SystemID: "ad", IdentityID: "i2", Name: "Jane.Doe-Smithson-LO", Detail: "somebody else's"},
						"conflict: account name jane.doe-smithson-lo on ad is already given to identity i1"},
					{gatehouse.AccountName{SystemID: "ad", IdentityID: "i2", Name: "jane.doe-smithson-l2"}, ""},
					{gatehouse.AccountName{SystemID: "other", IdentityID: "i2", Name: "jane.doe-smithson-lo"}, ""},
					{gatehouse.AccountName{SystemID: "ad", IdentityID: "i3", Name: "released"}, ""},
				} {
					err := tx.AssignAccountName(ctx, &c.n)
					if fmt.Sprint(err) != cmp.Or(c.wantErr, "<nil>") {
						return fmt.Errorf("assign %+v: %v, want %s", c.n, err, cmp.Or(c.wantErr, "no error"))
					}
				}
				// Released: only the name given (a stale release does nothing).
				if err := tx.ReleaseAccountName(ctx, "ad", "i2", "other-name"); err != nil {
					return err
				}
				if err := tx.ReleaseAccountName(ctx, "ad", "i3", "released"); err != nil {
					return err
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

// TestAccountNamesConcurrent: two transactions giving one name to two people at once (two runs,
// or two replicas): the second waits for the first and fails with ECONFLICT instead of
// recording the name twice or silently doing nothing.
func TestAccountNamesConcurrent(t *testing.T) {
	t.Parallel()
	for _, eng := range []struct {
		name string
		open func(testing.TB) storetest.Harness
	}{{"sqlite", storetest.NewSQLite}, {"postgres", storetest.NewPostgres}} {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			h := eng.open(t)
			ctx := context.Background()
			assign := func(id string, hold <-chan struct{}) error {
				return h.Store.Update(ctx, func(tx store.Tx) error {
					if err := tx.AssignAccountName(ctx, &gatehouse.AccountName{SystemID: "ad", IdentityID: id, Name: "jdoe"}); err != nil {
						return err
					}
					if hold != nil {
						<-hold
					}
					return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "test", Action: "test", ObjectType: "system", ObjectID: "ad"})
				})
			}
			hold := make(chan struct{})
			first := make(chan error)
			go func() { first <- assign("i1", hold) }()
			// The first transaction has inserted (or is about to); the second starts meanwhile.
			time.Sleep(200 * time.Millisecond)
			second := make(chan error)
			go func() { second <- assign("i2", nil) }()
			time.Sleep(200 * time.Millisecond)
			close(hold)
			if err := <-first; err != nil {
				t.Fatalf("first: %v", err)
			}
			err := <-second
			if gatehouse.ErrorCode(err) != gatehouse.ECONFLICT || !strings.Contains(err.Error(), "already given to identity i1") {
				t.Fatalf("second: %v, want a conflict", err)
			}
			names, err := h.Store.ListAccountNames(ctx, "ad")
			if err != nil || len(names) != 1 || names[0].IdentityID != "i1" {
				t.Fatalf("names = %+v, %v", names, err)
			}
		})
	}
}
