-- One row written by the readiness check after a write failed because the database was full or
-- read-only: /readyz turns ready again only when a committed write succeeds (sqlstore/faults.go).
CREATE TABLE write_probe (
    id  INTEGER PRIMARY KEY,
    at  INTEGER NOT NULL,
    pad BLOB NOT NULL
);
