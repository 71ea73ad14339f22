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

// connector checks a system's connector against the spec its type declares (the connectors
// the caller passed to Parse or Validate). Messages never quote a setting's value unless its
// spec allows it: a value in the wrong place may be a secret.
func (v *validator) connector(l *objLoc, c gatehouse.Connector) {
	types := v.specs.Types()
	if c.Type == "" {
		v.problem(l, "connector.type", "required: %s", strings.Join(types, ", "))
	} else if !slices.Contains(types, c.Type) {
		v.problem(l, "connector.type", "%q is not one of %s%s", c.Type, strings.Join(types, ", "), didYouMean(c.Type, types))
	}
	spec := v.specs.Lookup(c.Type)
	secrets := map[string]bool{}
	v.secrets(l, "connector", c.Settings, secrets)
	var known []string
	if spec != nil {
		known = spec.Keys()
	}
	for _, k := range sortedKeys(c.Settings) {
		f := "connector." + k
		val := c.Settings[k]
		switch {
		case secrets[f]:
			continue
		case spec != nil && !slices.Contains(known, k):
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
		case v.isString(spec, k) && !isStr:
			v.problem(l, f, "must be a string")
		}
	}
	if spec != nil {
		v.connectorSettings(l, spec, c.Settings, secrets)
	}
}

// isString reports whether setting k is written as a string: by the type's spec, or, for an
// unknown type, by any connector's.
func (v *validator) isString(spec *gatehouse.ConnectorSpec, k string) bool {
	specs := v.specs
	if spec != nil {
		specs = gatehouse.ConnectorSpecs{spec}
	}
	for _, sp := range specs {
		if st, ok := sp.Setting(k); ok && st.IsString() {
			return true
		}
	}
	return false
}

// connectorSettings checks the settings of a known connector type against its declarations:
// what is required, secrets given once by reference, the connector's own checks, then values.
func (v *validator) connectorSettings(l *objLoc, spec *gatehouse.ConnectorSpec, settings map[string]any, secrets map[string]bool) {
	str := func(k string) string { s, _ := settings[k].(string); return s }
	has := func(k string) bool { return settings[k] != nil }
	required := func(st gatehouse.SettingSpec) bool {
		return st.Required || (st.RequiredWith != "" && has(st.RequiredWith)) ||
			(st.RequiredWithout != "" && !has(st.RequiredWithout))
	}
	for _, st := range spec.Settings {
		if st.Kind != gatehouse.SettingSecret && required(st) && !has(st.Name) {
			v.problem(l, "connector", "required: %s for a %s connector", st.Name, spec.Type)
		}
	}
	for _, st := range spec.Settings {
		if st.Kind != gatehouse.SettingSecret {
			continue
		}
		// A secret is given exactly once, by env or by file.
		base := st.Name
		env, file := has(base+"_env"), has(base+"_file")
		switch {
		case env && file:
			v.problem(l, "connector."+base+"_file", "set one of %s_env and %s_file, not both", base, base)
		case !env && !file && required(st) && !secrets["connector."+base]:
			v.problem(l, "connector", "required: %s_env or %s_file (the secret by reference)", base, base)
		}
	}
	if spec.Check != nil {
		for _, pr := range spec.Check(settings) {
			f := "connector"
			if pr.Setting != "" {
				f += "." + pr.Setting
			}
			v.problem(l, f, "%s", pr.Message)
		}
	}
	allowed := func(quoted bool) {
		for _, st := range spec.Settings {
			if len(st.Allowed) == 0 || st.ShowValue != quoted || !has(st.Name) || slices.Contains(st.Allowed, str(st.Name)) {
				continue
			}
			if quoted {
				v.problem(l, "connector."+st.Name, "%q is not one of %s", str(st.Name), strings.Join(st.Allowed, ", "))
			} else {
				v.problem(l, "connector."+st.Name, "must be one of %s", strings.Join(st.Allowed, ", "))
			}
		}
	}
	allowed(true)
	for _, st := range spec.Settings {
		if st.Kind == gatehouse.SettingURL {
			v.connectorURL(l, "connector."+st.Name, str(st.Name), st.Schemes...)
		}
	}
	allowed(false)
	for _, st := range spec.Settings {
		if a := str(st.Name); st.Kind == gatehouse.SettingEmail && a != "" && !gatehouse.ValidEmail(a) {
			v.problem(l, "connector."+st.Name, "%q is not an email address", a)
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

func (v *validator) connectorURL(l *objLoc, field, raw string, schemes ...string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		v.problem(l, field, "not a URL")
		return
	}
	if _, ok := u.User.Password(); ok {
		v.problem(l, field, "inline secret: the URL holds a password; give it by reference (*_env or *_file) instead")
		return
	}
	if !slices.Contains(schemes, u.Scheme) || u.Host == "" {
		v.problem(l, field, "must be a %s:// or %s:// URL with a host", schemes[0], schemes[1])
	}
}
