-- Account names: a system's declared naming rule (systems.account_name, JSON; '' for none), the
-- name given to each person on a system (account_names: given once, when the account was
-- created, and never changed or given to anybody else), and how a create operation chose it
-- (operations.detail, the evidence).
ALTER TABLE systems ADD COLUMN account_name TEXT NOT NULL DEFAULT '';
ALTER TABLE operations ADD COLUMN detail TEXT NOT NULL DEFAULT '';
CREATE TABLE account_names (
    system_id   TEXT NOT NULL,
    identity_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL, -- lowercased: login names compare without case
    detail      TEXT NOT NULL DEFAULT '',
    assigned_at INTEGER NOT NULL,
    PRIMARY KEY (system_id, identity_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX account_names_name_idx ON account_names (system_id, name_key);
