package provision

import (
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
)

// Account naming. A system that names the accounts Gatehouse creates (ldap: uid,
// sAMAccountName) gives each person a name once, by its declared rule (gatehouse.AccountNaming),
// when the account is first created; the name is recorded (store: account_names) and used
// from then on, whatever the template becomes and whoever arrives later. A new name must be
// free: no account in the inventory has it, and nobody was given it before (a leaver's name is
// not handed to the next person).

// namer names the accounts one plan creates.
type namer struct {
	rule     gatehouse.AccountNaming
	on       bool
	given    map[string]*gatehouse.AccountName // identity id → the name recorded for them
	taken    map[string]string                 // lowercased name → who holds it, for the evidence
	template string
}

func newNamer(in Input, accounts []connector.Account, emailOf map[string]string) *namer {
	n := &namer{on: in.System.NamesAccounts(), given: map[string]*gatehouse.AccountName{}, taken: map[string]string{}}
	if !n.on {
		return n
	}
	n.rule = in.System.Naming()
	for _, a := range accounts {
		if a.Username != "" {
			n.taken[strings.ToLower(a.Username)] = "the account " + a.Username + holder(a.Email)
		}
	}
	for _, g := range in.Names {
		n.given[g.IdentityID] = g
		if _, ok := n.taken[strings.ToLower(g.Name)]; !ok {
			n.taken[strings.ToLower(g.Name)] = "the name given to " + orID(emailOf[g.IdentityID], g.IdentityID)
		}
	}
	return n
}

func holder(email string) string {
	if email == "" {
		return ""
	}
	return " (" + email + ")"
}

func orID(email, id string) string {
	if email != "" {
		return email
	}
	return "identity " + id
}

// name returns the name of the account the plan creates for id: the one given before, else a
// new one by the rule (which then counts as taken for the rest of the plan). refused is the
// error of a rule that cannot name the person (collision refuse, an empty name); detail is the
// evidence either way. Without naming, it is the email's local part and the connector decides.
func (n *namer) name(id *gatehouse.Identity) (name, detail, refused string) {
	local, _, _ := strings.Cut(id.Email, "@")
	if !n.on {
		return local, "", ""
	}
	if g := n.given[id.ID]; g != nil {
		return g.Name, "name " + g.Name + " given on " + g.AssignedAt.UTC().Format("2006-01-02") + " (kept: a name is given once)", ""
	}
	name, detail, err := n.rule.Assign(gatehouse.NamePerson{Email: id.Email, GivenName: id.FirstName, FamilyName: id.LastName,
		EmployeeID: id.EmployeeID}, func(cand string) (string, bool) {
		by, ok := n.taken[strings.ToLower(cand)]
		return by, ok
	})
	if err != nil {
		return local, detail, err.Error()
	}
	n.taken[strings.ToLower(name)] = "the name given to " + id.Email + " in this plan"
	return name, detail, ""
}
