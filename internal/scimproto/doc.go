// Package scimproto is the SCIM 2.0 protocol (RFC 7643 schemas, RFC 7644 protocol) as both sides of
// Gatehouse use it: the filter language (parse, and evaluate against a resource), attribute
// paths and PATCH operations applied to a resource held as JSON, the error body, and the schema
// URNs. It knows nothing of identities or connectors: the SCIM service provider
// (internal/scimserver) and the SCIM connector (connector/scim) build on it.
//
// The filter parser is a small recursive-descent parser rather than
// github.com/scim2/filter-parser: that one parses the RFC examples but its errors name grammar
// internals instead of what was expected, it rejects \u escapes in strings, and its tree would
// have to be converted anyway. Ours reports the 1-based byte position and the expected token,
// and is fuzzed (fuzz_test.go) for panics and for String/parse round trips.
//
// PATCH follows RFC 7644 section 3.5.2 and also accepts the request shapes Entra ID sends
// (see ApplyPatch), because Entra is the IdP most deployments provision from.
package scimproto
