package policy

// Approval routing rules: which approval chain an entitlement's request follows, which
// candidates may decide a step, and the rule that one person decides at most one step of a
// request. Resolving a chain element to people (the manager from HR, the pinned owner, the
// security approvers, the fallbacks) needs the store and stays in the service; what is decided
// here is the part that only looks at the people already found.

import (
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// ApprovalChain is the approval chain a request for e follows: the catalog's chain, with a
// security step added when e is privileged (privileged access always needs security), and the
// entitlement's owner when the catalog names no chain (every request is decided by someone).
func ApprovalChain(e *gatehouse.Entitlement) []string {
	chain := slices.Clone(e.Approval)
	if e.Risk == gatehouse.RiskPrivileged && !slices.Contains(chain, "security") {
		chain = append(chain, "security")
	}
	if len(chain) == 0 {
		chain = []string{"owner"}
	}
	return chain
}

// EligibleApprovers keeps the candidates who may approve a request submitted by requesterID
// for beneficiaryID: each once, active, neither the requester nor the beneficiary (nobody
// approves their own access or their own request). The notes say who was left out and why.
func EligibleApprovers(cands []*gatehouse.Identity, requesterID, beneficiaryID string) (ok []*gatehouse.Identity, notes []string) {
	seen := map[string]bool{}
	for _, c := range cands {
		switch {
		case seen[c.ID]:
		case c.Status == gatehouse.StatusTerminated:
			notes = append(notes, c.Email+" is terminated")
		case c.ID == beneficiaryID:
			notes = append(notes, c.Email+" is the beneficiary (no one approves their own access)")
		case c.ID == requesterID:
			notes = append(notes, c.Email+" submitted the request (no one approves their own request)")
		default:
			ok = append(ok, c)
		}
		seen[c.ID] = true
	}
	return ok, notes
}

// StepName is how a step is named when it takes a person: "the manager step".
func StepName(kind gatehouse.StepKind) string {
	return "the " + string(kind) + " step"
}

// Untaken leaves out the candidates who already decide another step of the request: taken maps
// each of them to that step's name (StepName). One person decides at most one step of a request,
// so that two steps are two people's judgement.
func Untaken(cands []*gatehouse.Identity, taken map[string]string) (ok []*gatehouse.Identity, notes []string) {
	for _, c := range cands {
		if step, taken := taken[c.ID]; taken {
			notes = append(notes, c.Email+" already decides "+step+" (one person decides at most one step of a request)")
			continue
		}
		ok = append(ok, c)
	}
	return ok, notes
}

// DecidedSteps maps the people who decided a step of r before step j to that step's name: they
// may not decide step j.
func DecidedSteps(r *gatehouse.AccessRequest, j int) map[string]string {
	taken := map[string]string{}
	for _, st := range r.Steps[:j] {
		if st.Decision != "" && st.DecidedByID != "" {
			taken[st.DecidedByID] = StepName(st.Kind)
		}
	}
	return taken
}

// AllDecidedElsewhere reports whether every approver of st decided another step (taken, as
// DecidedSteps returns), so that st must be routed on, and says who decided what. A step with
// one approver who decided nothing yet stays where it is.
func AllDecidedElsewhere(st gatehouse.ApprovalStep, taken map[string]string) (notes []string, all bool) {
	for i, id := range st.Approvers {
		step, ok := taken[id]
		if !ok {
			return nil, false // someone who decided nothing yet may decide it
		}
		email := id
		if i < len(st.Emails) {
			email = st.Emails[i]
		}
		notes = append(notes, email+" decided "+step+" (one person decides at most one step of a request)")
	}
	return notes, true
}

// StepQuestion identifies what a step asks before anyone is left out of it: the kind of step and
// the eligible people it asks, or, when it asks nobody eligible, the fallback of the entitlement's
// system. The same question asked again is the same step, wherever the first was routed.
func StepQuestion(kind gatehouse.StepKind, eligible []*gatehouse.Identity, system string) string {
	q := string(kind) + "|" + strings.Join(ids(eligible), ",")
	if len(eligible) == 0 {
		q += "|fallback of system " + system
	}
	return q
}

// SameStep reports whether have already holds st: a step of the same kind asking the same people.
func SameStep(have []gatehouse.ApprovalStep, st gatehouse.ApprovalStep) bool {
	return slices.ContainsFunc(have, func(h gatehouse.ApprovalStep) bool {
		return h.Kind == st.Kind && slices.Equal(h.Approvers, st.Approvers)
	})
}

// ids returns the ids of people, in order.
func ids(people []*gatehouse.Identity) []string {
	out := make([]string, len(people))
	for i, p := range people {
		out[i] = p.ID
	}
	return out
}
