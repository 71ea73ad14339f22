package sqlstore

// scimExternalIDExpr is a SCIM user's externalId (attribute scim.externalId) as an SQL
// expression. It is exactly the expression migration 0021 indexes on each engine: the planner
// uses an expression index only for a query spelling the same expression.
func scimExternalIDExpr(d *dialect) string {
	if d.name == "sqlite" {
		return `json_extract(attributes, '$."scim.externalId"')`
	}
	return `((attributes::jsonb) ->> 'scim.externalId')`
}
