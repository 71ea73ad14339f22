package demo

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// The people the catalog and the demo output name. Their names are fixed rather than drawn, so
// that catalog owners, security approvers and the printed demo logins are real identities
// whatever the random draw does.
const (
	CEOEmail      = "helen.park@example.com"
	AdminEmail    = "priya.raman@example.com"   // Head of IT: Gatehouse admin
	AuditorEmail  = "hannah.schulz@example.com" // Internal Audit Manager: Gatehouse auditor
	CISOEmail     = "tom.becker@example.com"    // security approver
	EmployeeEmail = "sam.taylor@example.com"    // an ordinary engineer, no Gatehouse role
	// The README tour's approvers: Sam Taylor's manager, who is also the new manager of the
	// mover of examples/people.csv, and the owner of the github system.
	ManagerEmail = "mei.lin@example.com"
	OwnerEmail   = "daniel.okafor@example.com"
)

// The demo's HR dates are fixed, not relative to the clock, so that the company is the same
// on any day and examples/people.csv (a snapshot of it with one joiner, one mover and one
// leaver) stays exact. ReferenceDate is the company's "today": everyone started before it, and
// past end dates lie before it. Contracts and internships end after EndDatesFrom, far enough
// ahead that no active person's end date passes while the demo is in use (a test fails a year
// before the first one would: move both dates forward then, and regenerate people.csv).
var (
	ReferenceDate = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	EndDatesFrom  = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
)

// OperatorEmails are the IAM team: Gatehouse operators.
var OperatorEmails = []string{"omar.haddad@example.com", "julia.novak@example.com"}

// fixedPerson is a named person placed in a given slot of the organization.
type fixedPerson struct {
	first, last, title string
	roles              []gatehouse.AccessRole
}

// department describes one department: its head, its team leads and how many staff work under
// them.
type department struct {
	name  string
	code  string // cost center prefix
	head  fixedPerson
	leads []fixedPerson // a lead with an empty first name gets a drawn name
	// staffTitles are drawn for staff; fixedStaff are placed first under the first lead.
	staffTitles []string
	fixedStaff  []fixedPerson
	staff       int
	// contractorShare is the chance that a staff member is a contractor; interns is how many
	// staff are interns (with internTitle).
	contractorShare float64
	interns         int
	internTitle     string
}

var ceo = fixedPerson{first: "Helen", last: "Park", title: "Chief Executive Officer"}

var executive = department{
	name: "Executive", code: "EXE",
	staffTitles: []string{"Executive Assistant", "Chief of Staff"},
	staff:       2,
}

