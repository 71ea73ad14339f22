package gatehouse

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// AccountNaming is a system's declared rule for the login name of the accounts Gatehouse creates
// there (catalog field account_name, docs/catalog.md): a template, a length limit, a character
// set and what to do when the name is taken. Naming happens once: the name given to a person is
// recorded (AccountName) and kept when the template changes or somebody with a similar name
// arrives later.
type AccountNaming struct {
	Template  string `json:"template,omitempty"`   // default DefaultNameTemplate
	MaxLength int    `json:"max_length,omitempty"` // in characters; 0: the system's default
	Charset   string `json:"charset,omitempty"`    // ascii (default) | unicode
	Collision string `json:"collision,omitempty"`  // suffix (default) | refuse
}

// Values of AccountNaming fields.
const (
	DefaultNameTemplate = "{local}"
	CharsetASCII        = "ascii"
	CharsetUnicode      = "unicode"
	CollisionSuffix     = "suffix"
	CollisionRefuse     = "refuse"
	// ADMaxUsername is the length of sAMAccountName for users: the default (and the most) for an
	// ldap system of flavor ad.
	ADMaxUsername = 20
)

// NamePlaceholders are the template's placeholders. {given.N}, {family.N} and {local.N} are the
// first N characters of the value.
var NamePlaceholders = []string{"local", "given", "family", "employee_id"}

// AccountName is the login name given to a person on a system, recorded when the account was
// created so that it never changes afterwards.
type AccountName struct {
	SystemID   string    `json:"system_id"`
	IdentityID string    `json:"identity_id"`
	Name       string    `json:"name"`
	Detail     string    `json:"detail,omitempty"` // how the name was chosen (the evidence)
	AssignedAt time.Time `json:"assigned_at"`
}

// NamesAccounts reports whether Gatehouse names the accounts it creates on the system: ldap
// systems (uid, sAMAccountName). Other connectors name accounts themselves (a SCIM userName is
// the email).
func (s *System) NamesAccounts() bool { return s.Connector.Type == "ldap" }

// isAD reports whether the system is an Active Directory (ldap flavor ad).
func (s *System) isAD() bool {
	f, _ := s.Connector.Settings["flavor"].(string)
	return s.Connector.Type == "ldap" && strings.TrimSpace(f) == "ad"
}

// Naming returns the system's rule with every default filled in: template {local}, charset
// ascii, collision suffix, and a max length of 20 for Active Directory (none otherwise).
func (s *System) Naming() AccountNaming {
	var r AccountNaming
	if s.AccountName != nil {
		r = *s.AccountName
	}
	if r.Template == "" {
		r.Template = DefaultNameTemplate
	}
	if r.Charset == "" {
		r.Charset = CharsetASCII
	}
	if r.Collision == "" {
		r.Collision = CollisionSuffix
	}
	if r.MaxLength == 0 && s.isAD() {
		r.MaxLength = ADMaxUsername
	}
	return r
}

// NamingProblem is one reason a declared rule is invalid: the field and what is wrong.
type NamingProblem struct{ Field, Message string }

// NamingProblems checks a system's declared rule (nil: nothing declared, nothing wrong).
func (s *System) NamingProblems() []NamingProblem {
	r := s.AccountName
	if r == nil {
		return nil
	}
	var out []NamingProblem
	bad := func(field, format string, args ...any) {
		out = append(out, NamingProblem{field, fmt.Sprintf(format, args...)})
	}
	if !s.NamesAccounts() {
		bad("", "only ldap systems name the accounts Gatehouse creates (a %s connector names them itself)", s.Connector.Type)
	}
	if r.Template != "" {
		if err := checkTemplate(r.Template); err != nil {
			bad("template", "%v", err)
		}
	}
	switch {
	case r.MaxLength < 0:
		bad("max_length", "must be positive, got %d", r.MaxLength)
	case s.isAD() && r.MaxLength > ADMaxUsername:
		bad("max_length", "%d is more than Active Directory allows (sAMAccountName holds at most %d characters)", r.MaxLength, ADMaxUsername)
	case r.MaxLength > 0 && r.MaxLength < 3:
		bad("max_length", "must be at least 3 (room for a name and a collision suffix), got %d", r.MaxLength)
	}
	if r.Charset != "" && r.Charset != CharsetASCII && r.Charset != CharsetUnicode {
		bad("charset", "%q is not one of ascii, unicode", r.Charset)
	}
	if r.Collision != "" && r.Collision != CollisionSuffix && r.Collision != CollisionRefuse {
		bad("collision", "%q is not one of suffix, refuse", r.Collision)
	}
	return out
}

// checkTemplate checks braces and placeholders.
func checkTemplate(t string) error {
	rest := t
	for {
		i := strings.IndexAny(rest, "{}")
		if i < 0 {
			return nil
		}
		if rest[i] == '}' {
			return fmt.Errorf("%q: a } without its {", t)
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return fmt.Errorf("%q: a { without its }", t)
		}
		if _, _, err := placeholder(rest[i+1 : i+j]); err != nil {
			return fmt.Errorf("%q: %w", t, err)
		}
		rest = rest[i+j+1:]
	}
}

