-- HR imports sent as a delta (gatehouse hr import --delta): rows are upserts and the people the
-- file does not list are left alone. An approval of a held delta plans it as a delta again.
ALTER TABLE hr_imports ADD COLUMN delta INTEGER NOT NULL DEFAULT 0;
