package provision

import (
	"context"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Account naming. A system that names the accounts Gatehouse creates (ldap: uid,
// sAMAccountName) gives each person a name once, by its declared rule (gatehouse.AccountNaming),
// when the account is first created; the name is recorded (store: account_names) and used
// from then on, whatever the template becomes and whoever arrives later. A new name must be
// free: no account in the inventory has it, and nobody was given it before (a leaver's name is
// not handed to the next person). The name is recorded with the plan, before the account is
// created (claimNames), so that two runs naming two people alike at once cannot both give it.

// namer names the accounts one plan creates.
type namer struct {
	rule     gatehouse.AccountNaming
	on       bool
	given    map[string]*gatehouse.AccountName // identity id → the name recorded for them
	taken    map[string]string                 // lowercased name → who holds it, for the evidence
	template string
}

func newNamer(in Input, accounts []connector.Account, emailOf map[string]string) *namer {
	n := &namer{on: namesAccounts(in.Spec), given: map[string]*gatehouse.AccountName{}, taken: map[string]string{}}
	if !n.on {
		return n
	}
	n.rule = in.System.Naming(in.Spec)
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

// claimNames records the new names of the plan's creations (the operations at idx) in the
// transaction that records the plan, so that they are given before any account is made. A
// name another person was given meanwhile, by a concurrent run or replica (the store's unique
// index decides), is not an error of the transaction: it is returned in lost, by operation, as
// the retryable error that operation fails with, and the retry plans with that name taken.
// given is the audit's account of the names recorded.
func claimNames(ctx context.Context, tx store.Tx, plan Plan, idx []int) (given []map[string]string, lost map[int]error, err error) {
	lost = map[int]error{}
	for _, i := range idx {
		op := plan.Ops[i]
		n := &gatehouse.AccountName{SystemID: op.SystemID, IdentityID: op.IdentityID, Name: op.Spec.Username, Detail: op.Detail}
		err := tx.AssignAccountName(ctx, n)
		if gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
			lost[i] = fmt.Errorf("not created: %w (given meanwhile by another run; the retry names %s again)", err, op.Spec.Email)
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("record account name %s: %w", n.Name, err)
		}
		given = append(given, map[string]string{"identity_id": n.IdentityID, "name": n.Name, "detail": n.Detail})
	}
	return given, lost, nil
}

// releaseName forgets the name claimed for a creation that failed, so that a later run may
// name the person differently (a name the directory refused stays free). A failure to forget
// is logged: the person then keeps the name, which is safe.
func (r *Reconciler) releaseName(ctx context.Context, run *gatehouse.Reconcile, op Op, why error) {
	wctx := context.WithoutCancel(ctx)
	err := r.Store.Update(wctx, func(tx store.Tx) error {
		if err := tx.ReleaseAccountName(wctx, run.SystemID, op.IdentityID, op.Spec.Username); err != nil {
			return err
		}
		return tx.AppendAudit(wctx, r.event(gatehouse.AuditAccountNameRelease, run, map[string]any{
			"identity_id": op.IdentityID, "name": op.Spec.Username, "reason": why.Error()}))
	})
	if err != nil {
		r.log().Warn("could not forget the name of an account not created", "system", run.SystemID,
			"identity", op.IdentityID, "name", op.Spec.Username, "err", err)
	}
}

// namesAccounts reports whether Gatehouse names the accounts of a connector type (nil: unknown,
// it does not).
func namesAccounts(spec *gatehouse.ConnectorSpec) bool { return spec != nil && spec.NamesAccounts }
