-- Designated powers follow the person, not an address: catalog apply pins every owner and named
-- approver email to the identity it names (see gatehouse.Settings). The pins of a catalog
-- applied before this version are filled in from the identities those emails name now, which
-- is what the next catalog apply would pin.
ALTER TABLE systems ADD COLUMN owner_id TEXT NOT NULL DEFAULT '';
ALTER TABLE entitlements ADD COLUMN owner_id TEXT NOT NULL DEFAULT '';
ALTER TABLE entitlements ADD COLUMN approver_ids TEXT NOT NULL DEFAULT '{}';

UPDATE systems SET owner_id = COALESCE(
    (SELECT i.id FROM identities i WHERE lower(i.email) = lower(systems.owner)), '');
UPDATE entitlements SET owner_id = COALESCE(
    (SELECT i.id FROM identities i WHERE lower(i.email) = lower(entitlements.owner)), '');
UPDATE entitlements SET approver_ids = COALESCE(
    (SELECT json_group_object(lower(a.value), i.id) FROM json_each(entitlements.approval) a
       JOIN identities i ON lower(i.email) = lower(a.value) WHERE a.value LIKE '%@%'), '{}');
UPDATE settings SET data = json_set(data,
    '$.security_approver_ids', json((SELECT json_group_array(COALESCE(
        (SELECT i.id FROM identities i WHERE lower(i.email) = lower(a.value)), ''))
        FROM (SELECT value FROM json_each(settings.data, '$.security_approvers') ORDER BY key) a)),
    '$.emergency_operator_ids', json((SELECT json_group_array(COALESCE(
        (SELECT i.id FROM identities i WHERE lower(i.email) = lower(a.value)), ''))
        FROM (SELECT value FROM json_each(settings.data, '$.emergency_operators') ORDER BY key) a)));
