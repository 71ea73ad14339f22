package ldap

import (
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
)

func TestBEREncoding(t *testing.T) {
	for _, tt := range []struct {
		v    int64
		want []byte
	}{
		{0, []byte{2, 1, 0}}, {3, []byte{2, 1, 3}}, {127, []byte{2, 1, 127}}, {128, []byte{2, 2, 0, 128}},
		{256, []byte{2, 2, 1, 0}}, {-1, []byte{2, 1, 0xff}},
	} {
		got := integer(0x02, tt.v)
		if string(got) != string(tt.want) {
			t.Errorf("integer(%d) = % x, want % x", tt.v, got, tt.want)
		}
		if _, val, _, err := next(got); err != nil || decodeInt(val) != tt.v {
			t.Errorf("decode(integer(%d)) = %d, %v", tt.v, decodeInt(val), err)
		}
	}
	long := make([]byte, 70000)
	tag, val, rest, err := next(append(tlv(0x04, long), 0x05, 0x00))
	if err != nil || tag != 0x04 || len(val) != len(long) || len(rest) != 2 {
		t.Fatalf("long form: tag %#x len %d rest %d err %v", tag, len(val), len(rest), err)
	}
}

func TestParseEntry(t *testing.T) {
	attr := func(name string, vals ...string) []byte {
		var vs [][]byte
		for _, v := range vals {
			vs = append(vs, tlv(0x04, []byte(v)))
		}
		return tlv(0x30, tlv(0x04, []byte(name)), tlv(0x31, vs...))
	}
	var e rawEntry
	msg := tlv(0x64, tlv(0x04, []byte("cn=g,dc=x")), tlv(0x30, attr("objectClass", "groupOfNames"), attr("member", "uid=a", "uid=b")))
	_, op, _, _ := next(msg)
	if err := parseEntry(op, &e); err != nil {
		t.Fatal(err)
	}
	if string(e.DN) != "cn=g,dc=x" || len(e.values("MEMBER")) != 2 || string(e.values("member")[1]) != "uid=b" || e.first("objectclass") != "groupOfNames" {
		t.Fatalf("entry = %s %v", e.DN, e.Attrs)
	}
	// Reusing the entry for a smaller one leaves nothing behind.
	msg = tlv(0x64, tlv(0x04, []byte("uid=a")), tlv(0x30, attr("uid", "a")))
	_, op, _, _ = next(msg)
	if err := parseEntry(op, &e); err != nil || len(e.Attrs) != 1 || e.values("member") != nil {
		t.Fatalf("reused entry = %v, %v", e.Attrs, err)
	}
}

func TestResultAndCookie(t *testing.T) {
	done := tlv(0x65, integer(0x0A, 51), tlv(0x04, nil), tlv(0x04, []byte("busy now")))
	_, op, _, _ := next(done)
	if err := resultError(op); !isCode(err, goldap.LDAPResultBusy) {
		t.Fatalf("resultError = %v, want busy", err)
	}
	ctl := goldap.NewControlPaging(100)
	ctl.SetCookie([]byte("abc"))
	cookie, err := pagingCookie(ctl.Encode().Bytes())
	if err != nil || string(cookie) != "abc" {
		t.Fatalf("pagingCookie = %q, %v", cookie, err)
	}
}

// FuzzDecode: whatever a server sends, decoding returns an error, never panics.
func FuzzDecode(f *testing.F) {
	f.Add(tlv(0x64, tlv(0x04, []byte("cn=x")), tlv(0x30, tlv(0x30, tlv(0x04, []byte("member")), tlv(0x31, tlv(0x04, []byte("uid=a")))))))
	f.Add(tlv(0x30, tlv(0x04, []byte(goldap.ControlTypePaging)), tlv(0x04, tlv(0x30, integer(0x02, 0), tlv(0x04, []byte("c"))))))
	f.Add([]byte{0x84, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var e rawEntry
		_ = parseEntry(b, &e)
		_, _ = pagingCookie(b)
		_ = resultError(b)
		for len(b) > 0 {
			var err error
			if _, _, b, err = next(b); err != nil {
				break
			}
		}
	})
}
