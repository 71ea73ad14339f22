// Package connector defines what Gatehouse needs from a target system (a directory, a SaaS
// application, a manual fulfillment queue) to provision it: read what the system holds, create
// accounts, enable and disable them, and change group memberships.
//
// A connector knows nothing of requests, approvals or HR. The provisioning engine compares the
// desired state (identities and grants) with the Inventory a connector reads, and plans
// idempotent operations; the connector carries them out. Every operation is idempotent — doing
// it twice leaves the system as doing it once — because a job that crashed half way is simply
// run again.
//
// Errors steer the job queue: an error wrapped with Permanent (bad syntax, access denied, an
// account that does not exist) is not retried; any other error (connection refused, server
// busy, a timeout) is retried with backoff.
//
// An operation handed to a person instead of done (the manual connector's fulfillment tasks)
// returns a Deferred error: neither applied nor failed, and not retried.
//
// Connector implementations live in subpackages (ldap, scim, manual), each exporting a Spec
// (gatehouse.ConnectorSpec: its settings with their kinds, requirements, defaults and allowed
// values, and what the type can do) and a Config decoded from that Spec (Decode) with an Open
// method. Catalog validation checks settings against the same Spec, so an option is declared
// once. Package connectors holds the one explicit list of specs and map from a catalog connector
// type to its factory, and package connectortest the conformance suite every connector must pass.
package connector
