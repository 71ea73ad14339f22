-- HR feed imports: the evidence of each file (name, SHA-256, rows), its JML summary, and for a
-- held import the content, so that an approval applies exactly what was held.
CREATE TABLE hr_imports (
    id         TEXT NOT NULL PRIMARY KEY,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    file_name  TEXT NOT NULL DEFAULT '',
    sha256     TEXT NOT NULL,
    row_count  INTEGER NOT NULL DEFAULT 0,
    status     TEXT NOT NULL CHECK (status IN ('applied', 'held', 'rejected')),
    reason     TEXT NOT NULL DEFAULT '',
    summary    TEXT NOT NULL DEFAULT '{}',
    format     TEXT NOT NULL DEFAULT 'csv',
    content    TEXT NOT NULL DEFAULT '',
    decided_by TEXT NOT NULL DEFAULT '',
    decided_at INTEGER
) WITHOUT ROWID;
CREATE INDEX hr_imports_status_idx ON hr_imports (status, id);
