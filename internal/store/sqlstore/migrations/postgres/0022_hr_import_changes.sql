-- The evidence of an applied HR import, one row per person it changed: class, who (named as the
-- import stored them), the field changes and the grants gained and lost (JSON arrays), and
-- whether a leaver was terminated after their end date. Rows, not one document on
-- hr_imports: an import of 100,000 people writes them in batches and its page reads a page.
CREATE TABLE hr_import_changes (
    import_id   TEXT COLLATE "C" NOT NULL REFERENCES hr_imports (id),
    seq         INTEGER NOT NULL,
    class       TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    identity_id TEXT NOT NULL DEFAULT '',
    name        TEXT NOT NULL DEFAULT '',
    email       TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    late_days   INTEGER NOT NULL DEFAULT 0,
    late        TEXT NOT NULL DEFAULT '',
    changes     TEXT NOT NULL DEFAULT '[]',
    gained      TEXT NOT NULL DEFAULT '[]',
    lost        TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (import_id, seq)
);
