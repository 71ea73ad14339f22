-- A SCIM source is keyed by its service account's identity id, not its email: renaming
-- okta-scim@… must not cost Okta its people, and an account given the old email must not get
-- them. "scim:<email>" becomes "scim:<id>" of the identity with that email (case-insensitive);
-- a source whose email names no identity is left as it was (it owned nothing reachable).
UPDATE identities AS i SET source = 'scim:' || a.id
    FROM identities a
    WHERE i.source LIKE 'scim:%@%' AND lower(a.email) = lower(substr(i.source, 6));

UPDATE scim_groups AS g SET source = 'scim:' || a.id
    FROM identities a
    WHERE g.source LIKE 'scim:%@%' AND lower(a.email) = lower(substr(g.source, 6));

-- A SCIM change the leaver guard held keeps its source in its content (one person, JSON), and
-- is applied as that source when an admin approves it.
UPDATE hr_imports AS h SET content = jsonb_set(h.content::jsonb, '{0,scim_source}', to_jsonb('scim:' || a.id))::text
    FROM identities a
    WHERE h.format = 'scim' AND h.status = 'held' AND h.content LIKE '[%'
    AND (h.content::jsonb) -> 0 ->> 'scim_source' LIKE 'scim:%@%'
    AND lower(a.email) = lower(substr((h.content::jsonb) -> 0 ->> 'scim_source', 6));
