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
package api
