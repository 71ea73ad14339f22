// Package scim is the Gatehouse connector for SCIM 2.0 service providers (RFC 7643, RFC 7644):
// SaaS applications and anything else that serves /Users and /Groups. Gatehouse is the SCIM
// client; the protocol types come from internal/scimproto.
//
// A system in the catalog:
//
//	systems:
//	  - id: wiki
//	    name: Wiki
//	    owner: owner@example.com
//	    connector:
//	      type: scim
//	      url: https://wiki.example.com/scim/v2   # the SCIM base URL
//	      token_env: WIKI_SCIM_TOKEN              # bearer token by reference (or token_file)
//	      # username: gatehouse                   # basic auth instead of a token…
//	      # password_file: /run/secrets/wiki      # …with password_env or password_file
//	      # ca_file: /etc/gatehouse/wiki-ca.pem   # CAs to trust instead of the system pool
//	      # insecure_skip_verify: false           # tests only
//	      timeout: 30s                            # per HTTP request
//	      user_name: email                        # email | employee_id | local_part
//	      match_by: userName                      # (unset: all) | userName | externalId | email
//	      deprovision: disable                    # disable | delete
//	      page_size: 200                          # users or groups per listing page
//	      max_retries: 5                          # 429/503 answers waited out per request
//	entitlements:
//	  - {id: wiki/editors, system: wiki, name: Editors, kind: group, external_id: Editors}
//
// Mapping. A new user has userName from user_name (the email by default), externalId = the
// employee id, name.givenName/familyName, displayName, one work email (primary) and active
// true. A group is named by its displayName, which is the entitlement's external_id; AddMember
// creates a group that does not exist yet. Accounts are identified by the SCIM id.
//
// Matching. Inventory reports each user's externalId as the employee id, the primary email
// (or the userName when it is an email address) as the email, and the userName. The engine
// matches on employee id, then email, then the email's local part. When another source owns
// some of these attributes, match_by keeps only one: userName (userName, and as email when it
// is one), externalId, or email.
//
// Deprovisioning. deprovision: disable (the default) sets active to false and leaves the
// memberships, which the engine removes as separate operations. deprovision: delete deletes
// the user (and with it, on every server we know, its memberships); enabling a deleted user
// is a Permanent ErrNotFound, so the engine creates the account again.
//
// Idempotency. CreateAccount looks the userName up first (filter userName eq "…") and adopts
// an existing user, enabled or disabled; a 409 on create is resolved the same way. A user whose
// externalId is another employee's is not adopted (Permanent). Adding an existing member and
// removing a non-member succeed.
//
// Discovery. At open the connector reads /ServiceProviderConfig and /ResourceTypes and adapts:
// without PATCH it changes active and members by read-modify-write (GET, then PUT); without
// filtering it finds users and groups in full listings; without a Group resource type (or with
// /Groups answering 404) Capabilities().Groups is false and the engine reports memberships
// instead of planning them. A server without /ServiceProviderConfig gets the RFC's defaults.
// Bulk operations are not used: every change is a single request.
//
// Inventory lists /Users and /Groups (with members) page by page (startIndex, count =
// page_size capped by filter.maxResults), side by side, asking for the attributes it needs
// only. It stops at totalResults or an empty page, and copes with servers that ignore count or
// startIndex. Member values that are not users of the listing are reported as Foreign.
// InventoryOf (connector.Finder, for the engine's targeted runs) reads chosen people only: their
// known users by id, the others by filter (userName, externalId; joined with `or` unless the
// server refuses it), and the groups as Inventory does.
//
// Errors. 429 and 503 are waited out (Retry-After in seconds or as an HTTP date, at most 30 s
// a time) up to max_retries times, then reported as a retryable error for the job queue's
// back-off; 5xx and transport failures are retryable. 401 (credentials) and 403 (permission)
// are Permanent and carry a connector.Failure kind; 404 on a resource is a Permanent
// ErrNotFound; other 4xx are Permanent. Every error carries the server's SCIM detail and
// scimType; never a token or password. When the server returns ETags (the ETag header or
// meta.version), PUT and PATCH after a read send If-Match, and a 412 leads to one more read and
// try. Redirects are not followed (they would carry the credentials elsewhere).
//
// Check (connector.Checker) reads /ServiceProviderConfig, one user and one group and names
// what is wrong: unreachable, TLS, a URL that is not a SCIM base, credentials, permission,
// or a server error.
//
// Package scimtest starts real, independent SCIM servers for the tests.
package scim
