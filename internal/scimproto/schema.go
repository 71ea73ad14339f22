package scimproto

// set builds a lookup set of lower-case names.
func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// UserSchema describes the User resource (RFC 7643 section 4.1) with the enterprise extension
// (section 4.3). userName is deliberately not caseExact: RFC 7643 declares it case-insensitive,
// and IdPs look users up by it in whatever case they hold.
var UserSchema = Schema{
	MultiValued: set("emails", "phonenumbers", "addresses", "groups", "entitlements", "roles",
		"x509certificates", "ims", "photos"),
	ReadOnly:  set("id", "meta", "groups"),
	CaseExact: set("id", "externalid", "meta.version"),
	Booleans: set("active", "emails.primary", "phonenumbers.primary", "addresses.primary",
		"entitlements.primary", "roles.primary", "x509certificates.primary", "ims.primary",
		"photos.primary"),
}

// GroupSchema describes the Group resource (RFC 7643 section 4.2).
var GroupSchema = Schema{
	MultiValued: set("members"),
	ReadOnly:    set("id", "meta"),
	CaseExact:   set("id", "externalid", "meta.version"),
	Booleans:    set(),
}

// matchSchema is what Match uses when it is not told the resource type: the union of the
// User and Group case-exact attributes (they do not conflict).
var matchSchema = Schema{CaseExact: union(UserSchema.CaseExact, GroupSchema.CaseExact)}

func union(ms ...map[string]bool) map[string]bool {
	out := map[string]bool{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = out[k] || v
		}
	}
	return out
}