// departments are the ten departments reporting to the CEO, in the order they are created.
var departments = []department{
	{
		name: "Engineering", code: "ENG",
		head: fixedPerson{first: "Daniel", last: "Okafor", title: "VP Engineering"},
		leads: []fixedPerson{
			{first: "Mei", last: "Lin", title: "Engineering Manager, Platform"},
			{title: "Engineering Manager, Payments"},
			{title: "Engineering Manager, Mobile"},
			{title: "Engineering Manager, Data"},
		},
		staffTitles: []string{
			"Software Engineer", "Software Engineer", "Senior Software Engineer", "Senior Software Engineer",
			"Staff Software Engineer", "Site Reliability Engineer", "Frontend Engineer", "Data Engineer", "QA Engineer",
		},
		fixedStaff:      []fixedPerson{{first: "Sam", last: "Taylor", title: "Software Engineer"}},
		staff:           58,
		contractorShare: 0.25,
		interns:         3,
		internTitle:     "Software Engineering Intern",
	},
	{
		name: "Finance", code: "FIN",
		head: fixedPerson{first: "Sofia", last: "Marquez", title: "Chief Financial Officer"},
		leads: []fixedPerson{
			{first: "Robert", last: "Lindqvist", title: "Controller"},
			{first: "Hannah", last: "Schulz", title: "Internal Audit Manager", roles: []gatehouse.AccessRole{gatehouse.RoleAuditor}},
		},
		staffTitles: []string{
			"Accountant", "Senior Accountant", "Accounts Payable Specialist", "Accounts Payable Specialist",
			"Payroll Specialist", "Financial Analyst", "Treasury Analyst",
		},
		staff:           12,
		contractorShare: 0.1,
		interns:         1,
		internTitle:     "Finance Intern",
	},
	{
		name: "Sales", code: "SAL",
		head: fixedPerson{first: "Marcus", last: "Webb", title: "VP Sales"},
		leads: []fixedPerson{
			{title: "Sales Director, EMEA"},
			{title: "Sales Director, Americas"},
			{first: "Elena", last: "Petrova", title: "Sales Operations Manager"},
		},
		staffTitles: []string{
			"Account Executive", "Account Executive", "Senior Account Executive",
			"Sales Development Representative", "Sales Development Representative", "Solutions Engineer", "Deal Desk Analyst",
		},
		staff:           28,
		contractorShare: 0.15,
	},
	{
		name: "Marketing", code: "MKT",
		head: fixedPerson{first: "Aisha", last: "Rahman", title: "VP Marketing"},
		leads: []fixedPerson{
			{title: "Demand Generation Manager"},
			{title: "Brand Manager"},
		},
		staffTitles: []string{
			"Marketing Specialist", "Content Writer", "Product Marketing Manager", "Designer", "Marketing Operations Analyst",
		},
		staff:           13,
		contractorShare: 0.25,
		interns:         1,
		internTitle:     "Marketing Intern",
	},
	{
		name: "People", code: "PPL",
		head: fixedPerson{first: "Laura", last: "Jensen", title: "VP People"},
		leads: []fixedPerson{
			{title: "Talent Acquisition Lead"},
		},
		staffTitles:     []string{"HR Business Partner", "Recruiter", "People Operations Specialist", "Compensation Analyst"},
		staff:           9,
		contractorShare: 0.1,
	},
	{
		name: "IT", code: "ITS",
		head: fixedPerson{first: "Priya", last: "Raman", title: "Head of IT", roles: []gatehouse.AccessRole{gatehouse.RoleAdmin}},
		leads: []fixedPerson{
			{first: "Omar", last: "Haddad", title: "IAM Lead", roles: []gatehouse.AccessRole{gatehouse.RoleOperator}},
			{title: "IT Support Manager"},
		},
		staffTitles: []string{"Systems Administrator", "IT Support Specialist", "IT Support Specialist", "Network Engineer"},
		fixedStaff: []fixedPerson{
			{first: "Julia", last: "Novak", title: "IAM Engineer", roles: []gatehouse.AccessRole{gatehouse.RoleOperator}},
		},
		staff:           10,
		contractorShare: 0.2,
	},
	{
		name: "Security", code: "SEC",
		head: fixedPerson{first: "Tom", last: "Becker", title: "Chief Information Security Officer"},
		leads: []fixedPerson{
			{first: "Nadia", last: "Kowalski", title: "Security Operations Lead"},
		},
		staffTitles:     []string{"Security Engineer", "Security Analyst", "GRC Analyst"},
		staff:           8,
		contractorShare: 0.12,
	},
	{
		name: "Legal", code: "LEG",
		head:            fixedPerson{first: "Naomi", last: "Fischer", title: "General Counsel"},
		staffTitles:     []string{"Corporate Counsel", "Paralegal", "Privacy Counsel", "Contracts Manager"},
		staff:           5,
		contractorShare: 0.1,
	},
	{
		name: "Operations", code: "OPS",
		head: fixedPerson{first: "Victor", last: "Alvarez", title: "Chief Operating Officer"},
		leads: []fixedPerson{
			{title: "Facilities Manager"},
			{title: "Procurement Manager"},
		},
		staffTitles:     []string{"Operations Analyst", "Procurement Specialist", "Facilities Coordinator", "Office Manager"},
		staff:           14,
		contractorShare: 0.3,
	},
	{
		name: "Support", code: "SUP",
		head: fixedPerson{first: "Grace", last: "Kim", title: "Head of Customer Support"},
		leads: []fixedPerson{
			{title: "Support Manager, Tier 1"},
			{title: "Support Manager, Tier 2"},
		},
		staffTitles:     []string{"Support Agent", "Support Agent", "Senior Support Agent", "Technical Support Engineer"},
		staff:           24,
		contractorShare: 0.3,
	},
}

var firstNames = []string{
	"Adam", "Adriana", "Ahmed", "Akira", "Alejandro", "Amara", "Amelia", "Ana", "Andrei", "Anjali",
	"Arjun", "Beatriz", "Ben", "Bianca", "Carlos", "Caroline", "Chen", "Chloe", "Chidi", "Claire",
	"Dmitri", "Diana", "Diego", "Elif", "Emma", "Erik", "Fatima", "Felix", "Fiona", "Gabriel",
	"Hana", "Hiroshi", "Ian", "Ines", "Isaac", "Isabel", "Jakob", "James", "Jana", "Javier",
	"Joao", "Jonas", "Kai", "Kavya", "Kenji", "Kofi", "Lars", "Leila", "Liam", "Lucia",
	"Luis", "Maya", "Mateo", "Matthew", "Mia", "Mohammed", "Nia", "Nikhil", "Noah", "Nora",
	"Oliver", "Olga", "Pablo", "Paula", "Rafael", "Rania", "Ravi", "Rosa", "Ryan", "Sara",
	"Sebastian", "Sienna", "Simon", "Sophie", "Tariq", "Thea", "Tomas", "Valentina", "Wei", "Yara",
	"Yusuf", "Zanele", "Zoe", "Aaron", "Lena", "Marta", "Nathan", "Priscilla", "Quentin", "Rohan",
}

