-- Mover confirmations: request-sourced grants a mover keeps until the new manager confirms them
-- (or revokes them). Rows are never deleted: the decision is evidence.
CREATE TABLE confirmations (
    id             TEXT NOT NULL PRIMARY KEY,
    identity_id    TEXT NOT NULL REFERENCES identities (id),
    grant_id       TEXT NOT NULL REFERENCES grants (id),
    entitlement_id TEXT NOT NULL,
    manager_id     TEXT NOT NULL REFERENCES identities (id),
    hr_import_id   TEXT NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('open', 'confirmed', 'revoked')),
    decided_by     TEXT NOT NULL DEFAULT '',
    decided_at     INTEGER,
    comment        TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX confirmations_manager_idx ON confirmations (manager_id, status, id);
CREATE INDEX confirmations_status_idx ON confirmations (status, id);
CREATE INDEX confirmations_grant_idx ON confirmations (grant_id);
