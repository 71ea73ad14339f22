package sqlstore_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notDB := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("this is not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dsn  string
		want string // the error must contain this
	}{
		{"./gatehouse.db", `unsupported database URL "./gatehouse.db": use sqlite:PATH or postgres://...`},
		{"mysql://root@localhost/db", `unsupported database URL "mysql://root@localhost/db": use sqlite:PATH or postgres://...`},
		{"sqlite:", `open database "sqlite:": no file path after "sqlite:"`},
		{"sqlite::memory:", `open database "sqlite::memory:": use sqlite:PATH with a file path`},
		{"sqlite:" + dir + "/missing/gatehouse.db", `open database "sqlite:` + dir + `/missing/gatehouse.db": directory "` + dir + `/missing" does not exist`},
		{"sqlite:" + dir + "/a?b.db", `must not contain "?"`},
		{"sqlite:" + notDB, `open database "sqlite:` + notDB + `": `},
		// The password never appears in an error.
		{"postgres://gatehouse:s3cret@127.0.0.1:1/gatehouse?connect_timeout=2", `open database "postgres://gatehouse:xxxxx@127.0.0.1:1/gatehouse?connect_timeout=2": `},
	}
	for _, tc := range tests {
		t.Run(tc.dsn, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			s, err := sqlstore.Open(ctx, tc.dsn)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", tc.dsn)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open(%q) = %q, want it to contain %q", tc.dsn, err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
}

// TestOpenConcurrently starts several processes' worth of Open on one new database at once: the
// migration lock must make exactly one of them migrate, and all of them work.
func TestOpenConcurrently(t *testing.T) {
	t.Parallel()
	engines := []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "g.db") }},
		{"postgres", func(t *testing.T) string { return storetest.NewPostgresSchema(t) }},
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			dsn := e.dsn(t)
			const n = 4
			stores := make([]store.Store, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					stores[i], errs[i] = sqlstore.Open(t.Context(), dsn)
				}()
			}
			wg.Wait()
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("Open %d: %v", i, errs[i])
				}
				defer stores[i].Close()
			}
			for i, s := range stores {
				if s.Engine() != e.name {
					t.Fatalf("Engine() = %q, want %q", s.Engine(), e.name)
				}
				if err := s.Ping(t.Context()); err != nil {
					t.Fatalf("Ping: %v", err)
				}
				err := s.Update(t.Context(), func(tx store.Tx) error {
					if err := tx.PutRole(t.Context(), &gatehouse.Role{ID: "r" + string(rune('a'+i))}); err != nil {
						return err
					}
					return tx.AppendAudit(t.Context(), &gatehouse.AuditEvent{Actor: "t", Action: "role.put", ObjectType: "role"})
				})
				if err != nil {
					t.Fatalf("store %d: %v", i, err)
				}
			}
			roles, err := stores[0].ListRoles(t.Context())
			if err != nil || len(roles) != n {
				t.Fatalf("ListRoles = %d roles, %v; want %d", len(roles), err, n)
			}
		})
	}
}

// TestReopen checks that a second Open of a migrated database applies nothing twice and that a
// database from a newer binary is refused.
func TestReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "g.db")
	ctx := t.Context()
	for range 2 {
		s, err := sqlstore.Open(ctx, "sqlite:"+path)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// One row per migration however often the database is opened. Versions may have gaps while
	// parallel branches each hold a number, so count distinct versions rather than expect 1..n.
	var n, distinct int
	if err := raw.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&n, &distinct); err != nil || n != distinct || n < 2 {
		t.Fatalf("schema_migrations has %d rows, %d distinct versions (%v), want one row per version", n, distinct, err)
	}
	if _, err := raw.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', 'x')`); err != nil {
		t.Fatal(err)
	}
	_, err = sqlstore.Open(ctx, "sqlite:"+path)
	if err == nil || !strings.Contains(err.Error(), "database schema version 999 is newer than this binary knows") {
		t.Fatalf("Open of a newer database = %v", err)
	}
}

func TestWithClock(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 5, 6, 7, 8, 9, 123_456_789, time.FixedZone("x", 3600))
	s, err := sqlstore.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "g.db"),
		sqlstore.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	i := &gatehouse.Identity{Email: "a@example.com", Kind: gatehouse.KindService}
	ev := &gatehouse.AuditEvent{Actor: "t", Action: "identity.create", ObjectType: "identity"}
	g := &gatehouse.Grant{EntitlementID: "x/y", Source: gatehouse.SourceRequest}
	err = s.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.CreateIdentity(t.Context(), i); err != nil {
			return err
		}
		g.IdentityID = i.ID
		if err := tx.CreateGrant(t.Context(), g); err != nil {
			return err
		}
		return tx.AppendAudit(t.Context(), ev)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := now.UTC().Truncate(time.Microsecond)
	if i.CreatedAt != want || i.UpdatedAt != want || g.GrantedAt != want || ev.Time != want {
		t.Fatalf("times %v %v %v %v, want the injected clock %v", i.CreatedAt, i.UpdatedAt, g.GrantedAt, ev.Time, want)
	}
}
