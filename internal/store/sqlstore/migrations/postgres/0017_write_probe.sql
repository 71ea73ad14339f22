-- A reconcile run may now end 'interrupted': the process stopped while it ran, and the next start
-- says so (provision.Queue.RecoverInterrupted).
ALTER TABLE reconciles DROP CONSTRAINT reconciles_status_check;
ALTER TABLE reconciles ADD CONSTRAINT reconciles_status_check
    CHECK (status IN ('running', 'converged', 'failed', 'interrupted'));

-- One row written by the readiness check after a write failed because the database was full or
-- read-only: /readyz turns ready again only when a committed write succeeds (sqlstore/faults.go).
CREATE TABLE write_probe (
    id  BIGSERIAL PRIMARY KEY,
    at  TIMESTAMPTZ NOT NULL,
    pad BYTEA NOT NULL
);
