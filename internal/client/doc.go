// Package client is a small, typed HTTP client for the Gatehouse API (docs/api.md). The CLI's
// client commands use it; scripts in Go may too.
//
// Every method returns either the decoded response or an error that says what went wrong in
// terms a person can act on: an *Error for an answer from the server (its code, message and,
// for a rejected catalog, one Detail per problem), or an *UnreachableError when no server
// answered at the configured address.
package client
