// Package store declares how Gatehouse keeps its state: one Store interface with two
// implementations, SQLite (embedded default) and PostgreSQL (production), both in package
// sqlstore, which pass the one conformance suite in storetest.
//
// Reads go through Reader. Every change runs inside Store.Update, whose Tx carries the writes and
// the audit events that record them; they commit together or not at all, and a transaction that
// changes state without appending an audit event is refused.
//
// What a list returns and how it is selected (Page and the filters) is the domain's query
// vocabulary, declared in package gatehouse: the store implements it, so callers that only read
// through the service (api, web, scimserver, client) need not import the store.
//
// Authorization is not the store's business: callers (package service) decide who may do what.
package store
