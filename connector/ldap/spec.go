package ldap

import (
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
)

// ADMaxUsername is the length of sAMAccountName for users: the default (and the most) account
// name length of an ldap system of flavor ad.
const ADMaxUsername = 20

// nameLimit is Spec's NameLimit: Active Directory holds at most ADMaxUsername characters in
// sAMAccountName; OpenLDAP's uid has no practical limit. It reads the raw catalog settings
// (catalog validation runs it on settings that may not parse).
func nameLimit(settings map[string]any) gatehouse.NameLimit {
	if f, _ := settings["flavor"].(string); strings.TrimSpace(f) != string(FlavorAD) {
		return gatehouse.NameLimit{}
	}
	return gatehouse.NameLimit{Max: ADMaxUsername,
		Holder: fmt.Sprintf("Active Directory allows (sAMAccountName holds at most %d characters)", ADMaxUsername)}
}

// checked is Spec's Checked: what a passing Check verified. Write rights are not among them.
func checked(settings map[string]any) string {
	set := connector.Settings(settings)
	parts := []string{"users_dn", "groups_dn"}
	if dn, _ := set.String("disabled_dn"); dn != "" {
		if flavor, _ := set.String("flavor"); flavor != string(FlavorAD) {
			parts = append(parts, "disabled_dn")
		}
	}
	return "bind, " + strings.Join(parts, ", ") + " readable (write rights are not tested: LDAP cannot ask without writing)"
}
