// Package service is what Gatehouse does, independent of how it is asked: the API, the web UI
// and the demo seeder call it with a Principal, and it authorizes the call, runs it in one store
// transaction together with its audit events, and returns domain objects.
//
// Authorization lives here, in one place (authz.go), so that the API and the UI cannot disagree
// about who may do what.
//
// The service's operations take and return the wire types of the API: the domain's pages,
// filters and problems (package gatehouse), and the request bodies and answers declared here,
// next to the operation that uses them (NewGrant, ApplyResult, HRImportResult, …), with the
// JSON names docs/api.md documents. The API decodes into them and the client (internal/client)
// uses them as they are, so none is copied; a field added here is on the wire for both.
package service
