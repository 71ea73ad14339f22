package ldap

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// This file is the inventory's read path. go-ldap decodes every response into a tree of
// packets with several allocations per value, which made reading 22,000 entries and 200,000
// member values 4× slower than ldapsearch. Inventory only needs a paged subtree search, so it
// speaks that one exchange itself on a dedicated connection: the request is encoded by hand and
// each response is decoded in place from one reusable buffer, handing out values as byte
// slices (a map lookup with string(b) does not allocate). Writes keep using go-ldap.

// rawEntry is one search result entry; its slices point into the read buffer and are valid
// only during the callback.
type rawEntry struct {
	DN    []byte
	Attrs []rawAttr
}

type rawAttr struct {
	Type []byte
	Vals [][]byte
}

// values returns the values of attribute name (ASCII case-insensitive).
func (e *rawEntry) values(name string) [][]byte {
	for i := range e.Attrs {
		if asciiEqualFold(e.Attrs[i].Type, name) {
			return e.Attrs[i].Vals
		}
	}
	return nil
}

func (e *rawEntry) first(name string) string {
	if v := e.values(name); len(v) > 0 {
		return string(v[0])
	}
	return ""
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// scanner is a dedicated connection for paged searches.
type scanner struct {
	conn    net.Conn
	r       *bufio.Reader
	buf     []byte
	nextID  int64
	timeout time.Duration
}

// newScanner dials, starts TLS when configured, and binds.
func (c *Connector) newScanner(ctx context.Context) (*scanner, error) {
	u, err := url.Parse(c.cfg.URL)
	if err != nil {
		return nil, goldap.NewError(goldap.ErrorNetwork, err)
	}
	host := u.Host
	if u.Port() == "" {
		port := "389"
		if u.Scheme == "ldaps" {
			port = "636"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	d := net.Dialer{Timeout: c.cfg.Timeout}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, goldap.NewError(goldap.ErrorNetwork, err)
	}
	if u.Scheme == "ldaps" {
		conn = tls.Client(conn, c.tls)
	}
	s := &scanner{conn: conn, r: bufio.NewReaderSize(conn, 256<<10), timeout: c.cfg.Timeout}
	if c.cfg.StartTLS {
		// ExtendedRequest [APPLICATION 23] { requestName [0] StartTLS OID }
		if err := s.roundTrip(ctx, tlv(0x77, tlv(0x80, []byte("1.3.6.1.4.1.1466.20037"))), 0x78); err != nil {
			conn.Close()
			return nil, err
		}
		s.conn = tls.Client(conn, c.tls)
		s.r = bufio.NewReaderSize(s.conn, 256<<10)
	}
	// BindRequest [APPLICATION 0] { version 3, name, simple [0] password }
	bind := tlv(0x60, integer(0x02, 3), tlv(0x04, []byte(c.cfg.BindDN)), tlv(0x80, []byte(c.password)))
	if err := s.roundTrip(ctx, bind, 0x61); err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

func (s *scanner) Close() error { return s.conn.Close() }

// send writes one LDAPMessage with op and optional controls.
func (s *scanner) send(op, controls []byte) error {
	s.nextID++
	parts := [][]byte{integer(0x02, s.nextID), op}
	if controls != nil {
		parts = append(parts, tlv(0xA0, controls))
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(s.timeout))
	if _, err := s.conn.Write(tlv(0x30, parts...)); err != nil {
		return goldap.NewError(goldap.ErrorNetwork, err)
	}
	return nil
}

// roundTrip sends op and reads a response whose protocolOp tag is want, an LDAPResult.
func (s *scanner) roundTrip(ctx context.Context, op []byte, want byte) error {
	if err := s.send(op, nil); err != nil {
		return err
	}
	tag, body, _, err := s.read()
	if err != nil {
		return err
	}
	if tag != want {
		return goldap.NewError(goldap.ErrorUnexpectedResponse, fmt.Errorf("response tag %#x, want %#x", tag, want))
	}
	return resultError(body)
}

// read reads one LDAPMessage and returns its protocolOp tag and content and its controls.
func (s *scanner) read() (tag byte, op, controls []byte, err error) {
	_ = s.conn.SetReadDeadline(time.Now().Add(s.timeout))
	t, err := s.r.ReadByte()
	if err != nil {
		return 0, nil, nil, goldap.NewError(goldap.ErrorNetwork, err)
	}
	if t != 0x30 {
		return 0, nil, nil, malformed("message tag %#x", t)
	}
	n, err := readLength(s.r)
	if err != nil {
		return 0, nil, nil, err
	}
	if cap(s.buf) < n {
		s.buf = make([]byte, n)
	}
	s.buf = s.buf[:n]
	if _, err := io.ReadFull(s.r, s.buf); err != nil {
		return 0, nil, nil, goldap.NewError(goldap.ErrorNetwork, err)
	}
	t, _, rest, err := next(s.buf) // messageID
	if err != nil || t != 0x02 {
		return 0, nil, nil, malformed("message id")
	}
	tag, op, rest, err = next(rest)
	if err != nil {
		return 0, nil, nil, err
	}
	if len(rest) > 0 {
		if t, c, _, err := next(rest); err == nil && t == 0xA0 {
			controls = c
		}
	}
	return tag, op, controls, nil
}

// pagedSearch runs a subtree search under base in pages of size, calling fn for each entry.
// scope is goldap.ScopeBaseObject or goldap.ScopeWholeSubtree.
func (s *scanner) pagedSearch(ctx context.Context, base string, scope int, filter string, attrs []string, size int, fn func(*rawEntry) error) error {
	fp, err := goldap.CompileFilter(filter)
	if err != nil {
		return goldap.NewError(goldap.ErrorFilterCompile, err)
	}
	filterBytes := fp.Bytes()
	attrList := make([][]byte, len(attrs))
	for i, a := range attrs {
		attrList[i] = tlv(0x04, []byte(a))
	}
	paging := goldap.NewControlPaging(uint32(size))
	var e rawEntry
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// SearchRequest [APPLICATION 3] { base, scope, derefAliases never(0),
		// sizeLimit 0, timeLimit 0, typesOnly false, filter, attributes }
		req := tlv(0x63, tlv(0x04, []byte(base)), integer(0x0A, int64(scope)), integer(0x0A, 0), integer(0x02, 0),
			integer(0x02, 0), tlv(0x01, []byte{0}), filterBytes, tlv(0x30, attrList...))
		if err := s.send(req, paging.Encode().Bytes()); err != nil {
			return err
		}
		var cookie []byte
	page:
		for {
			tag, op, controls, err := s.read()
			if err != nil {
				return err
			}
			switch tag {
			case 0x64: // SearchResultEntry
				if err := parseEntry(op, &e); err != nil {
					return err
				}
				if err := fn(&e); err != nil {
					return err
				}
			case 0x73: // SearchResultReference: referrals are not followed
			case 0x65: // SearchResultDone
				if err := resultError(op); err != nil {
					return err
				}
				if cookie, err = pagingCookie(controls); err != nil {
					return err
				}
				break page
			default:
				return malformed("unexpected response tag %#x", tag)
			}
		}
		if len(cookie) == 0 {
			return nil
		}
		paging.SetCookie(append([]byte(nil), cookie...))
	}
}

// parseEntry decodes SearchResultEntry { objectName, attributes SEQUENCE OF { type, SET OF value } }
// into e, reusing its slices.
func parseEntry(b []byte, e *rawEntry) error {
	t, dn, rest, err := next(b)
	if err != nil || t != 0x04 {
		return malformed("entry name")
	}
	e.DN = dn
	t, list, _, err := next(rest)
	if err != nil || t != 0x30 {
		return malformed("entry attributes")
	}
	attrs := e.Attrs[:0]
	for len(list) > 0 {
		var pa []byte
		if t, pa, list, err = next(list); err != nil || t != 0x30 {
			return malformed("attribute")
		}
		var typ, set []byte
		if t, typ, pa, err = next(pa); err != nil || t != 0x04 {
			return malformed("attribute type")
		}
		if t, set, _, err = next(pa); err != nil || t != 0x31 {
			return malformed("attribute values")
		}
		var vals [][]byte
		if len(attrs) < cap(attrs) {
			vals = attrs[:len(attrs)+1][len(attrs)].Vals[:0]
		}
		for len(set) > 0 {
			var v []byte
			if t, v, set, err = next(set); err != nil || t != 0x04 {
				return malformed("attribute value")
			}
			vals = append(vals, v)
		}
		attrs = append(attrs, rawAttr{Type: typ, Vals: vals})
	}
	e.Attrs = attrs
	return nil
}

// resultError turns an LDAPResult { resultCode, matchedDN, diagnosticMessage, … } into nil or
// a *goldap.Error, so classify treats it like any go-ldap error.
func resultError(b []byte) error {
	t, code, rest, err := next(b)
	if err != nil || t != 0x0A {
		return malformed("result code")
	}
	rc := uint16(decodeInt(code))
	if rc == goldap.LDAPResultSuccess {
		return nil
	}
	_, _, rest, _ = next(rest) // matchedDN
	_, diag, _, _ := next(rest)
	msg := string(diag)
	if msg == "" {
		msg = goldap.LDAPResultCodeMap[rc]
	}
	return goldap.NewError(rc, errors.New(msg))
}

// pagingCookie finds the paged results control (RFC 2696) in controls and returns its cookie;
// none means the server did not page, so the result was complete.
func pagingCookie(controls []byte) ([]byte, error) {
	for len(controls) > 0 {
		t, ctl, rest, err := next(controls)
		if err != nil || t != 0x30 {
			return nil, malformed("control")
		}
		controls = rest
		t, oid, ctl, err := next(ctl)
		if err != nil || t != 0x04 || string(oid) != goldap.ControlTypePaging {
			continue
		}
		for len(ctl) > 0 {
			var v []byte
			if t, v, ctl, err = next(ctl); err != nil {
				return nil, malformed("control value")
			}
			if t != 0x04 { // criticality
				continue
			}
			// realSearchControlValue ::= SEQUENCE { size INTEGER, cookie OCTET STRING }
			t, seq, _, err := next(v)
			if err != nil || t != 0x30 {
				return nil, malformed("paging control")
			}
			_, _, seq, err = next(seq)
			if err != nil {
				return nil, malformed("paging control size")
			}
			t, cookie, _, err := next(seq)
			if err != nil || t != 0x04 {
				return nil, malformed("paging cookie")
			}
			return cookie, nil
		}
	}
	return nil, nil
}

func malformed(format string, args ...any) error {
	return goldap.NewError(goldap.ErrorMalformedPacket, fmt.Errorf("malformed LDAP response: "+format, args...))
}

// maxMessage bounds one response message, so a broken peer cannot make us allocate gigabytes.
const maxMessage = 256 << 20

func readLength(r io.ByteReader) (int, error) {
	b, err := r.ReadByte()
	if err != nil {
		return 0, goldap.NewError(goldap.ErrorNetwork, err)
	}
	if b < 0x80 {
		return int(b), nil
	}
	k := int(b & 0x7f)
	if k == 0 || k > 4 {
		return 0, malformed("length form %#x", b)
	}
	n := 0
	for range k {
		if b, err = r.ReadByte(); err != nil {
			return 0, goldap.NewError(goldap.ErrorNetwork, err)
		}
		n = n<<8 | int(b)
	}
	if n > maxMessage {
		return 0, malformed("message of %d bytes", n)
	}
	return n, nil
}

// next splits the first TLV (single-byte tag, definite length) off b.
func next(b []byte) (tag byte, val, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, malformed("short element")
	}
	tag, n, i := b[0], int(b[1]), 2
	if n >= 0x80 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return 0, nil, nil, malformed("element length")
		}
		n = 0
		for _, x := range b[2 : 2+k] {
			n = n<<8 | int(x)
		}
		i += k
	}
	if n < 0 || len(b)-i < n {
		return 0, nil, nil, malformed("element overruns message")
	}
	return tag, b[i : i+n], b[i+n:], nil
}

func decodeInt(b []byte) int64 {
	var v int64
	for i, x := range b {
		if i == 0 && x&0x80 != 0 {
			v = -1
		}
		v = v<<8 | int64(x)
	}
	return v
}

// tlv encodes one BER element.
func tlv(tag byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n+6)
	out = append(out, tag)
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	default:
		out = append(out, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// integer encodes v as a minimal two's complement INTEGER or ENUMERATED.
func integer(tag byte, v int64) []byte {
	var b []byte
	for {
		b = append([]byte{byte(v)}, b...)
		v >>= 8
		if (v == 0 && b[0]&0x80 == 0) || (v == -1 && b[0]&0x80 != 0) {
			break
		}
	}
	return tlv(tag, b)
}
