package ldap

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/connector"
)

// TestUsername: the connector uses the name the engine gives, derives the default one
// (counting characters, never bytes) when given none, and refuses a sAMAccountName AD cannot
// hold instead of cutting it.
func TestUsername(t *testing.T) {
	ad, ol := &Connector{d: &adDialect}, &Connector{d: &openLDAPDialect}
	tests := []struct {
		name    string
		c       *Connector
		spec    connector.AccountSpec
		want    string
		wantErr string
	}{
		{"given", ad, connector.AccountSpec{Email: "x@example.com", Username: "jane.doe-smithson-l2"}, "jane.doe-smithson-l2", ""},
		{"AD default cuts characters", ad, connector.AccountSpec{Email: "żaneta.kowalska-wiśniewska@example.com"}, "zaneta.kowalska-wisn", ""},
		{"OpenLDAP default keeps the length", ol, connector.AccountSpec{Email: "jane.doe-smithson-longname@example.com"}, "jane.doe-smithson-longname", ""},
		{"AD refuses 21 characters", ad, connector.AccountSpec{Email: "x@example.com", Username: "jane.doe-smithson-lon"}, "",
			`sAMAccountName "jane.doe-smithson-lon" has 21 characters; AD holds at most 20`},
		{"AD counts runes", ad, connector.AccountSpec{Email: "x@example.com", Username: "żżżżżżżżżżżżżżżżżżżż"}, "żżżżżżżżżżżżżżżżżżżż", ""},
		{"no local part", ol, connector.AccountSpec{Email: "@example.com"}, "", "has no local part"},
		{"nothing left of it", ol, connector.AccountSpec{Email: "李@example.com"}, "", "gives an empty name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.c.username(tc.spec)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !connector.IsPermanent(err) {
					t.Fatalf("err = %v, want permanent %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("username = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
