-- Provisioning evidence. A reconcile is one run of the engine over one system (its drift
-- findings are what `gatehouse drift` shows); an operation is one change it made, or tried to
-- make, in the target: what, to whom, why, when asked for and when applied (the KPIs).
CREATE TABLE reconciles (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    system_id   TEXT COLLATE "C" NOT NULL,
    cause       TEXT NOT NULL DEFAULT '',
    job_id      BIGINT NOT NULL DEFAULT 0,
    attempt     INTEGER NOT NULL DEFAULT 0,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status      TEXT NOT NULL CHECK (status IN ('running', 'converged', 'failed')),
    planned     INTEGER NOT NULL DEFAULT 0,
    applied     INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    findings    TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX reconciles_system_idx ON reconciles (system_id, id);
CREATE INDEX reconciles_job_idx ON reconciles (job_id);

CREATE TABLE operations (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    reconcile_id TEXT COLLATE "C" NOT NULL REFERENCES reconciles (id),
    system_id    TEXT COLLATE "C" NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('create_account', 'enable', 'disable', 'add_member', 'remove_member')),
    identity_id  TEXT COLLATE "C" NOT NULL DEFAULT '',
    account_ref  TEXT NOT NULL DEFAULT '',
    username     TEXT NOT NULL DEFAULT '',
    grp          TEXT NOT NULL DEFAULT '',
    cause        TEXT NOT NULL DEFAULT '',
    requested_at TIMESTAMPTZ NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    started_at   TIMESTAMPTZ,
    finished_at  TIMESTAMPTZ,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'running', 'applied', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX operations_system_idx ON operations (system_id, id);
CREATE INDEX operations_status_idx ON operations (status, id);
CREATE INDEX operations_reconcile_idx ON operations (reconcile_id, id);
CREATE INDEX operations_identity_idx ON operations (identity_id, id);