// placeholder parses "given" or "given.1" into the name and the number of characters (0: all).
func placeholder(p string) (string, int, error) {
	name, n, cut := strings.Cut(p, ".")
	known := false
	for _, k := range NamePlaceholders {
		known = known || k == name
	}
	if !known {
		return "", 0, fmt.Errorf("unknown placeholder {%s} (known: {local}, {given}, {family}, {employee_id}, and {given.1}… for the first characters)", p)
	}
	if !cut {
		return name, 0, nil
	}
	k, err := strconv.Atoi(n)
	if err != nil || k < 1 || k > 64 || name == "employee_id" {
		return "", 0, fmt.Errorf("placeholder {%s}: .N must be a number of characters from 1 to 64 after local, given or family", p)
	}
	return name, k, nil
}

// NamePerson is what a template may use.
type NamePerson struct {
	Email, GivenName, FamilyName, EmployeeID string
}

// Candidate is the name the rule gives a person before any collision: the template filled in,
// lowercased, kept to the charset, cut to MaxLength characters (never bytes), with no separator
// (. - _) at either end. Steps describes what happened, for the evidence. An empty result is
// an error.
func (r AccountNaming) Candidate(p NamePerson) (name string, steps []string, err error) {
	if r.Template == "" {
		r.Template = DefaultNameTemplate
	}
	local, _, _ := strings.Cut(p.Email, "@")
	values := map[string]string{"local": local, "given": p.GivenName, "family": p.FamilyName, "employee_id": p.EmployeeID}
	var b strings.Builder
	rest := r.Template
	for rest != "" {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:i])
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return "", nil, fmt.Errorf("account name template %q: a { without its }", r.Template)
		}
		key, n, err := placeholder(rest[i+1 : i+j])
		if err != nil {
			return "", nil, fmt.Errorf("account name template %q: %w", r.Template, err)
		}
		v := values[key]
		if n > 0 {
			v = firstRunes(cleanName(v, r.Charset), n)
		}
		b.WriteString(v)
		rest = rest[i+j+1:]
	}
	raw := b.String()
	name = trimSeparators(cleanName(raw, r.Charset))
	if name != strings.ToLower(raw) {
		steps = append(steps, fmt.Sprintf("%s → %s (charset %s)", raw, name, cmp.Or(r.Charset, CharsetASCII)))
	}
	if r.MaxLength > 0 && utf8.RuneCountInString(name) > r.MaxLength {
		cut := trimSeparators(firstRunes(name, r.MaxLength))
		steps = append(steps, fmt.Sprintf("%s → %s (max %d)", name, cut, r.MaxLength))
		name = cut
	}
	if name == "" {
		return "", steps, fmt.Errorf("account name template %q gives an empty name for %s (charset %s)", r.Template, p.Email, cmp.Or(r.Charset, CharsetASCII))
	}
	return name, steps, nil
}

// Assign names a person: the candidate, or with collision suffix the candidate with 2, 3, …
// appended (cut further to stay within MaxLength) until taken says the name is free. With
// collision refuse a taken candidate is an error. taken compares lowercased names. Detail is
// the evidence: the template, each step and why.
func (r AccountNaming) Assign(p NamePerson, taken func(name string) (by string, ok bool)) (name, detail string, err error) {
	base, steps, err := r.Candidate(p)
	explain := func() string {
		return "template " + cmp.Or(r.Template, DefaultNameTemplate) + ": " + strings.Join(steps, "; ")
	}
	if err != nil {
		return "", explain(), err
	}
	if len(steps) == 0 {
		steps = append(steps, base)
	}
	by, clash := taken(base)
	if !clash {
		return base, explain(), nil
	}
	if r.Collision == CollisionRefuse {
		steps = append(steps, fmt.Sprintf("%s is taken by %s (collision refuse)", base, by))
		return "", explain(), fmt.Errorf("account name %s is taken by %s, and the system's collision rule is refuse: "+
			"give the person a name by hand or change account_name", base, by)
	}
	for n := 2; n < 10000; n++ {
		suffix := strconv.Itoa(n)
		stem := base
		if r.MaxLength > 0 && utf8.RuneCountInString(stem)+len(suffix) > r.MaxLength {
			if r.MaxLength-len(suffix) < 1 {
				break // no room left for any of the name
			}
			stem = trimSeparators(firstRunes(stem, r.MaxLength-len(suffix)))
		}
		cand := stem + suffix
		if _, clash := taken(cand); !clash {
			steps = append(steps, fmt.Sprintf("%s (collision with %s, taken by %s)", cand, base, by))
			return cand, explain(), nil
		}
	}
	return "", explain(), fmt.Errorf("account name %s: no free name with a number appended within %d characters", base, r.MaxLength)
}

// cleanName lowercases s and keeps the characters of charset: ascii transliterates Latin
// letters (é → e, ß → ss, æ → ae) and keeps a-z, 0-9 and . - _; unicode keeps letters and
// digits of any script and . - _. Everything else (spaces, apostrophes, @) is removed.
func cleanName(s, charset string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch {
		case c == '.' || c == '-' || c == '_':
			b.WriteRune(c)
		case c < utf8.RuneSelf:
			if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
				b.WriteRune(c)
			}
		case charset == CharsetUnicode:
			if unicode.IsLetter(c) || unicode.IsDigit(c) {
				b.WriteRune(c)
			}
		default:
			b.WriteString(latin[c]) // not in the table: removed
		}
	}
	return b.String()
}

func trimSeparators(s string) string { return strings.Trim(s, ".-_") }

func firstRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}
