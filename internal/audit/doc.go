// Package audit makes the audit log tamper-evident. Each event's hash is SHA-256 over a
// canonical encoding of the event and the previous event's hash, so altering, deleting,
// inserting or reordering any stored event breaks the chain at that event, and Verifier names
// the first sequence number where it breaks.
//
// The chain alone holds only against someone who does not re-compute it: the algorithm needs no
// secret, so whoever can write to the database can edit an event and re-seal every later one,
// or delete the tail and move the head back. Signed checkpoints (Checkpoint, Signer,
// CheckpointVerifier) anchor the chain outside the database: an Ed25519 signature, by a key the
// database does not hold, over the chain head at a moment. Against them a re-sealed or
// truncated log fails up to the newest checkpoint that left the machine; after it, only the
// chain protects the log (docs/audit.md lists what is and is not detected).
//
// The store appends events (in the same transaction as the change they record) and calls Seal to
// fill in Seq, PrevHash and Hash; this package never touches a database.
package audit
