-- Gatehouse schema for SQLite.
--
-- Times are INTEGER microseconds since the Unix epoch, UTC: they sort correctly, compare
-- cheaply and keep exactly the precision the audit chain hashes (audit.TimePrecision).
-- JSON values are TEXT, never a binary JSON type: audit before/after bytes are hashed and must
-- come back exactly as written.
-- Tables keyed by text ids are WITHOUT ROWID so that rows are stored in id order, which is the
-- order every list pages through.

CREATE TABLE identities (
    id              TEXT NOT NULL PRIMARY KEY,
    -- Lowercased "first last", email, employee_id and title, for IdentityFilter.Query. It comes
    -- right after id because both engines decode a row's columns in order, and a substring
    -- search reads this column in every row.
    search          TEXT NOT NULL DEFAULT '',
    employee_id     TEXT NOT NULL DEFAULT '',
    email           TEXT NOT NULL,
    first_name      TEXT NOT NULL DEFAULT '',
    last_name       TEXT NOT NULL DEFAULT '',
    department      TEXT NOT NULL DEFAULT '',
    title           TEXT NOT NULL DEFAULT '',
    manager_id      TEXT NOT NULL DEFAULT '',
    location        TEXT NOT NULL DEFAULT '',
    employment_type TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT '',
    start_date      TEXT NOT NULL DEFAULT '',
    end_date        TEXT NOT NULL DEFAULT '',
    kind            TEXT NOT NULL DEFAULT '',
    attributes      TEXT NOT NULL DEFAULT '{}',
    roles           TEXT NOT NULL DEFAULT '[]',
    source          TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX identities_email_key ON identities (lower(email));
CREATE UNIQUE INDEX identities_employee_id_key ON identities (employee_id) WHERE employee_id <> '';
CREATE INDEX identities_department_idx ON identities (department, id);
CREATE INDEX identities_status_idx ON identities (status, id);
CREATE INDEX identities_manager_idx ON identities (manager_id, id);
CREATE INDEX identities_location_idx ON identities (location, id);
CREATE INDEX identities_employment_type_idx ON identities (employment_type, id);

CREATE TABLE settings (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    data TEXT NOT NULL
);

CREATE TABLE systems (
    id        TEXT NOT NULL PRIMARY KEY,
    name      TEXT NOT NULL DEFAULT '',
    owner     TEXT NOT NULL DEFAULT '',
    tier      TEXT NOT NULL DEFAULT '',
    connector TEXT NOT NULL DEFAULT '{}'
) WITHOUT ROWID;

-- No foreign key to systems: the catalog package validates references, and a plan may delete
-- and put catalog objects in any order within one transaction.
CREATE TABLE entitlements (
    id           TEXT NOT NULL PRIMARY KEY,
    system_id    TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    description  TEXT NOT NULL DEFAULT '',
    external_id  TEXT NOT NULL DEFAULT '',
    kind         TEXT NOT NULL DEFAULT '',
    risk         TEXT NOT NULL DEFAULT '',
    owner        TEXT NOT NULL DEFAULT '',
    requestable  INTEGER NOT NULL DEFAULT 0,
    max_duration INTEGER NOT NULL DEFAULT 0, -- nanoseconds
    approval     TEXT NOT NULL DEFAULT '[]',
    search       TEXT NOT NULL DEFAULT ''    -- lowercased id, name, description
) WITHOUT ROWID;
CREATE INDEX entitlements_system_idx ON entitlements (system_id, id);
CREATE INDEX entitlements_risk_idx ON entitlements (risk, id);

CREATE TABLE roles (
    id           TEXT NOT NULL PRIMARY KEY,
    name         TEXT NOT NULL DEFAULT '',
    description  TEXT NOT NULL DEFAULT '',
    entitlements TEXT NOT NULL DEFAULT '[]',
    birthright   TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE TABLE sod_rules (
    id                 TEXT NOT NULL PRIMARY KEY,
    description        TEXT NOT NULL DEFAULT '',
    left_entitlements  TEXT NOT NULL DEFAULT '[]',
    right_entitlements TEXT NOT NULL DEFAULT '[]',
    severity           TEXT NOT NULL DEFAULT '',
    on_violation       TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

-- Grants keep their entitlement id without a foreign key: a pruned entitlement's revoked
-- grants stay as evidence.
CREATE TABLE grants (
    id             TEXT NOT NULL PRIMARY KEY,
    identity_id    TEXT NOT NULL REFERENCES identities (id),
    entitlement_id TEXT NOT NULL,
    source         TEXT NOT NULL DEFAULT '',
    reference      TEXT NOT NULL DEFAULT '',
    granted_by     TEXT NOT NULL DEFAULT '',
    granted_at     INTEGER NOT NULL,
    expires_at     INTEGER,
    revoked_at     INTEGER,
    revoked_by     TEXT NOT NULL DEFAULT '',
    revoke_reason  TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX grants_identity_idx ON grants (identity_id, id);
CREATE INDEX grants_entitlement_idx ON grants (entitlement_id, id);
CREATE INDEX grants_active_idx ON grants (entitlement_id) WHERE revoked_at IS NULL;

CREATE TABLE accounts (
    id          TEXT NOT NULL PRIMARY KEY,
    system_id   TEXT NOT NULL,
    external_id TEXT NOT NULL,
    username    TEXT NOT NULL DEFAULT '',
    identity_id TEXT REFERENCES identities (id), -- NULL for an orphan
    enabled     INTEGER NOT NULL DEFAULT 0,
    memberships TEXT NOT NULL DEFAULT '[]',
    observed_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX accounts_system_external_key ON accounts (system_id, external_id);
CREATE INDEX accounts_system_idx ON accounts (system_id, id);
CREATE INDEX accounts_identity_idx ON accounts (identity_id, id);

CREATE TABLE tokens (
    id           TEXT NOT NULL PRIMARY KEY,
    identity_id  TEXT NOT NULL REFERENCES identities (id),
    description  TEXT NOT NULL DEFAULT '',
    hash         TEXT NOT NULL,
    hint         TEXT NOT NULL DEFAULT '',
    scopes       TEXT NOT NULL DEFAULT '[]',
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
) WITHOUT ROWID;
CREATE UNIQUE INDEX tokens_hash_key ON tokens (hash);
CREATE INDEX tokens_identity_idx ON tokens (identity_id, id);

-- seq is the rowid, so events are stored in chain order.
CREATE TABLE audit_events (
    seq         INTEGER NOT NULL PRIMARY KEY,
    time        INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    "before"    TEXT,
    "after"     TEXT,
    reason      TEXT NOT NULL,
    reference   TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_events_time_idx ON audit_events (time);
CREATE INDEX audit_events_actor_idx ON audit_events (actor, seq);
CREATE INDEX audit_events_action_idx ON audit_events (action, seq);
CREATE INDEX audit_events_object_idx ON audit_events (object_type, object_id, seq);

-- The chain head: the last appended event, as Gatehouse wrote it. Deleting events from the end
-- of the log, or appending around Gatehouse, shows as a mismatch with this row.
CREATE TABLE audit_head (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
