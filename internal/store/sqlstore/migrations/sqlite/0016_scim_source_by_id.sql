-- A SCIM source is keyed by its service account's identity id, not its email: renaming
-- okta-scim@… must not cost Okta its people, and an account given the old email must not get
-- them. "scim:<email>" becomes "scim:<id>" of the identity with that email (case-insensitive);
-- a source whose email names no identity is left as it was (it owned nothing reachable).
UPDATE identities SET source = 'scim:' || (
        SELECT a.id FROM identities a WHERE lower(a.email) = lower(substr(identities.source, 6)))
    WHERE source LIKE 'scim:%@%' AND EXISTS (
        SELECT 1 FROM identities a WHERE lower(a.email) = lower(substr(identities.source, 6)));

UPDATE scim_groups SET source = 'scim:' || (
        SELECT a.id FROM identities a WHERE lower(a.email) = lower(substr(scim_groups.source, 6)))
    WHERE source LIKE 'scim:%@%' AND EXISTS (
        SELECT 1 FROM identities a WHERE lower(a.email) = lower(substr(scim_groups.source, 6)));

-- A SCIM change the leaver guard held keeps its source in its content (one person, JSON), and
-- is applied as that source when an admin approves it.
UPDATE hr_imports SET content = json_set(content, '$[0].scim_source', 'scim:' || (
        SELECT a.id FROM identities a
        WHERE lower(a.email) = lower(substr(json_extract(hr_imports.content, '$[0].scim_source'), 6))))
    WHERE format = 'scim' AND status = 'held' AND json_valid(content)
    AND json_extract(content, '$[0].scim_source') LIKE 'scim:%@%' AND EXISTS (
        SELECT 1 FROM identities a
        WHERE lower(a.email) = lower(substr(json_extract(hr_imports.content, '$[0].scim_source'), 6)));
