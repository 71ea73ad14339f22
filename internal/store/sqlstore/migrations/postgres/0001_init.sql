-- Gatehouse schema for PostgreSQL.
--
-- Times are TIMESTAMPTZ (microsecond precision, the precision the audit chain hashes).
-- JSON values are TEXT, not jsonb: jsonb re-encodes, and audit before/after bytes are hashed,
-- so they must come back exactly as written.
-- Keys that are ordered or compared by range (ids, entitlement ids, audit actions) use the "C"
-- collation: byte order, the same order SQLite gives, whatever the database's locale.

CREATE TABLE identities (
    id              TEXT COLLATE "C" NOT NULL PRIMARY KEY,
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
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
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
    id        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name      TEXT NOT NULL DEFAULT '',
    owner     TEXT NOT NULL DEFAULT '',
    tier      TEXT NOT NULL DEFAULT '',
    connector TEXT NOT NULL DEFAULT '{}'
);

-- No foreign key to systems: the catalog package validates references, and a plan may delete
-- and put catalog objects in any order within one transaction.
CREATE TABLE entitlements (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    system_id    TEXT COLLATE "C" NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    description  TEXT NOT NULL DEFAULT '',
    external_id  TEXT NOT NULL DEFAULT '',
    kind         TEXT NOT NULL DEFAULT '',
    risk         TEXT NOT NULL DEFAULT '',
    owner        TEXT NOT NULL DEFAULT '',
    requestable  BOOLEAN NOT NULL DEFAULT FALSE,
    max_duration BIGINT NOT NULL DEFAULT 0, -- nanoseconds
    approval     TEXT NOT NULL DEFAULT '[]',
    search       TEXT NOT NULL DEFAULT ''   -- lowercased id, name, description
);
CREATE INDEX entitlements_system_idx ON entitlements (system_id, id);
CREATE INDEX entitlements_risk_idx ON entitlements (risk, id);

CREATE TABLE roles (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name         TEXT NOT NULL DEFAULT '',
    description  TEXT NOT NULL DEFAULT '',
    entitlements TEXT NOT NULL DEFAULT '[]',
    birthright   TEXT NOT NULL DEFAULT ''
);

CREATE TABLE sod_rules (
    id                 TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    description        TEXT NOT NULL DEFAULT '',
    left_entitlements  TEXT NOT NULL DEFAULT '[]',
    right_entitlements TEXT NOT NULL DEFAULT '[]',
    severity           TEXT NOT NULL DEFAULT '',
    on_violation       TEXT NOT NULL DEFAULT ''
);

-- Grants keep their entitlement id without a foreign key: a pruned entitlement's revoked
-- grants stay as evidence.
CREATE TABLE grants (
    id             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    identity_id    TEXT COLLATE "C" NOT NULL REFERENCES identities (id),
    entitlement_id TEXT COLLATE "C" NOT NULL,
    source         TEXT NOT NULL DEFAULT '',
    reference      TEXT NOT NULL DEFAULT '',
    granted_by     TEXT NOT NULL DEFAULT '',
    granted_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ,
    revoked_at     TIMESTAMPTZ,
    revoked_by     TEXT NOT NULL DEFAULT '',
    revoke_reason  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX grants_identity_idx ON grants (identity_id, id);
CREATE INDEX grants_entitlement_idx ON grants (entitlement_id, id);
CREATE INDEX grants_active_idx ON grants (entitlement_id) WHERE revoked_at IS NULL;

CREATE TABLE accounts (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    system_id   TEXT COLLATE "C" NOT NULL,
    external_id TEXT NOT NULL,
    username    TEXT NOT NULL DEFAULT '',
    identity_id TEXT COLLATE "C" REFERENCES identities (id), -- NULL for an orphan
    enabled     BOOLEAN NOT NULL DEFAULT FALSE,
    memberships TEXT NOT NULL DEFAULT '[]',
    observed_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX accounts_system_external_key ON accounts (system_id, external_id);
CREATE INDEX accounts_system_idx ON accounts (system_id, id);
CREATE INDEX accounts_identity_idx ON accounts (identity_id, id);

CREATE TABLE tokens (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    identity_id  TEXT COLLATE "C" NOT NULL REFERENCES identities (id),
    description  TEXT NOT NULL DEFAULT '',
    hash         TEXT NOT NULL,
    hint         TEXT NOT NULL DEFAULT '',
    scopes       TEXT NOT NULL DEFAULT '[]',
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE UNIQUE INDEX tokens_hash_key ON tokens (hash);
CREATE INDEX tokens_identity_idx ON tokens (identity_id, id);

CREATE TABLE audit_events (
    seq         BIGINT NOT NULL PRIMARY KEY,
    time        TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT COLLATE "C" NOT NULL,
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

-- The chain head: the last appended event, as Gatehouse wrote it. Appends lock this row
-- (SELECT ... FOR UPDATE), which serializes them across transactions and replicas; deleting
-- events from the end of the log, or appending around Gatehouse, shows as a mismatch with it.
CREATE TABLE audit_head (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
