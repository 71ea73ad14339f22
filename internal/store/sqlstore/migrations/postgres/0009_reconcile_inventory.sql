-- How many accounts and groups each reconcile's inventory read: the system page shows the last
-- inventory's size next to its time.
ALTER TABLE reconciles ADD COLUMN inventory_accounts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reconciles ADD COLUMN inventory_groups INTEGER NOT NULL DEFAULT 0;
