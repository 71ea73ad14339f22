package gatehouse

// SCIMMembership is one SCIM group an identity is a member of, as a SCIM User's groups
// attribute shows it.
type SCIMMembership struct {
	GroupID     string
	DisplayName string
}
