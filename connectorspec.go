package gatehouse

import (
	"slices"
	"strings"
)

// SettingKind is the type of a connector setting's value as written in the catalog.
type SettingKind string

const (
	SettingString   SettingKind = "string"   // one line of text, surrounding spaces dropped
	SettingText     SettingKind = "text"     // free text, kept as written (instructions)
	SettingURL      SettingKind = "url"      // a URL with a host, one of SettingSpec.Schemes
	SettingEmail    SettingKind = "email"    // an email address
	SettingBool     SettingKind = "bool"     // true or false
	SettingInt      SettingKind = "int"      // a whole number
	SettingDuration SettingKind = "duration" // Go duration text such as 10s
	SettingMap      SettingKind = "map"      // a nested mapping read by another package (drift)
	// SettingSecret is a secret given by reference only, as <name>_env (an environment
	// variable) or <name>_file (a file): the catalog lives in version control and in the
	// database, both read by more people than should see a directory's admin password.
	SettingSecret SettingKind = "secret"
)

// SettingSpec declares one setting of a connector: the connector decodes it from this
// declaration and catalog validation checks it against the same declaration, so an option is
// added in one place.
type SettingSpec struct {
	Name        string
	Kind        SettingKind
	Description string
	// Required: the setting must be given. RequiredWith and RequiredWithout make it required
	// only when another setting is given, or is not (basic auth's password with its username, a
	// bearer token without one).
	Required        bool
	RequiredWith    string
	RequiredWithout string
	// Default is the value used when the setting is absent, as catalog text ("10s", "500").
	Default string
	// Allowed lists the values a string setting may take; empty allows any.
	Allowed []string
	// ShowValue: problems may quote the value. Values are otherwise never quoted, because a
	// value in the wrong place may be a secret.
	ShowValue bool
	// Schemes are the URL schemes a SettingURL accepts.
	Schemes []string
}

// Keys returns the catalog keys of the setting: its name, or for a secret the two references.
func (s SettingSpec) Keys() []string {
	if s.Kind == SettingSecret {
		return []string{s.Name + "_env", s.Name + "_file"}
	}
	return []string{s.Name}
}

// IsString reports whether the setting is written as a string.
func (s SettingSpec) IsString() bool {
	switch s.Kind {
	case SettingString, SettingText, SettingURL, SettingEmail, SettingDuration:
		return true
	}
	return false
}

// SettingProblem is what a connector's own check finds wrong with its settings. Setting names
// the key ("" for the connector as a whole); Message never quotes a secret.
type SettingProblem struct {
	Setting string
	Message string
}

// ConnectorSpec declares a connector type: its settings and what it can do. Each connector
// package declares its own; the binary passes them to catalog validation, which knows no
// connector by name.
type ConnectorSpec struct {
	Type        string // the catalog's connector type
	Description string
	Settings    []SettingSpec
	// Tasks: people make the changes, through manual tasks. There is nothing to connect to,
	// the connector is opened with its system and the task queue, and a system's status
	// shows its open tasks.
	Tasks bool
	// NamesAccounts: Gatehouse names the accounts it creates on systems of this type, by the
	// system's account_name rule (uid, sAMAccountName). Other connectors name accounts
	// themselves (a SCIM userName is the email), and declaring account_name on them is an error.
	NamesAccounts bool
	// NameLimit, when set, is the longest account name the target holds for the given
	// settings (Active Directory's sAMAccountName): the default max_length, and the most a
	// system may declare. Unset or zero Max: no limit.
	NameLimit func(settings map[string]any) NameLimit
	// Checked, when set, says what a passing connector.Checker check verified, in the
	// connector's terms, for a system test.
	Checked func(settings map[string]any) string
	// Check, when set, checks the settings together (one against another, or a value
	// against rules a declaration cannot state), after each has been checked alone against
	// its SettingSpec.
	Check func(settings map[string]any) []SettingProblem
	// Offline, when set, tests a system of this type without opening anything (there is
	// nothing to connect to): it returns what was checked and the capabilities (as
	// connector.Capabilities names them in a system test).
	Offline func(settings map[string]any) (checked string, capabilities []string)
}

// NameLimit is the longest account name a target holds.
type NameLimit struct {
	Max int // in characters; 0: no limit
	// Holder names who imposes it, to finish "N is more than …": "Active Directory allows
	// (sAMAccountName holds at most 20 characters)".
	Holder string
}

// nameLimit returns the limit of a system with these settings (none when c is nil).
func (c *ConnectorSpec) nameLimit(settings map[string]any) NameLimit {
	if c == nil || c.NameLimit == nil {
		return NameLimit{}
	}
	return c.NameLimit(settings)
}

// Setting returns the declaration of the setting with the given name.
func (c *ConnectorSpec) Setting(name string) (SettingSpec, bool) {
	i := slices.IndexFunc(c.Settings, func(s SettingSpec) bool { return s.Name == name })
	if i < 0 {
		return SettingSpec{}, false
	}
	return c.Settings[i], true
}

// Keys lists every catalog key the connector accepts, in declaration order.
func (c *ConnectorSpec) Keys() []string {
	var keys []string
	for _, s := range c.Settings {
		keys = append(keys, s.Keys()...)
	}
	return keys
}

// ConnectorSpecs are the connector types a binary knows, in the order they are listed to
// people. Package connectors builds it; catalog validation and the service receive it.
type ConnectorSpecs []*ConnectorSpec

// Lookup returns the spec of a connector type, or nil.
func (cs ConnectorSpecs) Lookup(typ string) *ConnectorSpec {
	for _, c := range cs {
		if c.Type == typ {
			return c
		}
	}
	return nil
}

// Types lists the connector types.
func (cs ConnectorSpecs) Types() []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Type
	}
	return out
}

// Tasks reports whether systems of type typ are worked through manual tasks.
func (cs ConnectorSpecs) Tasks(typ string) bool {
	c := cs.Lookup(typ)
	return c != nil && c.Tasks
}

// NamesAccounts reports whether Gatehouse names the accounts it creates on systems of type typ.
func (cs ConnectorSpecs) NamesAccounts(typ string) bool {
	c := cs.Lookup(typ)
	return c != nil && c.NamesAccounts
}

// namingTypes lists the types whose accounts Gatehouse names, for problems ("ldap").
func (cs ConnectorSpecs) namingTypes() string {
	var types []string
	for _, c := range cs {
		if c.NamesAccounts {
			types = append(types, c.Type)
		}
	}
	return strings.Join(types, ", ")
}
