-- Exceptions register. As for requests, the columns are what lists filter and sort on, and doc
-- is the whole exception as JSON, written with the columns in one statement. Rows are never
-- deleted: an exception is evidence.
CREATE TABLE exceptions (
    id          TEXT NOT NULL PRIMARY KEY,
    number      INTEGER NOT NULL UNIQUE,
    identity_id TEXT NOT NULL REFERENCES identities (id),
    kind        TEXT NOT NULL,
    rule_id     TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    review_at   INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    doc         TEXT NOT NULL
) WITHOUT ROWID;
-- A request's SoD check asks for the beneficiary's exceptions.
CREATE INDEX exceptions_identity_idx ON exceptions (identity_id, number);
-- The expiry job and "expiring within" ask for approved exceptions by expiry.
CREATE INDEX exceptions_status_expiry_idx ON exceptions (status, expires_at);

-- The last exception number handed out (see request_numbers).
CREATE TABLE exception_numbers (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    last INTEGER NOT NULL
);
