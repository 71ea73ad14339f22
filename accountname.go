package gatehouse

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
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

// Naming returns the system's rule with every default filled in: template {local}, charset
// ascii, collision suffix, and the max length of the connector's NameLimit (none without one).
// spec is the system's connector type.
func (s *System) Naming(spec *ConnectorSpec) AccountNaming {
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
	if r.MaxLength == 0 {
		r.MaxLength = spec.nameLimit(s.Connector.Settings).Max
	}
	return r
}

// NamingProblem is one reason a declared rule is invalid: the field and what is wrong.
type NamingProblem struct{ Field, Message string }

// NamingProblems checks a system's declared rule (nil: nothing declared, nothing wrong)
// against its connector type, one of specs: only a type that NamesAccounts takes one, within
// its NameLimit.
func (s *System) NamingProblems(specs ConnectorSpecs) []NamingProblem {
	r := s.AccountName
	if r == nil {
		return nil
	}
	var out []NamingProblem
	bad := func(field, format string, args ...any) {
		out = append(out, NamingProblem{field, fmt.Sprintf(format, args...)})
	}
	spec := specs.Lookup(s.Connector.Type)
	if spec == nil || !spec.NamesAccounts {
		bad("", "only %s systems name the accounts Gatehouse creates (a %s connector names them itself)", specs.namingTypes(), s.Connector.Type)
	}
	limit := spec.nameLimit(s.Connector.Settings)
	if r.Template != "" {
		if err := checkTemplate(r.Template); err != nil {
			bad("template", "%v", err)
		}
	}
	switch {
	case r.MaxLength < 0:
		bad("max_length", "must be positive, got %d", r.MaxLength)
	case limit.Max > 0 && r.MaxLength > limit.Max:
		bad("max_length", "%d is more than %s", r.MaxLength, limit.Holder)
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
	for n := 0; ; n++ {
		i := strings.IndexAny(rest, "{}")
		if i < 0 && n == 0 {
			// Everybody would get the same name (and the numbered ones after it).
			return fmt.Errorf("%q has no placeholder: a name must come from the person ({local}, {given}, {family}, {employee_id})", t)
		}
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
		return "", steps, fmt.Errorf("account name template %q gives an empty name for %s (charset %s keeps %s): "+
			"give the person a name by hand, or declare charset unicode or a template with {employee_id}",
			r.Template, p.Email, cmp.Or(r.Charset, CharsetASCII), charsetKeeps(r.Charset))
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
	if what := Reserved(base); what != "" {
		// A person whose names spell a well-known account must not get it, nor a look-alike
		// with a number appended: an operator (or an HR record) could impersonate it.
		steps = append(steps, fmt.Sprintf("%s is reserved (%s)", base, what))
		return "", explain(), fmt.Errorf("account name %s is reserved (%s) and is never given to a person: "+
			"give the person a name by hand or change account_name", base, what)
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

// reserved are the names of well-known accounts (Active Directory's built-in and service
// accounts, and the superuser and administrator names of Unix directories), lowercased.
var reserved = map[string]string{
	"administrator":      "the domain's built-in Administrator",
	"admin":              "an administrator's name",
	"root":               "the Unix superuser",
	"guest":              "the built-in Guest account",
	"krbtgt":             "the Kerberos ticket-granting account",
	"defaultaccount":     "the built-in DefaultAccount",
	"wdagutilityaccount": "the built-in WDAGUtilityAccount",
}

// Reserved says why name may not be given to a person ("" if it may): it is, without case, a
// well-known account's name, or a read-only domain controller's krbtgt_N, or looks like one
// (charset unicode: fullwidth letters, Cyrillic or Greek look-alikes such as the а of "аdmin").
func Reserved(name string) string {
	for _, n := range []string{strings.ToLower(name), lookalike(name)} {
		if why := reserved[n]; why != "" {
			return why
		}
		if strings.HasPrefix(n, "krbtgt_") {
			return "a read-only domain controller's Kerberos account"
		}
	}
	return ""
}

// confusable maps Cyrillic and Greek letters that look like Latin ones to those.
var confusable = map[rune]rune{
	'а': 'a', 'е': 'e', 'і': 'i', 'ј': 'j', 'к': 'k', 'о': 'o', 'р': 'p', 'с': 'c', 'ѕ': 's', 'у': 'y',
	'х': 'x', 'һ': 'h', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w', 'ɡ': 'g', 'ı': 'i',
	'α': 'a', 'ε': 'e', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't', 'υ': 'u', 'χ': 'x',
}

// lookalike is name as it reads: compatibility forms folded (NFKC: ａ → a) and look-alike
// letters of other scripts replaced by the Latin ones.
func lookalike(name string) string {
	return strings.Map(func(c rune) rune {
		if l, ok := confusable[c]; ok {
			return l
		}
		return c
	}, strings.ToLower(norm.NFKC.String(name)))
}

func charsetKeeps(charset string) string {
	if charset == CharsetUnicode {
		return "letters and digits of any script and . - _"
	}
	return "Latin letters, digits and . - _"
}

// cleanName lowercases s and keeps the characters of charset: ascii transliterates Latin
// letters (é → e, ß → ss, æ → ae, ệ → e) and keeps a-z, 0-9 and . - _; unicode keeps letters,
// their marks and digits of any script and . - _, composed (NFC) so that the same name typed
// with combining accents gives the same result. Everything else (spaces, apostrophes, @, the
// characters sAMAccountName forbids: " / \ [ ] : ; | = , + * ? < >) is removed, so neither
// charset can produce them.
func cleanName(s, charset string) string {
	var b strings.Builder
	kept := false // a letter was kept: a combining mark after it belongs to it
	for _, c := range norm.NFC.String(strings.ToLower(s)) {
		switch {
		case c == '.' || c == '-' || c == '_':
			b.WriteRune(c)
			kept = false
			continue
		case c < utf8.RuneSelf:
			if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
				b.WriteRune(c)
				kept = true
				continue
			}
		case charset == CharsetUnicode:
			if unicode.IsLetter(c) || unicode.IsDigit(c) || (kept && unicode.IsMark(c)) {
				b.WriteRune(c)
				kept = true
				continue
			}
		default:
			if t, ok := latin[c]; ok {
				b.WriteString(t)
				kept = true
				continue
			}
			// A Latin letter with accents the table does not list (Vietnamese ễ, ṭ): its
			// base letter. Anything else (other scripts, marks) is removed.
			if d := norm.NFD.String(string(c)); d[0] < utf8.RuneSelf && d[0] >= 'a' && d[0] <= 'z' {
				b.WriteByte(d[0])
				kept = true
				continue
			}
		}
		kept = false
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
