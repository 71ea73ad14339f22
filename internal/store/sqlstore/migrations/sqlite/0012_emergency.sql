-- Emergency (break-glass) access: entitlements pre-approved for it, and the post-event review
-- of every break-glass grant. Reviews are never deleted: a review is evidence.
ALTER TABLE entitlements ADD COLUMN emergency INTEGER NOT NULL DEFAULT 0;

CREATE TABLE emergency_reviews (
    id             TEXT NOT NULL PRIMARY KEY,
    number         INTEGER NOT NULL UNIQUE,
    grant_id       TEXT NOT NULL REFERENCES grants (id),
    beneficiary_id TEXT NOT NULL REFERENCES identities (id),
    granted_by     TEXT NOT NULL,
    granted_at     INTEGER NOT NULL,
    due_at         INTEGER NOT NULL,
    completed_at   INTEGER,
    doc            TEXT NOT NULL
) WITHOUT ROWID;
-- Open reviews, by due time: what the counts and the --open list read.
CREATE INDEX emergency_reviews_open_idx ON emergency_reviews (due_at) WHERE completed_at IS NULL;

-- The last emergency number handed out: one row, incremented in the granting transaction, so
-- numbers are sequential and concurrent writers never get the same one.
CREATE TABLE emergency_numbers (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    last INTEGER NOT NULL
);
