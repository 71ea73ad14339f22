// Package gatehouse holds the domain of an identity governance platform: identities fed by HR,
// the catalog (systems, entitlements, roles, separation-of-duties rules), grants (desired
// access), accounts (observed access), tokens, and the audit events that record every change.
// Every audit action is a constant here (AuditAction, auditaction.go), so what the log can say
// is one list: writers name it, readers match it, docs/audit.md describes it.
//
// It also holds the domain's query vocabulary (query.go: Page and the filters of lists, whose
// query tags name their URL parameters) and the one shape of a problem found in a file a person
// wrote (Problem: file, line, field, reason). The store implements the filters; the service,
// API, web UI and client all speak these types, so they are declared once, here.
//
// This package imports no database, HTTP or connector code. Storage, the API, the web UI and
// connectors depend on it, never the reverse, so the rules here can be read and tested alone.
package gatehouse
