-- A reconcile run may now end 'interrupted': the process stopped while it ran, and the next start
-- says so (provision.Queue.RecoverInterrupted). SQLite cannot alter a CHECK constraint; widening
-- one changes no stored row, which is the case SQLite documents for editing the schema text in
-- place (https://sqlite.org/lang_altertable.html#otheralter). RESET makes this connection read
-- the new text; the CREATE TABLE below changes the schema version, so every other one does too.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, 'CHECK (status IN (''running'', ''converged'', ''failed''))',
                          'CHECK (status IN (''running'', ''converged'', ''failed'', ''interrupted''))')
 WHERE type = 'table' AND name = 'reconciles';
PRAGMA writable_schema = RESET;

-- One row written by the readiness check after a write failed because the database was full or
-- read-only: /readyz turns ready again only when a committed write succeeds (sqlstore/faults.go).
CREATE TABLE write_probe (
    id  INTEGER PRIMARY KEY,
    at  INTEGER NOT NULL,
    pad BLOB NOT NULL
);
