package gatehouse

import (
	"strconv"
	"strings"
	"testing"
)

func TestAccountNamingAssign(t *testing.T) {
	ad := AccountNaming{MaxLength: 20}                                  // Active Directory's sAMAccountName
	long := NamePerson{Email: "jane.doe-smithson-longname@example.com"} // 25 characters
	// abc, ab2 … ab9, a10 … a99: every name of 3 characters the suffix rule can make is taken.
	everyThree := []string{"abc"}
	for n := 2; n < 100; n++ {
		everyThree = append(everyThree, "abc"[:3-len(strconv.Itoa(n))]+strconv.Itoa(n))
	}
	tests := []struct {
		name       string
		rule       AccountNaming
		person     NamePerson
		taken      []string
		want       string
		wantDetail []string // substrings of the evidence
		wantErr    string
	}{
		{name: "short local part", rule: ad, person: NamePerson{Email: "ada@example.com"}, want: "ada"},
		{name: "25 characters cut to 20", rule: ad, person: long, want: "jane.doe-smithson-lo",
			wantDetail: []string{"template {local}", "jane.doe-smithson-longname → jane.doe-smithson-lo (max 20)"}},
		{name: "second person sharing the first 20 characters", rule: ad,
			person: NamePerson{Email: "jane.doe-smithson-lobelia@example.com"}, taken: []string{"jane.doe-smithson-lo"},
			want: "jane.doe-smithson-l2", wantDetail: []string{"jane.doe-smithson-l2 (collision with jane.doe-smithson-lo"}},
		{name: "third person: the next free suffix", rule: ad, person: long,
			taken: []string{"jane.doe-smithson-lo", "jane.doe-smithson-l2"}, want: "jane.doe-smithson-l3"},
		{name: "taken compares without case", rule: ad, person: long, taken: []string{"Jane.Doe-Smithson-Lo"}, want: "jane.doe-smithson-l2"},
		{name: "cut before a separator drops it", rule: AccountNaming{MaxLength: 9}, person: NamePerson{Email: "jane.doe.x@example.com"}, want: "jane.doe"},
		{name: "suffix never leaves a separator", rule: AccountNaming{MaxLength: 9}, person: NamePerson{Email: "jane.doe.x@example.com"},
			taken: []string{"jane.doe"}, want: "jane.doe2"},
		{name: "non-ASCII transliterated", rule: ad, person: NamePerson{Email: "józef.müller-straße@example.com"}, want: "jozef.muller-strasse",
			wantDetail: []string{"józef.müller-straße → jozef.muller-strasse (charset ascii)"}},
		{name: "non-ASCII counted in characters, not bytes", rule: AccountNaming{MaxLength: 20, Charset: CharsetUnicode},
			person: NamePerson{Email: "żaneta.ąęśćźżółńąęśćźżółń@example.com"}, want: "żaneta.ąęśćźżółńąęść"},
		{name: "other scripts removed in ascii", rule: ad, person: NamePerson{Email: "ivan.иванов@example.com"}, want: "ivan"},
		{name: "template with first letter and family", rule: AccountNaming{Template: "{given.1}{family}", MaxLength: 20},
			person: NamePerson{Email: "x@example.com", GivenName: "Émile", FamilyName: "O'Brien-Zoë"}, want: "eobrien-zoe"},
		{name: "employee id", rule: AccountNaming{Template: "u{employee_id}"}, person: NamePerson{EmployeeID: "E-1042"}, want: "ue-1042"},
		{name: "no max length for openldap", rule: AccountNaming{}, person: long, want: "jane.doe-smithson-longname"},
		{name: "refuse", rule: AccountNaming{MaxLength: 20, Collision: CollisionRefuse}, person: long,
			taken: []string{"jane.doe-smithson-lo"}, wantErr: "account name jane.doe-smithson-lo is taken by someone else, and the system's collision rule is refuse"},
		{name: "no room for a suffix", rule: AccountNaming{MaxLength: 3}, person: NamePerson{Email: "abc@example.com"},
			taken: everyThree, wantErr: "no free name with a number appended within 3 characters"},
		{name: "empty name", rule: AccountNaming{Template: "{given}"}, person: NamePerson{Email: "x@example.com", GivenName: "李"},
			wantErr: `account name template "{given}" gives an empty name for x@example.com`},
		{name: "Japanese under ascii: nothing left, a clear error", rule: AccountNaming{Template: "{family}.{given}", MaxLength: 20},
			person:  NamePerson{Email: "yamada@example.com", GivenName: "太郎", FamilyName: "山田"},
			wantErr: `gives an empty name for yamada@example.com (charset ascii keeps Latin letters, digits and . - _): give the person a name by hand, or declare charset unicode`},
		{name: "Cyrillic under ascii: nothing left", rule: ad, person: NamePerson{Email: "иван.петров@example.com"},
			wantErr: "gives an empty name"},
		{name: "Japanese under unicode", rule: AccountNaming{Template: "{family}{given}", MaxLength: 20, Charset: CharsetUnicode},
			person: NamePerson{GivenName: "太郎", FamilyName: "山田"}, want: "山田太郎"},
		{name: "Turkish, Polish, Danish letters", rule: AccountNaming{Template: "{given}.{family}", MaxLength: 20},
			person: NamePerson{GivenName: "Şükrü", FamilyName: "Işık"}, want: "sukru.isik"},
		{name: "ø ł ß æ", rule: AccountNaming{Template: "{given}.{family}"},
			person: NamePerson{GivenName: "Błażej", FamilyName: "Søndergård-Straße-Ærø"}, want: "blazej.sondergard-strasse-aero"},
		{name: "Turkish dotted capital I", rule: AccountNaming{Template: "{given}"}, person: NamePerson{GivenName: "İpek"}, want: "ipek"},
		{name: "Vietnamese letters beyond the table: their base letter", rule: AccountNaming{Template: "{given}.{family}"},
			person: NamePerson{GivenName: "Thị", FamilyName: "Nguyễn"}, want: "thi.nguyen"},
		{name: "combining accents give the same name as composed ones", rule: AccountNaming{Template: "{given}", Charset: CharsetUnicode},
			person: NamePerson{GivenName: "Rene\u0301e"}, want: "renée"},
		{name: "marks of other scripts kept under unicode", rule: AccountNaming{Template: "{given}", Charset: CharsetUnicode},
			person: NamePerson{GivenName: "प्रिया"}, want: "प्रिया"},
		{name: "AD forbidden characters stripped under unicode", rule: AccountNaming{Template: "{given}", MaxLength: 20, Charset: CharsetUnicode},
			person: NamePerson{GivenName: `a"/\\[]:;|=,+*?<>@b$ c.`}, want: "abc"},
		{name: "AD forbidden characters stripped under ascii", rule: ad,
			person: NamePerson{Email: `"j/\\o[e]:;|=,+*?<>."@example.com`}, want: "joe"},
		{name: "no trailing dot", rule: ad, person: NamePerson{Email: "jane.@example.com"}, want: "jane"},
		{name: "19 characters and suffix 10 stay within 20", rule: ad, person: NamePerson{Email: "abcdefghijklmnopqrs@example.com"},
			taken: []string{"abcdefghijklmnopqrs", "abcdefghijklmnopqrs2", "abcdefghijklmnopqrs3", "abcdefghijklmnopqrs4",
				"abcdefghijklmnopqrs5", "abcdefghijklmnopqrs6", "abcdefghijklmnopqrs7", "abcdefghijklmnopqrs8", "abcdefghijklmnopqrs9"},
			want: "abcdefghijklmnopqr10"},
		{name: "suffix after a cut multi-byte character", rule: AccountNaming{MaxLength: 20, Charset: CharsetUnicode},
			person: NamePerson{Email: "żżżżżżżżżżżżżżżżżżżżż@example.com"}, taken: []string{"żżżżżżżżżżżżżżżżżżżż"}, want: "żżżżżżżżżżżżżżżżżżż2"},
		{name: "reserved: HR names spelling Administrator", rule: AccountNaming{Template: "{given}{family}", MaxLength: 20},
			person:  NamePerson{Email: "x@example.com", GivenName: "Admini", FamilyName: "Strator"},
			wantErr: "account name administrator is reserved (the domain's built-in Administrator) and is never given to a person"},
		{name: "reserved: not even with a number appended", rule: ad, person: NamePerson{Email: "KRBTGT@example.com"},
			taken: []string{"krbtgt"}, wantErr: "account name krbtgt is reserved"},
		{name: "reserved: a template of literal text", rule: AccountNaming{Template: "Guest"}, person: NamePerson{Email: "x@example.com"},
			wantErr: "account name guest is reserved"},
		{name: "reserved: RODC krbtgt", rule: AccountNaming{Template: "{employee_id}"}, person: NamePerson{EmployeeID: "krbtgt_1234"},
			wantErr: "reserved (a read-only domain controller's Kerberos account)"},
		{name: "reserved: a look-alike in other scripts under unicode", rule: AccountNaming{Template: "{given}", Charset: CharsetUnicode},
			person: NamePerson{GivenName: "Аdmіnistrator"}, wantErr: "account name аdmіnistrator is reserved"},
		{name: "reserved: fullwidth letters under unicode", rule: AccountNaming{Template: "{given}", Charset: CharsetUnicode},
			person: NamePerson{GivenName: "ｋｒｂｔｇｔ"}, wantErr: "is reserved (the Kerberos ticket-granting account)"},
		{name: "a Cyrillic name is not a look-alike", rule: AccountNaming{Template: "{given}", Charset: CharsetUnicode},
			person: NamePerson{GivenName: "Александр"}, want: "александр"},
		{name: "a name containing a reserved one is fine", rule: ad, person: NamePerson{Email: "guestrin@example.com"}, want: "guestrin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			taken := func(n string) (string, bool) {
				for _, x := range tc.taken {
					if strings.EqualFold(x, n) {
						return "someone else", true
					}
				}
				return "", false
			}
			got, detail, err := tc.rule.Assign(tc.person, taken)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Assign = %q, %v; want %q (detail %s)", got, err, tc.want, detail)
			}
			for _, d := range tc.wantDetail {
				if !strings.Contains(detail, d) {
					t.Errorf("detail %q lacks %q", detail, d)
				}
			}
		})
	}
}

// TestAccountNamingStable: the names of a plan depend only on what is taken, so a person who
// has a name keeps it (the engine records it) and a third person gets a new one.
func TestAccountNamingStable(t *testing.T) {
	rule := AccountNaming{MaxLength: 20}
	taken := map[string]bool{}
	assign := func(email string) string {
		t.Helper()
		n, _, err := rule.Assign(NamePerson{Email: email}, func(c string) (string, bool) { return "x", taken[c] })
		if err != nil {
			t.Fatal(err)
		}
		taken[n] = true
		return n
	}
	a := assign("jane.doe-smithson-longname@example.com")
	b := assign("jane.doe-smithson-lobelia@example.com")
	c := assign("jane.doe-smithson-lorraine@example.com")
	if a != "jane.doe-smithson-lo" || b != "jane.doe-smithson-l2" || c != "jane.doe-smithson-l3" {
		t.Fatalf("names %s %s %s", a, b, c)
	}
}
