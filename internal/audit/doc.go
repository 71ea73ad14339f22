// Package audit makes the audit log tamper-evident. Each event's hash is SHA-256 over a
// canonical encoding of the event and the previous event's hash, so altering, deleting,
// inserting or reordering any stored event breaks the chain at that event, and Verify names the
// first sequence number where it breaks.
//
// The store appends events (in the same transaction as the change they record) and calls Seal to
// fill in Seq, PrevHash and Hash; this package never touches a database.
package audit
