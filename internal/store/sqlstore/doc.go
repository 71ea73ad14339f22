// Package sqlstore implements store.Store on SQLite (modernc.org/sqlite, pure Go) and on
// PostgreSQL (pgx through database/sql), with one body of SQL and a small dialect value for the
// few places where the engines differ: how a timestamp is bound, how a row is locked, how a
// constraint violation is recognized, how migrations are serialized.
//
// The SQL is written once, with $1-style placeholders, which both drivers accept. Each engine
// has its own migrations (migrations/sqlite, migrations/postgres), embedded and applied in order
// at Open, recorded in schema_migrations.
//
// Engine notes:
//
//   - SQLite runs in WAL mode with a busy timeout and foreign keys on. Writes go through a pool
//     of one connection whose transactions begin IMMEDIATE, so concurrent Update calls queue in
//     the process instead of failing with SQLITE_BUSY; reads use a separate, read-only pool and
//     are not blocked by the writer. Consequently an Update must not call Update or TouchToken
//     on the same store from inside fn: it would wait for the connection it holds.
//   - PostgreSQL (12 or later) serializes audit appends by locking the one-row chain head
//     (SELECT ... FOR UPDATE), which works across replicas, and serializes migrations with an
//     advisory lock scoped to the current schema, so several processes may start at once. The
//     schema is the connection's search_path, so a URL with ?search_path=NAME isolates a store.
//     Connections plan every statement with its parameter values (plan_cache_mode), because a
//     generic plan for a list filter can be many times slower than a custom one.
//
// Conventions shared by every method:
//
//   - Times are stored in UTC at microsecond precision (INTEGER Unix microseconds on SQLite,
//     TIMESTAMPTZ on PostgreSQL) and read back as UTC. Methods that set a time on the value they
//     are given normalize it the same way, so the value after a write equals the value read back.
//   - JSON (attributes, roles, connector, approval, entitlements, audit before/after…) is TEXT on
//     both engines: audit bytes are hashed and must come back exactly as written.
//   - Lists page by keyset (id, or seq for audit events) with an opaque cursor. Limit 0 means
//     gatehouse.DefaultLimit; larger than gatehouse.MaxLimit means gatehouse.MaxLimit.
//   - Text search (IdentityFilter.Query, EntitlementFilter.Query) matches a lowercased search
//     column computed in Go, so case folding is the same (Unicode) on both engines.
//   - AuditFilter.Since is inclusive and Until exclusive: [Since, Until).
//   - Empty slices and maps whose JSON field is omitempty read back as nil; the others (approval,
//     entitlements, SoD sides, memberships, security approvers) read back as empty, not nil, so
//     they encode as [] rather than null.
//   - Revoking a grant or a token twice is ECONFLICT: the first revocation is evidence and is not
//     overwritten.
package sqlstore
