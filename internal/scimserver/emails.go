package scimserver

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/scimproto"
)

// A User's emails are kept as the published schema describes them (value, type, primary,
// display), whatever the client sent: sub-attribute names are matched ignoring case and stored
// in their canonical case ("Primary" is primary), sub-attributes the schema does not have are
// dropped (as unknown attributes of a POST or PUT are), a type that is not one of the canonical
// values is dropped (RFC 7643 section 7 lets a provider ignore unsupported values), and at
// most one value may be primary (RFC 7643 section 2.4).

// emailTypes are the canonical values of emails.type, as /Schemas publishes them.
var emailTypes = []string{"work", "home", "other"}

// readEmails reads the emails attribute of a request. A single object is taken as a list of
// one (Entra ID sends that); a value without an address is dropped.
func readEmails(v any) ([]userDocEmail, error) {
	bad := func(format string, args ...any) error {
		return scimproto.Errorf(http.StatusBadRequest, scimproto.ScimTypeInvalidValue, format, args...)
	}
	var list []any
	switch v := v.(type) {
	case nil:
		return nil, nil
	case []any:
		list = v
	case map[string]any:
		list = []any{v}
	default:
		return nil, bad("emails must be a list of {value, type, primary, display}")
	}
	out := make([]userDocEmail, 0, len(list))
	primaries := 0
	for n, el := range list {
		var e userDocEmail
		switch el := el.(type) {
		case nil:
			continue
		case string:
			e.Value = strings.TrimSpace(el)
		case map[string]any:
			var err error
			if e.Value, _, err = getString(el, "value"); err != nil {
				return nil, bad("emails[%d].value must be a string", n)
			}
			typ, _, err := getString(el, "type")
			if err != nil {
				return nil, bad("emails[%d].type must be a string", n)
			}
			if t := strings.ToLower(typ); slices.Contains(emailTypes, t) {
				e.Type = t
			}
			if e.Primary, _, err = getBool(el, "primary"); err != nil {
				return nil, bad("emails[%d].primary must be a boolean", n)
			}
			if e.Display, _, err = getString(el, "display"); err != nil {
				return nil, bad("emails[%d].display must be a string", n)
			}
		default:
			return nil, bad("emails[%d] must be an object {value, type, primary, display}", n)
		}
		if e.Value == "" {
			continue
		}
		if !gatehouse.ValidEmail(e.Value) {
			return nil, bad("emails[%d].value %q is not an email address", n, e.Value)
		}
		if e.Primary {
			primaries++
		}
		out = append(out, e)
	}
	if primaries > 1 {
		return nil, bad("emails: %d values are primary; at most one may be (RFC 7643 section 2.4)", primaries)
	}
	return out, nil
}

// defaultEmails is what a user whose emails say no more than its userName shows.
func defaultEmails(userName string) []userDocEmail {
	return []userDocEmail{{Value: userName, Type: "work", Primary: true}}
}

// emailsToStore returns what to keep of emails: "" when the list says no more than userName
// (it is then rendered from userName).
func emailsToStore(emails []userDocEmail, userName string) string {
	if len(emails) == 0 {
		return ""
	}
	if len(emails) == 1 {
		e := emails[0]
		if strings.EqualFold(e.Value, userName) && (e.Type == "" || e.Type == "work") && e.Display == "" {
			return ""
		}
	}
	return string(mustJSON(emails))
}

// storedEmails returns the emails of a user, normalised again on the way out: lists stored
// before normalisation may hold other sub-attributes or another case.
func storedEmails(raw, userName string) []userDocEmail {
	var list []any
	if raw != "" && json.Unmarshal([]byte(raw), &list) == nil {
		if out := firstPrimaryOnly(list); len(out) > 0 {
			return out
		}
	}
	return defaultEmails(userName)
}

// firstPrimaryOnly reads a stored list value by value, leaving out what is not an address and
// keeping the first primary only (a list stored before normalisation may have two).
func firstPrimaryOnly(list []any) []userDocEmail {
	var out []userDocEmail
	seen := false
	for _, el := range list {
		one, err := readEmails([]any{el})
		if err != nil || len(one) == 0 {
			continue
		}
		e := one[0]
		if e.Primary && seen {
			e.Primary = false
		}
		seen = seen || e.Primary
		out = append(out, e)
	}
	return out
}

// emailValues renders emails as userResource does: maps with the sub-attributes that have a
// value (primary always).
func emailValues(emails []userDocEmail) []any {
	out := make([]any, len(emails))
	for i, e := range emails {
		m := map[string]any{"value": e.Value, "primary": e.Primary}
		if e.Type != "" {
			m["type"] = e.Type
		}
		if e.Display != "" {
			m["display"] = e.Display
		}
		out[i] = m
	}
	return out
}
