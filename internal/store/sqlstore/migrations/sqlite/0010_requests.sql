-- Access requests. The columns are what lists filter and sort on; doc is the whole request
-- (steps, findings, timeline) as JSON, written with the columns in one statement. Rows are
-- never deleted: a request is evidence.
CREATE TABLE requests (
    id             TEXT NOT NULL PRIMARY KEY,
    number         INTEGER NOT NULL UNIQUE,
    requester_id   TEXT NOT NULL REFERENCES identities (id),
    beneficiary_id TEXT NOT NULL REFERENCES identities (id),
    state          TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    due_at         INTEGER NOT NULL,
    version        INTEGER NOT NULL,
    doc            TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX requests_requester_idx ON requests (requester_id, number);
CREATE INDEX requests_beneficiary_idx ON requests (beneficiary_id, number);
CREATE INDEX requests_state_idx ON requests (state, number);

-- Who the current step of each open request asks (rewritten with the request): the inbox.
CREATE TABLE request_approvers (
    request_id  TEXT NOT NULL REFERENCES requests (id),
    identity_id TEXT NOT NULL,
    PRIMARY KEY (identity_id, request_id)
) WITHOUT ROWID;
CREATE INDEX request_approvers_request_idx ON request_approvers (request_id);

-- The last request number handed out: one row, incremented in the creating transaction, so
-- numbers are sequential and concurrent writers never get the same one.
CREATE TABLE request_numbers (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    last INTEGER NOT NULL
);

-- Approval delegations: to decides what asks from, between starts_at and ends_at.
CREATE TABLE delegations (
    id         TEXT NOT NULL PRIMARY KEY,
    from_id    TEXT NOT NULL REFERENCES identities (id),
    to_id      TEXT NOT NULL REFERENCES identities (id),
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX delegations_to_idx ON delegations (to_id, ends_at);
CREATE INDEX delegations_from_idx ON delegations (from_id, ends_at);

-- Peer context (how many people with the same department and title hold an entitlement),
-- computed for every request: the count reads this index alone.
CREATE INDEX identities_peers_idx ON identities (department, title, status);
