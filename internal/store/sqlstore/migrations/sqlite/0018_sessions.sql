-- Web UI sessions. The cookie carries a random session id; only its SHA-256 is stored, as for
-- tokens. A session belongs to the identity and the token that opened it (both empty for the
-- bootstrap admin, whose token is identified by bootstrap_key instead). Rows are kept after a
-- session ends: when and why it ended is evidence.
CREATE TABLE sessions (
    id            TEXT NOT NULL PRIMARY KEY,
    hash          TEXT NOT NULL,
    identity_id   TEXT REFERENCES identities (id),
    token_id      TEXT REFERENCES tokens (id),
    bootstrap_key TEXT NOT NULL DEFAULT '',
    address       TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    ended_at      INTEGER,
    end_reason    TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE UNIQUE INDEX sessions_hash_key ON sessions (hash);
-- A termination or a token revocation ends the live sessions of an identity or of a token.
CREATE INDEX sessions_identity_idx ON sessions (identity_id) WHERE ended_at IS NULL;
CREATE INDEX sessions_token_idx ON sessions (token_id) WHERE ended_at IS NULL;
