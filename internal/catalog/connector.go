package catalog

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
)

// connectorFields lists the settings each connector type accepts. A connector option is added
// here when the connector learns it; an unknown key is an error, because a misspelt option
// (bind_nd) would otherwise be ignored silently until provisioning fails.
var connectorFields = map[string][]string{
	"ldap": {
		"url", "bind_dn", "bind_password_env", "bind_password_file", "users_dn", "groups_dn",
		"disabled_dn", "flavor", "start_tls", "insecure_skip_verify", "ca_file", "timeout", "page_size",
		"drift", // the provisioning engine's drift policy (internal/provision.ParseDriftPolicy)
	},
	"scim": {
		"url", "token_env", "token_file", "username", "password_env", "password_file",
		"ca_file", "insecure_skip_verify", "timeout", "page_size", "drift",
		"user_name", "match_by", "deprovision", "max_retries",
	},
	"manual": {"assignee", "instructions", "drift"},
}

// connectorStrings are settings that must be strings when present.
var connectorStrings = []string{
	"url", "bind_dn", "users_dn", "groups_dn", "disabled_dn", "flavor", "ca_file", "username",
	"assignee", "instructions", "timeout", "user_name", "match_by", "deprovision",
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// secretNames are setting names that hold a secret when written inline.
var secretNames = []string{
	"password", "passwd", "bind_password", "token", "secret", "client_secret", "api_key", "apikey",
	"private_key", "access_token", "bearer_token", "secret_key", "access_key",
}

var secretSuffixes = []string{"_password", "_passwd", "_secret", "_token", "_api_key", "_private_key"}

// isSecretName reports whether a setting named k holds a secret inline. Secrets are given by
// reference only (k_env names an environment variable, k_file a file): the catalog lives in
// version control and in the database, and both are read by more people than should see a
// directory's admin password.
func isSecretName(k string) bool {
	k = strings.ToLower(k)
	if strings.HasSuffix(k, "_env") || strings.HasSuffix(k, "_file") {
		return false
	}
	if slices.Contains(secretNames, k) {
		return true
	}
	for _, s := range secretSuffixes {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	return false
}

// connector checks a system's connector. Messages never quote a setting's value: a value in the
// wrong place may be a secret.
func (v *validator) connector(l *objLoc, c gatehouse.Connector) {
	if c.Type == "" {
		v.problem(l, "connector.type", "required: %s", strings.Join(connectorTypes, ", "))
	} else if !slices.Contains(connectorTypes, c.Type) {
		v.problem(l, "connector.type", "%q is not one of %s%s", c.Type, strings.Join(connectorTypes, ", "), didYouMean(c.Type, connectorTypes))
	}
	secrets := map[string]bool{}
	v.secrets(l, "connector", c.Settings, secrets)
	known, typeKnown := connectorFields[c.Type]
	for _, k := range sortedKeys(c.Settings) {
		f := "connector." + k
		val := c.Settings[k]
		switch {
		case secrets[f]:
			continue
		case typeKnown && !slices.Contains(known, k):
			v.problem(l, f, "unknown setting for a %s connector%s (known: type, %s)", c.Type, didYouMean(k, known), strings.Join(known, ", "))
			continue
		}
		s, isStr := val.(string)
		switch {
		case strings.HasSuffix(k, "_env"):
			if !isStr || !envName.MatchString(s) {
				v.problem(l, f, "must name an environment variable (letters, digits, _)")
			} else if why := connector.ReservedEnv(s); why != "" {
				// Refused by every server; a server's own limits are checked by plan and apply.
				v.problem(l, f, "%s: %s", s, why)
			}
		case strings.HasSuffix(k, "_file"):
			if !isStr || strings.TrimSpace(s) == "" {
				v.problem(l, f, "must be a file path")
			}
		case slices.Contains(connectorStrings, k) && !isStr:
			v.problem(l, f, "must be a string")
		}
	}
	str := func(k string) string { s, _ := c.Settings[k].(string); return s }
	has := func(k string) bool { return c.Settings[k] != nil }
	// oneRef checks that a secret is given exactly once, by env or by file.
	oneRef := func(base string, required bool) {
		env, file := has(base+"_env"), has(base+"_file")
		switch {
		case env && file:
			v.problem(l, "connector."+base+"_file", "set one of %s_env and %s_file, not both", base, base)
		case !env && !file && required && !secrets["connector."+base]:
			v.problem(l, "connector", "required: %s_env or %s_file (the secret by reference)", base, base)
		}
	}
	needs := func(keys ...string) {
		for _, k := range keys {
			if !has(k) {
				v.problem(l, "connector", "required: %s for a %s connector", k, c.Type)
			}
		}
	}
	switch c.Type {
	case "ldap":
		needs("url", "bind_dn", "users_dn", "groups_dn")
		oneRef("bind_password", true)
		if f := str("flavor"); has("flavor") && f != "openldap" && f != "ad" {
			v.problem(l, "connector.flavor", "%q is not one of openldap, ad", f)
		}
		v.connectorURL(l, str("url"), "ldap", "ldaps")
	case "scim":
		needs("url")
		basic := has("username")
		oneRef("token", !basic)
		oneRef("password", basic)
		if basic && (has("token_env") || has("token_file")) {
			v.problem(l, "connector.username", "set a bearer token or basic auth (username and password), not both")
		}
		v.connectorURL(l, str("url"), "http", "https")
		oneOf := func(k string, allowed ...string) {
			if has(k) && !slices.Contains(allowed, str(k)) {
				v.problem(l, "connector."+k, "must be one of %s", strings.Join(allowed, ", "))
			}
		}
		oneOf("user_name", "email", "employee_id", "local_part")
		oneOf("match_by", "userName", "externalId", "email")
		oneOf("deprovision", "disable", "delete")
	case "manual":
		if a := str("assignee"); a != "" && !gatehouse.ValidEmail(a) {
			v.problem(l, "connector.assignee", "%q is not an email address", a)
		}
	}
}

// secrets reports inline secrets anywhere in a connector's settings, nested ones included.
func (v *validator) secrets(l *objLoc, prefix string, m map[string]any, found map[string]bool) {
	for _, k := range sortedKeys(m) {
		f := prefix + "." + k
		if isSecretName(k) {
			v.problem(l, f, "inline secret: use %s_env or %s_file", k, k)
			found[f] = true
			continue
		}
		switch x := m[k].(type) {
		case map[string]any:
			v.secrets(l, f, x, found)
		case []any:
			for i, el := range x {
				if sub, ok := el.(map[string]any); ok {
					v.secrets(l, fmt.Sprintf("%s[%d]", f, i), sub, found)
				}
			}
		}
	}
}

func (v *validator) connectorURL(l *objLoc, raw string, schemes ...string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		v.problem(l, "connector.url", "not a URL")
		return
	}
	if _, ok := u.User.Password(); ok {
		v.problem(l, "connector.url", "inline secret: the URL holds a password; give it by reference (*_env or *_file) instead")
		return
	}
	if !slices.Contains(schemes, u.Scheme) || u.Host == "" {
		v.problem(l, "connector.url", "must be a %s:// or %s:// URL with a host", schemes[0], schemes[1])
	}
}
