package catalog

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
)

// CheckSecrets checks every system's secret references (*_env, *_file) against what the
// server's operator allows (gatehouse serve --secrets-dir, --secret-env-allow), with the file
// and line each was written on. Parse already refuses what no server allows (GATEHOUSE_*);
// only the server knows its policy, so plan and apply call this as well. A nil policy refuses
// every *_file reference. Connectors check the same policy again when they resolve a secret,
// so a catalog stored before the policy cannot reach past it either.
func CheckSecrets(doc *Document, policy *connector.SecretPolicy) error {
	if policy == nil {
		policy = &connector.SecretPolicy{}
	}
	var probs Problems
	for _, s := range doc.Catalog.Systems {
		for _, k := range sortedKeys(s.Connector.Settings) {
			val, ok := s.Connector.Settings[k].(string)
			if !connector.IsSecretRef(k) || !ok {
				continue // not a reference, or not a string, which Parse reported
			}
			if err := policy.CheckRef(k, val); err != nil {
				field := "connector." + k
				pos := doc.Pos(KindSystem, s.ID, field)
				probs = append(probs, Problem{File: pos.File, Line: pos.Line, Field: doc.Path(KindSystem, s.ID, field),
					Message: err.Error()})
			}
		}
	}
	if len(probs) > 0 {
		sortProblems(probs)
		return probs
	}
	return nil
}

// destinationKeys are the connector settings that say where a connector sends its secrets.
var destinationKeys = []string{"url", "host"}

// SecretRebind is a system whose connector would send its unchanged secrets somewhere else:
// its url (or host) changes while its secret references stay as they were. Apply refuses it
// unless the apply names the system in RebindSecrets (gatehouse catalog apply --rebind-secrets
// ID): whoever moves a connector must say that its secrets go along, so that a changed URL
// alone never carries a directory's admin password or an app's token to a new server.
type SecretRebind struct {
	System string `json:"system"`
	// Settings are the destination settings that change (url, host).
	Settings []string `json:"settings"`
	// Secrets are the unchanged references, as setting=NAME (token_env=WIKI_SCIM_TOKEN).
	Secrets []string `json:"secrets"`
}

// secretRebinds finds the systems of a plan whose destination changes while their secret
// references do not. Naming the secrets again with different references (a new variable or
// file) in the same change is a rebind too, and needs no flag.
func secretRebinds(plan *Plan) []SecretRebind {
	var out []SecretRebind
	for _, c := range plan.Changes {
		if c.Op != OpChange || c.Kind != KindSystem {
			continue
		}
		before, ok1 := c.Before.(*gatehouse.System)
		after, ok2 := c.After.(*gatehouse.System)
		if !ok1 || !ok2 || before == nil || after == nil {
			continue
		}
		var moved []string
		for _, k := range destinationKeys {
			if fmt.Sprint(before.Connector.Settings[k]) != fmt.Sprint(after.Connector.Settings[k]) {
				moved = append(moved, k)
			}
		}
		if len(moved) == 0 {
			continue
		}
		// Each secret is judged alone: adding a reference the connector does not use (a
		// password_env next to a token) must not make its real one count as named again.
		refs := keptSecretRefs(before.Connector.Settings, after.Connector.Settings)
		if len(refs) == 0 {
			continue
		}
		out = append(out, SecretRebind{System: after.ID, Settings: moved, Secrets: refs})
	}
	return out
}

// keptSecretRefs lists the secret references of after (setting=value, sorted) that name a
// variable or file before named too, whichever setting named it: moving token_env: X to
// password_env: X still sends the secret X.
func keptSecretRefs(before, after map[string]any) []string {
	kind := func(k string) string { return k[strings.LastIndexByte(k, '_'):] } // _env or _file
	had := map[string]bool{}
	for _, k := range sortedKeys(before) {
		if connector.IsSecretRef(k) {
			had[kind(k)+"="+fmt.Sprint(before[k])] = true
		}
	}
	var out []string
	for _, k := range sortedKeys(after) {
		if connector.IsSecretRef(k) && had[kind(k)+"="+fmt.Sprint(after[k])] {
			out = append(out, fmt.Sprintf("%s=%v", k, after[k]))
		}
	}
	return out
}

// CheckRebinds refuses a plan with a SecretRebind whose system rebind does not name, with the
// line of the changed setting. Names in rebind that are not systems of the document are refused
// too: a misspelt --rebind-secrets must not pass unnoticed.
func CheckRebinds(plan *Plan, doc *Document, rebind []string) error {
	var probs Problems
	for _, id := range rebind {
		if !slices.ContainsFunc(doc.Catalog.Systems, func(s *gatehouse.System) bool { return s.ID == id }) {
			probs = append(probs, Problem{Field: "rebind_secrets", Message: fmt.Sprintf("no system %q in this catalog", id)})
		}
	}
	for _, rb := range plan.SecretRebinds {
		if slices.Contains(rebind, rb.System) {
			continue
		}
		field := "connector." + rb.Settings[0]
		pos := doc.Pos(KindSystem, rb.System, field)
		probs = append(probs, Problem{File: pos.File, Line: pos.Line, Field: doc.Path(KindSystem, rb.System, field),
			Message: fmt.Sprintf("changes where the connector sends its secrets (%s) while they stay the same: name them again in this change, or apply with --rebind-secrets %s to confirm they go to the new %s",
				strings.Join(rb.Secrets, ", "), rb.System, strings.Join(rb.Settings, " and "))})
	}
	if len(probs) > 0 {
		sortProblems(probs)
		return probs
	}
	return nil
}