var lastNames = []string{
	"Adeyemi", "Andersen", "Bakker", "Banerjee", "Bauer", "Brooks", "Campbell", "Castillo", "Chowdhury", "Costa",
	"Dubois", "Eriksson", "Evans", "Ferreira", "Fitzgerald", "Garcia", "Goldberg", "Gomez", "Gupta", "Hansen",
	"Hernandez", "Hoffmann", "Hughes", "Ibrahim", "Ito", "Jackson", "Johansson", "Kaur", "Khan", "Kovacs",
	"Kumar", "Larsen", "Lee", "Lopez", "Mahlangu", "Martin", "Mendes", "Meyer", "Moreau", "Murphy",
	"Nakamura", "Nguyen", "Nowak", "Obi", "Olsen", "Ortiz", "Patel", "Perez", "Popescu", "Quinn",
	"Ramos", "Reyes", "Richter", "Rossi", "Russo", "Sato", "Schmidt", "Sharma", "Silva", "Singh",
	"Sokolova", "Suzuki", "Svensson", "Tanaka", "Thompson", "Torres", "Tran", "Varga", "Vasquez", "Wagner",
	"Walker", "Wang", "Weber", "Williams", "Wong", "Yamamoto", "Yilmaz", "Young", "Zhang", "Zimmermann",
}

// locations are drawn with these weights: most people sit in the two main offices.
var locations = []struct {
	name   string
	weight int
}{
	{"New York", 30}, {"London", 22}, {"Berlin", 14}, {"San Francisco", 12}, {"Toronto", 8}, {"Remote", 14},
}

// company draws the sample company: every identity in manager order (a manager comes before
// the people who report to it), so each can be created with a manager that already exists. It
// also names two active people who are to leave once their access is granted: leavers whose
// access is still there, which is what a governance tool exists to find.
func company(seed uint64, now time.Time) (people, lateLeavers []*gatehouse.Identity) {
	g := &generator{
		r:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		now:  now.UTC(),
		used: map[string]bool{},
		next: 1000,
	}
	// Reserve the fixed names first, so that no drawn person takes one of their emails.
	for _, f := range fixedPeople() {
		g.used[emailOf(f.first, f.last)] = true
	}
	top := g.person(ceo, executive, "", "CC-EXE-01", 4000, 3000)
	for i := range executive.staff {
		g.staff(executive, top, executive.staffTitles[i%len(executive.staffTitles)], "CC-EXE-01")
	}
	for _, d := range departments {
		g.department(d, top)
	}
	lateLeavers = g.lifecycle()
	return g.out, lateLeavers
}

type generator struct {
	r    *rand.Rand
	now  time.Time
	used map[string]bool // emails taken
	next int             // next employee number
	out  []*gatehouse.Identity
}

func (g *generator) department(d department, ceo *gatehouse.Identity) {
	head := g.person(d.head, d, ceo.EmployeeID, "CC-"+d.code+"-01", 3500, 1500)
	leads := make([]*gatehouse.Identity, 0, len(d.leads))
	for i, l := range d.leads {
		leads = append(leads, g.person(l, d, head.EmployeeID, fmt.Sprintf("CC-%s-%02d", d.code, i+2), 3000, 700))
	}
	managerOf := func(i int) *gatehouse.Identity {
		if len(leads) == 0 {
			return head
		}
		return leads[i%len(leads)]
	}
	costCenter := func(m *gatehouse.Identity) string { return m.Attributes["cost_center"] }
	n := 0
	for _, f := range d.fixedStaff {
		m := managerOf(0)
		g.person(f, d, m.EmployeeID, costCenter(m), 2000, 200)
		n++
	}
	for i := 0; i < d.interns; i++ {
		m := managerOf(n)
		p := g.staff(d, m, d.internTitle, costCenter(m))
		p.EmploymentType = gatehouse.Intern
		p.StartDate = g.date(-g.between(10, 60))
		p.EndDate = g.endDate(g.between(60, 120))
		n++
	}
	for n < d.staff {
		m := managerOf(n)
		title := d.staffTitles[g.r.IntN(len(d.staffTitles))]
		p := g.staff(d, m, title, costCenter(m))
		if g.r.Float64() < d.contractorShare {
			p.EmploymentType = gatehouse.Contractor
			p.StartDate = g.date(-g.between(10, 500))
			p.EndDate = g.endDate(g.between(30, 400))
		}
		n++
	}
}

