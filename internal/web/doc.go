// Package web is Gatehouse's web UI: server-rendered HTML pages over the service layer, for the
// people who look things up every day (who is this, what can they reach, why, and since when).
//
// Everything is standard library: routes in one http.ServeMux with method patterns (web.go),
// one file per page, html/template templates and one hand-written stylesheet embedded with
// embed, so the binary serves the UI with no build step and nothing fetched from the internet.
//
// The UI decides nothing about permissions: every read goes through internal/service with the
// signed-in Principal, and service errors are mapped to pages by their gatehouse error code in
// one table (statusFor). A session is the API token itself, kept in an HttpOnly, SameSite=Strict
// cookie, so revoking a token or terminating its identity ends the browser session too.
//
// List pages read their filters with the API's decoder (package urlquery into the domain's
// filter types, decodeFilter), so a page's link and the API's list route take the same
// parameters.
package web
