package connector

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// DriftSetting declares the drift policy every connector accepts. The provisioning engine reads
// it (provision.ParseDriftPolicy); connectors list it so that catalog validation accepts it.
var DriftSetting = gatehouse.SettingSpec{
	Name: "drift", Kind: gatehouse.SettingMap,
	Description: "what reconcile does about unknown memberships, unknown accounts and leavers' accounts: enforce or report",
}

// Values are a connector's settings decoded by its spec: every declared setting (a secret as its
// two references) with its kind's Go type and its default applied.
type Values map[string]any

// String returns a string, text, URL, email or secret-reference setting ("" when absent).
func (v Values) String(k string) string { s, _ := v[k].(string); return s }

// Bool returns a bool setting.
func (v Values) Bool(k string) bool { b, _ := v[k].(bool); return b }

// Int returns a whole-number setting.
func (v Values) Int(k string) int { n, _ := v[k].(int); return n }

// Duration returns a duration setting.
func (v Values) Duration(k string) time.Duration { d, _ := v[k].(time.Duration); return d }

// Decode reads the settings spec declares from settings. Each setting is read with its kind's
// getter (Settings), so a wrong type is an error naming the setting, never its value; the
// errors of all settings are returned together. Strings are trimmed except free text, emails
// and durations, which are read as written. Keys spec does not declare are ignored: catalog
// validation reports them.
func Decode(spec *gatehouse.ConnectorSpec, settings map[string]any) (Values, []error) {
	s := Settings(settings)
	out := Values{}
	var errs []error
	for _, st := range spec.Settings {
		for _, k := range st.Keys() {
			v, err := decodeOne(s, st, k)
			if err != nil {
				errs = append(errs, err)
			}
			out[k] = v
		}
	}
	return out, errs
}

func decodeOne(s Settings, st gatehouse.SettingSpec, k string) (any, error) {
	switch st.Kind {
	case gatehouse.SettingBool:
		return s.Bool(k)
	case gatehouse.SettingInt:
		def := 0
		if st.Default != "" {
			n, err := strconv.Atoi(st.Default)
			if err != nil {
				panic(fmt.Sprintf("connector setting %s: default %q is not a whole number", k, st.Default))
			}
			def = n
		}
		return s.Int(k, def)
	case gatehouse.SettingDuration:
		var def time.Duration
		if st.Default != "" {
			d, err := time.ParseDuration(st.Default)
			if err != nil {
				panic(fmt.Sprintf("connector setting %s: default %q is not a duration", k, st.Default))
			}
			def = d
		}
		return s.Duration(k, def)
	case gatehouse.SettingMap:
		return s[k], nil
	case gatehouse.SettingText, gatehouse.SettingEmail:
		v, err := s.String(k)
		if v == "" {
			v = st.Default
		}
		return v, err
	}
	v, err := s.String(k)
	if v = strings.TrimSpace(v); v == "" {
		v = st.Default
	}
	return v, err
}
