-- Groups an identity source (an IdP such as Okta or Entra ID) pushed over SCIM, kept so that
-- the groups people hold in the IdP can be reviewed next to the catalog's grants. Display names
-- are unique ignoring case, as SCIM clients match groups by displayName.
CREATE TABLE scim_groups (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    -- COLLATE "C": lower(display_name) is the list order and must sort bytewise, as on SQLite.
    display_name TEXT COLLATE "C" NOT NULL,
    external_id  TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL DEFAULT '',
    version      BIGINT NOT NULL DEFAULT 1,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
-- Also the list order (by lowercased name), so a page is an index range.
CREATE UNIQUE INDEX scim_groups_display_name_key ON scim_groups (lower(display_name));
CREATE INDEX scim_groups_external_id_idx ON scim_groups (external_id) WHERE external_id <> '';
CREATE INDEX scim_groups_source_idx ON scim_groups (source);

-- One row per member. A group of 10,000 people is changed by its difference, not rewritten.
-- The primary key serves "members of a group" (and the cascade of a group's deletion); the
-- identity index serves "groups of a person" and the foreign key check of identity changes.
CREATE TABLE scim_group_members (
    group_id    TEXT COLLATE "C" NOT NULL REFERENCES scim_groups (id) ON DELETE CASCADE,
    identity_id TEXT COLLATE "C" NOT NULL REFERENCES identities (id),
    PRIMARY KEY (group_id, identity_id)
);
CREATE INDEX scim_group_members_identity_idx ON scim_group_members (identity_id, group_id);
