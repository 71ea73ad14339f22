// Package jml is joiner / mover / leaver: it reads the HR feed (the CSV contract of docs/hr.md)
// into identities, and plans what a snapshot means against the stored identities and grants:
// who joins, moves, leaves, goes on leave, comes back, and which birthright grants each gains
// and loses. It is pure: no database, no HTTP. The service layer loads state, calls Plan, and
// applies the plan in one transaction.
//
// Pre-hires are identities with status active and the attribute lifecycle=pre-hire (see
// AttrLifecycle): a separate domain field would need a schema change for something that is
// only true for a few weeks, and an attribute is visible to birthright rules and the UI as it is.
package jml
