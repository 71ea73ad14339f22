package ldaptest

import (
	"bufio"
	"fmt"
	"io"
)

// Company describes a generated directory: Users people under PeopleDN and Groups groups under
// GroupsDN, each user a member of PerUser groups (so Groups must be at least PerUser).
type Company struct {
	Users, Groups, PerUser int
}

// Username is the uid of generated user i.
func (Company) Username(i int) string { return fmt.Sprintf("user%06d", i) }

// GroupDN is the DN of generated group g.
func (Company) GroupDN(g int) string { return fmt.Sprintf("cn=group%05d,%s", g, GroupsDN) }

// MemberOf returns the groups user i belongs to: PerUser distinct groups, spread so every group
// has about Users×PerUser/Groups members.
func (c Company) MemberOf(i int) []int {
	gs := make([]int, c.PerUser)
	stride := c.Groups / c.PerUser
	for k := range gs {
		gs[k] = k*stride + i%stride
	}
	return gs
}

// WriteLDIF writes the company as LDIF for slapadd (Options.LDIF or LDIFFile).
func (c Company) WriteLDIF(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	members := make([][]int, c.Groups)
	for i := range c.Users {
		u := c.Username(i)
		fmt.Fprintf(bw, "dn: uid=%s,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: User %d\nsn: %d\ngivenName: User\nmail: %s@example.com\nemployeeNumber: E%06d\n\n",
			u, PeopleDN, u, i, i, u, i)
		for _, g := range c.MemberOf(i) {
			members[g] = append(members[g], i)
		}
	}
	for g := range c.Groups {
		fmt.Fprintf(bw, "dn: %s\nobjectClass: groupOfNames\ncn: group%05d\n", c.GroupDN(g), g)
		if len(members[g]) == 0 {
			fmt.Fprintf(bw, "member: cn=nobody\n")
		}
		for _, i := range members[g] {
			fmt.Fprintf(bw, "member: uid=%s,%s\n", c.Username(i), PeopleDN)
		}
		bw.WriteString("\n")
	}
	return bw.Flush()
}
