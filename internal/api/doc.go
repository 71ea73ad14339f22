// Package api serves Gatehouse's JSON HTTP API (docs/api.md): the /api/v1 resources, the
// OpenAPI document that describes them, health checks and Prometheus metrics.
//
// Every route is declared once, in the route table of routes.go. The same table registers the
// handlers on an http.ServeMux, validates query parameters, and builds the OpenAPI document, so
// the served API and its description cannot drift apart.
//
// Handlers are thin: they decode the request, call package service with the caller's Principal,
// and encode the answer. Who may do what is decided by the service alone; this package only
// authenticates (turns a bearer token into a Principal) and maps the service's error codes to
// HTTP statuses through one table (errors.go).
//
// This package declares no type of what it serves: pages, list filters and problems are the
// domain's (package gatehouse), request bodies and answers the service's. A list route's filter
// is decoded from its query by package urlquery, the codec the client encodes it with, and a
// test keeps the route table's documented parameters equal to the filter's query tags. The
// problems of a rejected catalog or HR feed go out in the error's details as gatehouse.Problem.
// What is left here is the HTTP framing that exists nowhere else (a reason next to a patch, a
// token's ttl as text). The API reads only through the service; it does not import the store.
package api
