// Package storetest is the conformance suite every store.Store implementation must pass, and
// the helpers other packages use to get a fresh, isolated database in their tests.
//
// Run takes a function that opens a fresh database per test: every test runs in parallel on its
// own SQLite file or PostgreSQL schema. The Harness also gives raw SQL access to that database,
// bypassing the store, which the audit tamper tests use to alter, delete, insert and reorder
// stored events the way an attacker with database access would.
//
// PostgreSQL is found at $GATEHOUSE_TEST_POSTGRES (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable). When it cannot be reached a test
// skips with a message on a laptop, and fails when CI=true: a missing server in CI is a failure,
// never a silent skip.
package storetest
