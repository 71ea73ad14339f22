package gatehouse

import (
	"slices"
	"time"
)

// EmploymentType is the HR employment type of a person.
type EmploymentType string

const (
	Employee   EmploymentType = "employee"
	Contractor EmploymentType = "contractor"
	Intern     EmploymentType = "intern"
)

// Valid reports whether t is one of the employment types of the HR feed.
func (t EmploymentType) Valid() bool {
	return t == Employee || t == Contractor || t == Intern
}

// IdentityStatus is an identity's HR status.
type IdentityStatus string

const (
	StatusActive     IdentityStatus = "active"
	StatusLeave      IdentityStatus = "leave"
	StatusTerminated IdentityStatus = "terminated"
)

// Valid reports whether s is one of the statuses of the HR feed.
func (s IdentityStatus) Valid() bool {
	return s == StatusActive || s == StatusLeave || s == StatusTerminated
}

// IdentityKind separates people fed by HR from service accounts.
type IdentityKind string

const (
	KindPerson  IdentityKind = "person"
	KindService IdentityKind = "service"
)

// AccessRole is a role in Gatehouse itself (not in a target system): what a signed-in identity
// may do in Gatehouse. Every identity may see its own access; these roles add to that.
type AccessRole string

const (
	RoleAdmin    AccessRole = "admin"    // everything, including catalog apply and tokens for others
	RoleOperator AccessRole = "operator" // reads everything, works grants and identities
	RoleAuditor  AccessRole = "auditor"  // reads everything, changes nothing
)

// Valid reports whether r is a known Gatehouse role.
func (r AccessRole) Valid() bool {
	return r == RoleAdmin || r == RoleOperator || r == RoleAuditor
}

// DateLayout is the layout of HR dates (start_date, end_date).
const DateLayout = "2006-01-02"

// Identity is a person (employee, contractor, intern) or a service account. People are fed by
// HR; the fields mirror the HR feed (docs/hr.md), and every extra feed column is kept in
// Attributes.
type Identity struct {
	ID             string            `json:"id"`
	EmployeeID     string            `json:"employee_id"`
	Email          string            `json:"email"`
	FirstName      string            `json:"first_name"`
	LastName       string            `json:"last_name"`
	Department     string            `json:"department"`
	Title          string            `json:"title"`
	ManagerID      string            `json:"manager_id"` // the manager's employee_id, "" for the top
	Location       string            `json:"location"`
	EmploymentType EmploymentType    `json:"employment_type"`
	Status         IdentityStatus    `json:"status"`
	StartDate      string            `json:"start_date"`         // YYYY-MM-DD
	EndDate        string            `json:"end_date,omitempty"` // YYYY-MM-DD or ""
	Kind           IdentityKind      `json:"kind"`
	Attributes     map[string]string `json:"attributes,omitempty"`
	Roles          []AccessRole      `json:"roles,omitempty"`       // Gatehouse access roles
	Source         string            `json:"source"`                // who owns the record: "hr-csv", "api", "demo", "scim:<service account id>"
	SourceName     string            `json:"source_name,omitempty"` // Source as people read it (SourceLabel); never stored
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
}

// DisplayName is "First Last", or the email when HR gave no name.
func (i *Identity) DisplayName() string {
	n := i.FirstName
	if i.LastName != "" {
		if n != "" {
			n += " "
		}
		n += i.LastName
	}
	if n == "" {
		return i.Email
	}
	return n
}

// HasRole reports whether the identity holds the Gatehouse role r.
func (i *Identity) HasRole(r AccessRole) bool { return slices.Contains(i.Roles, r) }

// Validate checks the fields an identity must have whatever its source, and returns an EINVALID
// error naming the first bad field.
func (i *Identity) Validate() error {
	if err := i.checkText(); err != nil {
		return err
	}
	if i.Email == "" || !ValidEmail(i.Email) {
		return Errorf(EINVALID, "email: %q is not a valid email address", i.Email)
	}
	if i.Kind == "" {
		i.Kind = KindPerson
	}
	if i.Kind != KindPerson && i.Kind != KindService {
		return Errorf(EINVALID, "kind: %q is not one of person, service", i.Kind)
	}
	if i.Kind == KindPerson && i.EmployeeID == "" {
		return Errorf(EINVALID, "employee_id: required for a person")
	}
	if i.EmploymentType == "" {
		i.EmploymentType = Employee
	}
	if !i.EmploymentType.Valid() {
		return Errorf(EINVALID, "employment_type: %q is not one of employee, contractor, intern", i.EmploymentType)
	}
	if i.Status == "" {
		i.Status = StatusActive
	}
	if !i.Status.Valid() {
		return Errorf(EINVALID, "status: %q is not one of active, leave, terminated", i.Status)
	}
	if i.StartDate != "" {
		if _, err := time.Parse(DateLayout, i.StartDate); err != nil {
			return Errorf(EINVALID, "start_date: %q is not a date (YYYY-MM-DD)", i.StartDate)
		}
	}
	if i.EndDate != "" {
		if _, err := time.Parse(DateLayout, i.EndDate); err != nil {
			return Errorf(EINVALID, "end_date: %q is not a date (YYYY-MM-DD)", i.EndDate)
		}
		if i.StartDate != "" && i.EndDate < i.StartDate {
			return Errorf(EINVALID, "end_date: %s is before start_date %s", i.EndDate, i.StartDate)
		}
	}
	for _, r := range i.Roles {
		if !r.Valid() {
			return Errorf(EINVALID, "roles: %q is not one of admin, operator, auditor", r)
		}
	}
	return nil
}

// checkText refuses bytes and lengths that make no sense in an identity's fields, whatever the
// source (API, HR feed, SCIM): they are shown on pages, in CLI tables and in audit events.
func (i *Identity) checkText() error {
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"email", i.Email, MaxEmailLength},
		{"employee_id", i.EmployeeID, MaxIDLength},
		{"first_name", i.FirstName, MaxNameLength},
		{"last_name", i.LastName, MaxNameLength},
		{"department", i.Department, MaxNameLength},
		{"title", i.Title, MaxNameLength},
		{"manager_id", i.ManagerID, MaxIDLength},
		{"location", i.Location, MaxNameLength},
		{"start_date", i.StartDate, MaxIDLength},
		{"end_date", i.EndDate, MaxIDLength},
		{"source", i.Source, MaxNameLength},
	} {
		if err := CheckLine(f.name, f.value, f.max); err != nil {
			return err
		}
	}
	for k, v := range i.Attributes {
		if err := CheckLine("attributes", k, MaxIDLength); err != nil {
			return err
		}
		if err := CheckText("attributes."+k, v, MaxAttributeLength); err != nil {
			return err
		}
	}
	return nil
}

// ValidEmail is a deliberately simple check: one @, something before it, a dot after it, no
// spaces. Deliverability is the mail system's business, not ours.
func ValidEmail(s string) bool {
	at := -1
	for i, c := range s {
		switch {
		case c == '@':
			if at >= 0 {
				return false
			}
			at = i
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '<' || c == '>':
			return false
		}
	}
	if at <= 0 || at == len(s)-1 {
		return false
	}
	domain := s[at+1:]
	dot := -1
	for i := range len(domain) {
		if domain[i] == '.' {
			dot = i
		}
	}
	return dot > 0 && dot < len(domain)-1
}
