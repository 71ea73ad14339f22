package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/gatehouse/gatehouse/internal/store"
)

// Option configures Open.
type Option func(*options)

type options struct {
	now      func() time.Time
	maxConns int
}

// WithClock sets the clock that stamps CreatedAt, UpdatedAt, GrantedAt, ObservedAt and audit
// event times (default time.Now). Tests inject a fixed or stepping clock.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithMaxOpenConns bounds the connection pool (default 16 on PostgreSQL; on SQLite it bounds the
// read pool only, writes always use one connection).
func WithMaxOpenConns(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxConns = n
		}
	}
}

// sqliteBusyTimeout is how long a SQLite connection waits for a lock held by another process
// before failing. Within one process writers queue on the single write connection instead.
const sqliteBusyTimeout = 10 * time.Second

// Open opens (creating or migrating as needed) the database named by dsn: "sqlite:PATH" or a
// "postgres://" / "postgresql://" URL. The directory of a SQLite file must exist.
func Open(ctx context.Context, dsn string, opts ...Option) (store.Store, error) {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	var (
		s   *sqlStore
		err error
	)
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		s, err = openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"), o)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s, err = openPostgres(ctx, dsn, o)
	default:
		return nil, fmt.Errorf("unsupported database URL %q: use sqlite:PATH or postgres://...", redact(dsn))
	}
	if err != nil {
		return nil, fmt.Errorf("open database %q: %w", redact(dsn), err)
	}
	return s, nil
}

// redact hides a password in a PostgreSQL URL, so that errors and logs never carry it.
func redact(dsn string) string {
	if !strings.HasPrefix(dsn, "postgres") {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://…" // unparseable: say nothing that might be a secret
	}
	return u.Redacted()
}

func openSQLite(ctx context.Context, path string, o options) (*sqlStore, error) {
	if path == "" {
		return nil, errors.New("no file path after \"sqlite:\"")
	}
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, errors.New("use sqlite:PATH with a file path (in-memory and URI databases are not supported)")
	}
	if strings.Contains(path, "?") {
		// The driver would take what follows "?" as its own parameters.
		return nil, errors.New("the file path must not contain \"?\"")
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%q is a directory, not a database file", path)
	}
	dir := filepath.Dir(path)
	switch fi, err := os.Stat(dir); {
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("directory %q does not exist", dir)
	case err != nil:
		return nil, err
	case !fi.IsDir():
		return nil, fmt.Errorf("%q is not a directory", dir)
	}

	params := url.Values{}
	params.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout.Milliseconds()))
	params.Add("_pragma", "journal_mode(WAL)")
	params.Add("_pragma", "foreign_keys(1)")
	// IMMEDIATE takes the write lock at BEGIN, so a transaction never fails halfway when it
	// upgrades from reading to writing while another process writes.
	params.Set("_txlock", "immediate")
	// The one write connection gets 64 MiB of page cache (SQLite's default is 2 MiB): a bulk
	// write such as an HR import of 100,000 people touches every index page of identities,
	// grants and the audit log, and re-reading evicted pages cost a tenth of its time. Read
	// connections keep the default, so that a pool of them stays small.
	writeParams := url.Values{}
	for k, v := range params {
		writeParams[k] = append([]string(nil), v...)
	}
	writeParams.Add("_pragma", "cache_size(-65536)")
	write, err := sql.Open("sqlite", path+"?"+writeParams.Encode())
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxIdleTime(0)
	write.SetConnMaxLifetime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, err
	}
	d := sqliteDialect()
	if err := migrate(ctx, write, d); err != nil {
		write.Close()
		return nil, err
	}

	params.Add("_pragma", "query_only(1)") // the read pool can never write by mistake
	// No memory map for readers (mmap_size): it saved the read(2) calls that were an eighth of
	// the server's CPU under a mixed load, but every page it maps counts in the server's
	// resident memory, which then grows with the database file rather than with what the
	// server holds.
	read, err := sql.Open("sqlite", path+"?"+params.Encode())
	if err != nil {
		write.Close()
		return nil, err
	}
	n := o.maxConns
	if n == 0 {
		n = max(4, runtime.GOMAXPROCS(0))
	}
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	if err := read.PingContext(ctx); err != nil {
		write.Close()
		read.Close()
		return nil, err
	}
	return newStore(d, read, write, o), nil
}

func openPostgres(ctx context.Context, dsn string, o options) (*sqlStore, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	// pgx prepares and caches statements, and after a few executions PostgreSQL may switch a
	// prepared statement to a generic plan, chosen without the parameter values. Our lists
	// filter by values whose selectivity varies by orders of magnitude (a department, a search
	// text), and a generic plan for them can be many times slower, so plan each execution.
	if _, set := cfg.RuntimeParams["plan_cache_mode"]; !set {
		cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	db := stdlib.OpenDB(*cfg)
	n := o.maxConns
	if n == 0 {
		n = 16
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	d := postgresDialect()
	if err := migrate(ctx, db, d); err != nil {
		db.Close()
		return nil, err
	}
	return newStore(d, db, db, o), nil
}
