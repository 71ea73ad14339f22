-- Time-limited grants still in force, by expiry: the expiry job asks every few seconds for the
-- ones whose time has passed, and the "expiring soon" list for the ones about to. The index
-- holds only those rows, so grants without an expiry (most) cost nothing to write.
CREATE INDEX grants_expiry_idx ON grants (expires_at) WHERE revoked_at IS NULL AND expires_at IS NOT NULL;
