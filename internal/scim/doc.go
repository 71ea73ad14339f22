// Package scim is the SCIM 2.0 protocol (RFC 7643 schemas, RFC 7644 protocol) as both sides of
// Gatehouse use it: the filter language (parse, and evaluate against a resource), attribute
// paths and PATCH operations applied to a resource held as JSON, the error body, and the schema
// URNs. It knows nothing of identities or connectors: the SCIM service provider
// (internal/scimserver) and the SCIM connector (connector/scim) build on it.
package scim
