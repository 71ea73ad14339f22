package sqlstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

// TestReadOnlySQLiteFile: a database file the process may only read (opened ?mode=ro, as a
// file without write permission or on a read-only mount is) answers writes with 503 "database
// is read-only", and Ping keeps failing until the file takes writes again. (Tests run as root,
// for whom chmod does not make a file read-only, hence the driver's mode.)
func TestReadOnlySQLiteFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	st, err := Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := st.(*sqlStore)
	write := func(email string) error {
		return s.Update(ctx, func(tx store.Tx) error {
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

	rw := s.write
	ro, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	ro.SetMaxOpenConns(1)
	s.write = ro
	err = write("b@example.com")
	if gatehouse.ErrorCode(err) != gatehouse.EUNAVAILABLE || gatehouse.ErrorMessage(err) != "database is read-only: nothing was changed; try again when it takes writes" {
		t.Fatalf("write to a read-only file: %v", err)
	}
	if err := s.Ping(ctx); gatehouse.ErrorCode(err) != gatehouse.EUNAVAILABLE {
		t.Fatalf("Ping with a read-only file = %v, want unavailable", err)
	}
	s.write = rw
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping once writable again: %v", err)
	}
	if err := write("b@example.com"); err != nil {
		t.Fatal(err)
	}
}
