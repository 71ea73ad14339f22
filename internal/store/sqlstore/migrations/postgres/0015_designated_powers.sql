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
    (SELECT jsonb_object_agg(lower(a.v), i.id)::text
       FROM jsonb_array_elements_text(CASE jsonb_typeof(entitlements.approval::jsonb) WHEN 'array'
            THEN entitlements.approval::jsonb ELSE '[]'::jsonb END) a(v)
       JOIN identities i ON lower(i.email) = lower(a.v) WHERE a.v LIKE '%@%'), '{}');
UPDATE settings SET data = (data::jsonb || jsonb_build_object(
    'security_approver_ids', COALESCE((SELECT jsonb_agg(COALESCE(i.id, '') ORDER BY a.n)
        FROM jsonb_array_elements_text(CASE jsonb_typeof(data::jsonb -> 'security_approvers') WHEN 'array'
             THEN data::jsonb -> 'security_approvers' ELSE '[]'::jsonb END) WITH ORDINALITY a(v, n)
        LEFT JOIN identities i ON lower(i.email) = lower(a.v)), '[]'::jsonb),
    'emergency_operator_ids', COALESCE((SELECT jsonb_agg(COALESCE(i.id, '') ORDER BY a.n)
        FROM jsonb_array_elements_text(CASE jsonb_typeof(data::jsonb -> 'emergency_operators') WHEN 'array'
             THEN data::jsonb -> 'emergency_operators' ELSE '[]'::jsonb END) WITH ORDINALITY a(v, n)
        LEFT JOIN identities i ON lower(i.email) = lower(a.v)), '[]'::jsonb)))::text;
