// Package scimtest starts real, independent SCIM 2.0 servers ("peers") for tests: third-party
// implementations of RFC 7643/7644 run as Node processes on loopback ports, so the SCIM
// connector is tested against servers it was not written alongside, never against mocks.
//
//	s := scimtest.Start(t, scimtest.Scimmy)   // or scimtest.BetterAuth
//	conn := open(s.Settings(t))               // {"url", "token_file", "timeout"}
//	s.Do(t, "POST", "/Users", user)           // change the target behind the connector's back
//	s.Fail(t, 429, 3, time.Second)            // the next 3 SCIM requests answer 429, Retry-After: 1
//	s.Requests(t)                             // what the connector sent (method, path, If-Match, status)
//	s.Seed(t, 20000, 1000, 20)                // a large directory, for benchmarks
//
// # Peers
//
// The peers live in testdata/peers: one small script each, sharing common.mjs and one
// package.json with exact versions and a committed package-lock.json. Their node_modules is not
// committed; install it with
//
//	npm ci --prefix connector/scim/scimtest/testdata/peers
//
// (.ci/run does). Without node or node_modules, Require and Start skip the test with that
// hint, and fail it when CI=true: CI must never pass by testing nothing.
//
// Start runs `node <kind>.mjs 0` in its own process group. The script binds 127.0.0.1 on a
// free port and prints one JSON line, {"kind":...,"url":...,"token":...}; the SCIM base URL is
// http://127.0.0.1:PORT/scim/v2 for Scimmy and http://127.0.0.1:PORT/api/auth/scim/v2 for
// BetterAuth. A random bearer token protects the SCIM endpoints (401 with a SCIM error body
// otherwise) and the test-control endpoints, which live outside the SCIM base path:
//
//	POST   /__test/faults   {"status":429,"count":3,"retry_after":1}
//	GET    /__test/requests the SCIM request log; DELETE clears it
//	POST   /__test/seed     {"users":20000,"groups":1000,"members_per_group":20}
//
// A fault answers before authentication and is consumed by any request under the SCIM base
// path. The log records every such request, including faulted and unauthorized ones, with the
// path relative to the base URL, the If-Match header and the Authorization scheme (never the
// credentials). The peer exits on SIGTERM and when its stdin closes, so a killed test binary
// leaves no process behind. Startup takes about 0.2–0.7 s for Scimmy and 0.8–1.2 s for
// BetterAuth (module loading dominates; longer on a busy machine).
//
// # Scimmy
//
// SCIMMY 1.3.5 and SCIMMY Routers 1.3.2 on Express 4 (Express 5 makes SCIMMY Routers ignore
// startIndex and count). SCIMMY does the protocol: schema validation, the full filter grammar
// (and, or, not, complex attribute filters, all operators), attributes/excludedAttributes,
// sortBy, PATCH (SCIMMY applies it and writes the whole resource back), /.search and /Bulk.
// scimmy.mjs supplies the storage: an in-memory store with uuid ids, meta created,
// lastModified and version (W/"n", also sent as the ETag header; a PUT, PATCH or DELETE whose
// If-Match names another version fails with 412), case-insensitive uniqueness of userName and
// Group displayName (409 uniqueness), Group members resolved to existing Users or Groups (400
// invalidValue otherwise; display and type filled in), and deleted Users removed from their
// groups. Users accept the enterprise extension. Seed writes the store directly: 20,000 users
// and 1,000 groups of 20 in about 150 ms; a page of 100 out of 20,000 takes about 70 ms.
// ServiceProviderConfig: patch, bulk (1000 operations, 1 MiB), filter (maxResults 200, not
// enforced), sort and etag supported; changePassword not.
//
// Deviations from RFC 7644 the connector must handle:
//   - Filter eq/ne/co/sw/ew compare case-sensitively even on caseExact=false attributes:
//     userName eq "Alice@x" does not find alice@x (uniqueness, by contrast, ignores case).
//   - Without count a page holds at most 20 resources; count is not capped.
//   - itemsPerPage echoes the requested count, not the number of resources in the page.
//   - A PATCH that changes nothing answers 204 No Content with no body (RFC 7644 allows 204,
//     but a client must not expect the resource back); other PATCHes answer 200 with it.
//   - Unknown attributes in a POST or PUT are dropped silently; a body without "schemas" is
//     accepted; a string "True" for a boolean is a 400 invalidValue.
//   - meta.version changes on every write, including PATCHes of group membership.
//
// # BetterAuth
//
// Better Auth 1.7.5 with @better-auth/scim 1.7.5 over Better Auth's memory adapter. The plugin
// authenticates SCIM clients with static per-connection bearer credentials: better-auth.mjs
// configures one connection ("gatehouse") with a random token, and no Better Auth user,
// session or organization is needed. Every connection owns an isolated set of SCIM Users and
// Groups. Supported:
//   - Users and Groups: GET (by id and list), POST, PUT, PATCH, DELETE (204). Users carry name,
//     displayName, emails, externalId, active, title and the enterprise extension; Groups carry
//     displayName, externalId and members (value, $ref, display, type "User").
//   - PATCH: add, remove, replace (op names case-insensitive), with or without path, value
//     path filters such as emails[type eq "work"].value and members[value eq "id"], removal of
//     members by value list; always 200 with the resource, also when nothing changed.
//   - Filters: only eq, only on id, externalId, userName, emails.value and
//     emails[type eq "work"].value (Users) or id, externalId, displayName (Groups), joined by
//     at most 9 "and"; eq is case-insensitive. Anything else is a 400 invalidFilter.
//   - Pagination: startIndex and count, count capped at 100 (also the default), itemsPerPage
//     the actual page size, stable creation order. attributes/excludedAttributes work.
//   - 409 uniqueness on userName (case-insensitive), externalId and Group displayName; 400
//     invalidValue on unknown Group members; a deleted User leaves its Groups.
//   - ServiceProviderConfig: patch supported; filter supported with maxResults 100; bulk, sort,
//     etag and changePassword not supported; one oauthbearertoken scheme.
//
// Deviations the connector must handle:
//   - No ETags: no meta.version, no ETag header, If-Match ignored (a stale one still succeeds).
//   - No or, not, ne, co, sw, gt…, no filters on active, displayName (Users) or members.value:
//     400 invalidFilter, so membership must be read from each Group.
//   - sortBy is ignored silently; /.search, /Bulk and /Me are 404.
//   - Every SCIM User is backed by a Better Auth user keyed by email: userName must look like
//     an email address or emails must hold one (else 400 invalidValue), a User created without
//     emails gets one made from userName, and the primary email must be unique across Users
//     (409 uniqueness, "A Better Auth User already uses this email"). displayName defaults
//     to name.formatted, then the email.
//   - "schemas" is required in POST and PUT bodies (400 invalidValue); the Content-Type must be
//     application/scim+json or application/json (415). Unknown attributes are dropped
//     silently; the string "True" is accepted for active (Entra compatibility).
//   - Writes are transactions that clone the whole in-memory database, so Seed (through the
//     plugin's endpoints) is slow: about 3 s for 200 users and 10 groups. Keep it small.
package scimtest
