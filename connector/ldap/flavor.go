package ldap

import (
	"encoding/hex"
	"fmt"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"
)

// dialect is what differs between directory flavors: object classes, attribute names, and how
// an account's immutable id is written.
type dialect struct {
	userFilter   string // an account entry
	groupFilter  string // a group entry
	groupClass   string // the objectClass value of a group
	idAttr       string // entryUUID (text) or objectGUID (16 bytes)
	usernameAttr string // uid or sAMAccountName
	employeeAttr string // employeeNumber or employeeID
	accountAttrs []string
	// placeholder: a group must keep at least one member (groupOfNames); AD groups may be empty.
	placeholder bool
	// disableInPlace: disabled by userAccountControl (AD), not by moving under disabled_dn.
	disableInPlace bool
}

var (
	openLDAPDialect = dialect{
		userFilter:   "(objectClass=inetOrgPerson)",
		groupFilter:  "(objectClass=groupOfNames)",
		groupClass:   "groupOfNames",
		idAttr:       "entryUUID",
		usernameAttr: "uid",
		employeeAttr: "employeeNumber",
		accountAttrs: []string{"entryUUID", "uid", "mail", "employeeNumber"},
		placeholder:  true,
	}
	adDialect = dialect{
		userFilter:     "(&(objectCategory=person)(objectClass=user))",
		groupFilter:    "(objectClass=group)",
		groupClass:     "group",
		idAttr:         "objectGUID",
		usernameAttr:   "sAMAccountName",
		employeeAttr:   "employeeID",
		accountAttrs:   []string{"objectGUID", "sAMAccountName", "mail", "employeeID", "userAccountControl"},
		disableInPlace: true,
	}
)

// AD userAccountControl bits (MS-ADTS 2.2.16).
const (
	uacAccountDisable = 0x2
	uacNormalAccount  = 0x200
)

// formatID turns the raw id attribute into the AccountRef.ID text.
func (d *dialect) formatID(raw []byte) string {
	if d.idAttr == "objectGUID" {
		return guidString(raw)
	}
	return string(raw)
}

// idFilter is a filter matching the account with id, or "" when id cannot be one.
func (d *dialect) idFilter(id string) string {
	if d.idAttr == "objectGUID" {
		b, err := guidBytes(id)
		if err != nil {
			return ""
		}
		var f strings.Builder
		f.WriteString("(objectGUID=")
		for _, x := range b {
			fmt.Fprintf(&f, "\\%02x", x)
		}
		f.WriteString(")")
		return f.String()
	}
	return "(entryUUID=" + goldap.EscapeFilter(id) + ")"
}

// guidString writes an objectGUID in the usual text form: the first three fields are stored
// little-endian.
func guidString(b []byte) string {
	if len(b) != 16 {
		return hex.EncodeToString(b)
	}
	return fmt.Sprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%x-%x",
		b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8:10], b[10:16])
}

func guidBytes(s string) ([]byte, error) {
	h, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(h) != 16 {
		return nil, fmt.Errorf("%q is not a GUID", s)
	}
	return []byte{h[3], h[2], h[1], h[0], h[5], h[4], h[7], h[6],
		h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]}, nil
}