// person creates a named (or, with an empty first name, a drawn) person who started between
// maxDays and minDays ago, in cost center costCenter ("CC-ENG-02").
func (g *generator) person(f fixedPerson, d department, managerID, costCenter string, maxDays, minDays int) *gatehouse.Identity {
	first, last := f.first, f.last
	if first == "" {
		first, last = g.name()
	}
	email := emailOf(first, last)
	g.used[email] = true
	p := &gatehouse.Identity{
		EmployeeID:     fmt.Sprintf("E%d", g.next),
		Email:          email,
		FirstName:      first,
		LastName:       last,
		Department:     d.name,
		Title:          f.title,
		ManagerID:      managerID,
		Location:       g.location(),
		EmploymentType: gatehouse.Employee,
		Status:         gatehouse.StatusActive,
		StartDate:      g.date(-g.between(minDays, maxDays)),
		Kind:           gatehouse.KindPerson,
		Attributes:     map[string]string{"cost_center": costCenter},
		Roles:          slices.Clone(f.roles),
		Source:         "demo",
	}
	g.next++
	g.out = append(g.out, p)
	return p
}

// staff creates a drawn staff member reporting to m.
func (g *generator) staff(d department, m *gatehouse.Identity, title, costCenter string) *gatehouse.Identity {
	return g.person(fixedPerson{title: title}, d, m.EmployeeID, costCenter, 2800, 30)
}

// lifecycle puts a few ordinary staff on leave and terminates a few: the demo needs leavers and
// absences to show. People with names fixed above and managers are left alone. It returns two
// more people to terminate after their grants are made (see company).
func (g *generator) lifecycle() []*gatehouse.Identity {
	managers := map[string]bool{}
	for _, p := range g.out {
		managers[p.ManagerID] = true
	}
	fixed := map[string]bool{}
	for _, f := range fixedPeople() {
		fixed[emailOf(f.first, f.last)] = true
	}
	var candidates []*gatehouse.Identity
	for _, p := range g.out {
		if !managers[p.EmployeeID] && !fixed[p.Email] && p.EmploymentType == gatehouse.Employee {
			candidates = append(candidates, p)
		}
	}
	g.r.Shuffle(len(candidates), func(i, j int) { candidates[i], candidates[j] = candidates[j], candidates[i] })
	for _, p := range candidates[:4] {
		p.Status = gatehouse.StatusLeave
		g.r.IntN(3) // a draw once spent on a leave type, kept so that the names drawn after it stay the same
	}
	for _, p := range candidates[4:9] {
		p.Status = gatehouse.StatusTerminated
		p.EndDate = g.date(-g.between(3, 120))
		if p.EndDate < p.StartDate {
			p.EndDate = p.StartDate
		}
	}
	// A contractor without an end date is a hygiene finding: leave two of them that way.
	var contractors []*gatehouse.Identity
	for _, p := range g.out {
		if p.EmploymentType == gatehouse.Contractor && p.Status == gatehouse.StatusActive {
			contractors = append(contractors, p)
		}
	}
	g.r.Shuffle(len(contractors), func(i, j int) { contractors[i], contractors[j] = contractors[j], contractors[i] })
	for _, p := range contractors[:min(2, len(contractors))] {
		p.EndDate = ""
	}
	return candidates[9:11]
}

// fixedPeople lists every person whose name is fixed rather than drawn.
func fixedPeople() []fixedPerson {
	out := []fixedPerson{ceo}
	for _, d := range departments {
		out = append(out, d.head)
		out = append(out, d.leads...)
		out = append(out, d.fixedStaff...)
	}
	return slices.DeleteFunc(out, func(f fixedPerson) bool { return f.first == "" })
}

// name draws a first and last name whose email is not taken yet.
func (g *generator) name() (string, string) {
	for {
		first := firstNames[g.r.IntN(len(firstNames))]
		last := lastNames[g.r.IntN(len(lastNames))]
		if !g.used[emailOf(first, last)] {
			return first, last
		}
	}
}

func (g *generator) location() string {
	total := 0
	for _, l := range locations {
		total += l.weight
	}
	n := g.r.IntN(total)
	for _, l := range locations {
		if n < l.weight {
			return l.name
		}
		n -= l.weight
	}
	return locations[0].name
}

// between draws a whole number of days in [lo, hi].
func (g *generator) between(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }

// date is the date days from the reference date (negative for the past).
func (g *generator) date(days int) string {
	return g.now.AddDate(0, 0, days).Format(gatehouse.DateLayout)
}

// endDate is a contract's or an internship's end date, days after EndDatesFrom.
func (g *generator) endDate(days int) string {
	return EndDatesFrom.AddDate(0, 0, days).Format(gatehouse.DateLayout)
}

func emailOf(first, last string) string {
	return strings.ToLower(first + "." + last + "@example.com")
}
