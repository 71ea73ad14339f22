package sqlstore_test

import (
	"database/sql"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestPostgres runs the conformance suite on $GATEHOUSE_TEST_POSTGRES, one schema per test. It
// skips when PostgreSQL is unreachable, except under CI=true, where that is a failure.
func TestPostgres(t *testing.T) {
	t.Parallel()
	storetest.PostgresURL(t)
	storetest.Run(t, func(t *testing.T) storetest.Harness { return storetest.NewPostgres(t) })
}

// TestPostgresReadOnlyTransaction: a PostgreSQL session whose transactions are read-only (a
// standby, or default_transaction_read_only) answers writes with 503 "database is read-only"
// (SQLSTATE 25006), and Ping keeps failing until writes succeed again.
func TestPostgresReadOnlyTransaction(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// One connection, so that the session setting applies to every statement of the store.
	st, err := sqlstore.Open(ctx, storetest.NewPostgresSchema(t), sqlstore.WithMaxOpenConns(1))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db := st.(interface{ DB() *sql.DB }).DB()
	write := func(email string) error {
		return st.Update(ctx, func(tx store.Tx) error {
			i := &gatehouse.Identity{Email: email, FirstName: "A", LastName: "B", Status: gatehouse.StatusActive}
			if err := tx.CreateIdentity(ctx, i); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, &gatehouse.AuditEvent{Actor: "test", Action: "test.write", ObjectType: "identity", ObjectID: i.ID})
		})
	}
	if err := write("a@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `SET default_transaction_read_only = on`); err != nil {
		t.Fatal(err)
	}
	err = write("b@example.com")
	if gatehouse.ErrorCode(err) != gatehouse.EUNAVAILABLE || gatehouse.ErrorMessage(err) != "database is read-only: nothing was changed; try again when it takes writes" {
		t.Fatalf("write in a read-only transaction: %v", err)
	}
	if err := st.Ping(ctx); gatehouse.ErrorCode(err) != gatehouse.EUNAVAILABLE {
		t.Fatalf("Ping while read-only = %v, want unavailable", err)
	}
	if _, err := db.ExecContext(ctx, `SET default_transaction_read_only = off`); err != nil {
		t.Fatal(err)
	}
	if err := st.Ping(ctx); err != nil {
		t.Fatalf("Ping once writable again: %v", err)
	}
	if err := write("b@example.com"); err != nil {
		t.Fatal(err)
	}
}
