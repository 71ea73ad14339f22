-- A SCIM client's externalId (attribute scim.externalId) is its own identifier of a user, not a
-- key: several users may share one, and it is no longer copied into employee_id, whose unique
-- index used to answer the "externalId eq" lookups IdPs make before a create. This index
-- answers them now. The expression must stay the one scimExternalIDExpr writes.
CREATE INDEX identities_scim_external_id_idx ON identities (json_extract(attributes, '$."scim.externalId"'));
