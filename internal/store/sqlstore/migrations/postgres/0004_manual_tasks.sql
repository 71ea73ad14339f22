-- Manual fulfillment tasks: provisioning operations in systems without an API (connector type
-- manual), handed to a person. Done tasks are the manual system's observed state, so rows are
-- never deleted. At most one open task per operation: reconciling again finds it instead of
-- asking the person twice.
CREATE TABLE manual_tasks (
    id              TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    number          BIGINT NOT NULL UNIQUE,
    system_id       TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('create_account', 'enable', 'disable', 'add_member', 'remove_member')),
    identity_id     TEXT NOT NULL DEFAULT '',
    account         TEXT NOT NULL,
    username        TEXT NOT NULL DEFAULT '',
    employee_id     TEXT NOT NULL DEFAULT '',
    grp             TEXT NOT NULL DEFAULT '',
    entitlement_id  TEXT NOT NULL DEFAULT '',
    cause           TEXT NOT NULL DEFAULT '',
    instructions    TEXT NOT NULL DEFAULT '',
    assignee        TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    due_at          TIMESTAMPTZ NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'done', 'cancelled')),
    completed_by    TEXT NOT NULL DEFAULT '',
    completed_at    TIMESTAMPTZ,
    note            TEXT NOT NULL DEFAULT '',
    evidence_sha256 TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX manual_tasks_open_idx ON manual_tasks (system_id, kind, account, grp) WHERE status = 'open';
CREATE INDEX manual_tasks_status_idx ON manual_tasks (status, due_at);
CREATE INDEX manual_tasks_system_idx ON manual_tasks (system_id, status, number);

-- An operation handed to a person stays pending, naming its task, until the task is done
-- (applied) or cancelled (failed); a reconcile does not abandon it as interrupted.
ALTER TABLE operations ADD COLUMN task TEXT NOT NULL DEFAULT '';
CREATE INDEX operations_task_idx ON operations (task) WHERE task <> '';
