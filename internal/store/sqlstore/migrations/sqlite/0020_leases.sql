-- Leases: work that runs once at a time across every replica (an HR import) takes the lease
-- of its name, renews it while it runs, and drops it when done. A crashed holder's lease runs
-- out at expires_at, and the next taker replaces it.
CREATE TABLE leases (
    name        TEXT NOT NULL PRIMARY KEY,
    holder      TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    acquired_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
