// Package client is a small, typed HTTP client for the Gatehouse API (docs/api.md). The CLI's
// client commands use it; scripts in Go may too.
//
// The client copies no type of the service or the domain: what crosses the wire is defined once
// and used from where it is defined. Pages, filters and problems are the domain's (package
// gatehouse; a list method takes the filter the API decodes, encoded by package urlquery); the
// bodies and answers of operations are the service's (package service, imported for its types
// only; service.TokenRequest, whose ttl is text, included). What is declared here is the client
// itself (Client, Options, its errors, HRExport's count of a streamed export).
//
// Every method returns either the decoded response or an error that says what went wrong in
// terms a person can act on: an *Error for an answer from the server (its code, message and,
// for a rejected catalog or HR feed, one gatehouse.Problem per problem, with the file, line,
// field and reason the server found), or an *UnreachableError when no server answered at the
// configured address.
package client
