package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

// Harness is one fresh database for one test.
type Harness struct {
	// Store is the store under test, closed when the test ends.
	Store store.Store
	// Exec runs raw SQL against the same database, bypassing the store, with $1-style
	// placeholders (both drivers accept them).
	Exec func(ctx context.Context, sql string, args ...any) error
	// Reopen opens another Store on the same database, as a second process or replica would.
	// It may be nil; tests that need it then use Store alone.
	Reopen func(tb testing.TB) store.Store
}

// DefaultPostgresURL is used when GATEHOUSE_TEST_POSTGRES is not set.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// NewSQLite returns a harness on a fresh SQLite file in a temporary directory.
func NewSQLite(tb testing.TB) Harness {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "gatehouse.db")
	dsn := "sqlite:" + path
	s := openStore(tb, dsn)
	raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		tb.Fatalf("open raw sqlite: %v", err)
	}
	tb.Cleanup(func() { raw.Close() })
	return Harness{
		Store:  s,
		Exec:   execFunc(raw),
		Reopen: func(tb testing.TB) store.Store { return openStore(tb, dsn) },
	}
}

// OpenSQLite returns a store on a fresh SQLite file, closed when the test ends.
func OpenSQLite(tb testing.TB) store.Store {
	tb.Helper()
	return openStore(tb, "sqlite:"+filepath.Join(tb.TempDir(), "gatehouse.db"))
}

// NewPostgres returns a harness on a fresh schema of the test PostgreSQL, dropped when the test
// ends. It skips (or fails under CI=true) when PostgreSQL is unreachable; see PostgresURL.
func NewPostgres(tb testing.TB) Harness {
	tb.Helper()
	dsn := NewPostgresSchema(tb)
	s := openStore(tb, dsn)
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatalf("open raw postgres: %v", err)
	}
	raw.SetMaxOpenConns(2)
	tb.Cleanup(func() { raw.Close() })
	return Harness{
		Store:  s,
		Exec:   execFunc(raw),
		Reopen: func(tb testing.TB) store.Store { return openStore(tb, dsn) },
	}
}

// OpenPostgres returns a store on a fresh schema of the test PostgreSQL, dropped when the test
// ends. It skips (or fails under CI=true) when PostgreSQL is unreachable; see PostgresURL.
func OpenPostgres(tb testing.TB) store.Store {
	tb.Helper()
	return openStore(tb, NewPostgresSchema(tb))
}

func openStore(tb testing.TB, dsn string) store.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := sqlstore.Open(ctx, dsn, sqlstore.WithMaxOpenConns(8))
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return s
}

func execFunc(db *sql.DB) func(ctx context.Context, query string, args ...any) error {
	return func(ctx context.Context, query string, args ...any) error {
		_, err := db.ExecContext(ctx, query, args...)
		return err
	}
}

var (
	pgMu    sync.Mutex
	pgAdmin = map[string]*sql.DB{} // by URL: one admin pool per process, for schema create/drop
	pgErr   = map[string]error{}   // by URL: why it could not be reached
)

// PostgresURL returns the URL of the test PostgreSQL ($GATEHOUSE_TEST_POSTGRES, or
// DefaultPostgresURL) after checking that it answers. When it does not, the test is skipped with
// a message saying how to provide one, except under CI=true, where it fails: CI must never pass
// by skipping the database it was meant to test.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	dsn, _ := postgresAdmin(tb)
	return dsn
}

func postgresAdmin(tb testing.TB) (string, *sql.DB) {
	tb.Helper()
	dsn := os.Getenv("GATEHOUSE_TEST_POSTGRES")
	if dsn == "" {
		dsn = DefaultPostgresURL
	}
	pgMu.Lock()
	db, err := pgAdmin[dsn], pgErr[dsn]
	if db == nil && err == nil {
		db, err = connectAdmin(dsn)
		pgAdmin[dsn], pgErr[dsn] = db, err
	}
	pgMu.Unlock()
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL is not reachable at %s (set GATEHOUSE_TEST_POSTGRES to a reachable server): %v", redact(dsn), err)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return dsn, db
}

func connectAdmin(dsn string) (*sql.DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	db.SetMaxOpenConns(4)
	return db, nil
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// NewPostgresSchema creates an empty schema gh_test_<random> in the test PostgreSQL and returns
// a URL whose connections use it (search_path). The schema is dropped when the test ends, so
// tests run in parallel in one database without seeing each other.
func NewPostgresSchema(tb testing.TB) string {
	tb.Helper()
	dsn, admin := postgresAdmin(tb)
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	schema := "gh_test_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		tb.Fatalf("create schema %s: %v", schema, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("parse %s: %v", redact(dsn), err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
