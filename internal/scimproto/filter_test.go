package scimproto

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// rfcFilters are the example filters of RFC 7644 section 3.4.2.2 (and the search request of
// section 3.4.3), each with its canonical rendering.
var rfcFilters = []struct{ in, canon string }{
	{`userName eq "bjensen"`, ``},
	{`name.familyName co "O'Malley"`, ``},
	{`userName sw "J"`, ``},
	{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, ``},
	{`title pr`, ``},
	{`meta.lastModified gt "2011-05-13T04:42:34Z"`, ``},
	{`meta.lastModified ge "2011-05-13T04:42:34Z"`, ``},
	{`meta.lastModified lt "2011-05-13T04:42:34Z"`, ``},
	{`meta.lastModified le "2011-05-13T04:42:34Z"`, ``},
	{`title pr and userType eq "Employee"`, ``},
	{`title pr or userType eq "Intern"`, ``},
	{`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, ``},
	{`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`, ``},
	{`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`, ``},
	{`userType eq "Employee" and (emails.type eq "work")`, `userType eq "Employee" and emails.type eq "work"`},
	{`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`, ``},
	{`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`, ``},
	{`userName Eq "john"`, `userName eq "john"`},
	{`displayName sw "smith"`, ``},
	{`members[value eq "2819c223-7f76-453a-919d-413861904646"]`, ``},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1"`, ``},
	{`externalId eq "x" AND NOT (active EQ false) OR meta.version Ne null`, `externalId eq "x" and not (active eq false) or meta.version ne null`},
	{`x eq 12 or y gt -1.5e3 or z lt 0.25`, `x eq 12 or y gt -1500 or z lt 0.25`},
	{`not(a pr)`, `not (a pr)`},
	{`members.$ref pr`, ``},
	{"userName eq \"a\\\"b\\\\c\\u00e9\\/\"", "userName eq \"a\\\"b\\\\cé/\""},
}

func TestParseFilterRFCExamples(t *testing.T) {
	for _, tc := range rfcFilters {
		e, err := ParseFilter(tc.in)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tc.in, err)
			continue
		}
		want := tc.canon
		if want == "" {
			want = tc.in
		}
		if got := exprString(e); got != want {
			t.Errorf("ParseFilter(%q).String() = %q, want %q", tc.in, got, want)
		}
		again, err := ParseFilter(exprString(e))
		if err != nil || !reflect.DeepEqual(e, again) {
			t.Errorf("re-parsing %q: %v, equal=%v", exprString(e), err, reflect.DeepEqual(e, again))
		}
	}
}

func TestParseFilterTree(t *testing.T) {
	attr := func(name string, op CompareOp, v any) *AttrExpr {
		ap, msg, _ := parseAttrPath(name)
		if msg != "" {
			t.Fatalf("bad test path %q: %s", name, msg)
		}
		return &AttrExpr{Path: ap, Op: op, Value: v}
	}
	and := func(l, r Expr) Expr { return &LogicalExpr{Op: "and", Left: l, Right: r} }
	or := func(l, r Expr) Expr { return &LogicalExpr{Op: "or", Left: l, Right: r} }
	tests := []struct {
		in   string
		want Expr
	}{
		{`userName eq "bjensen"`, attr("userName", OpEq, "bjensen")},
		{`title PR`, attr("title", OpPr, nil)},
		{`a ne 1`, attr("a", OpNe, 1.0)},
		{`a co "x"`, attr("a", OpCo, "x")},
		{`a sw "x"`, attr("a", OpSw, "x")},
		{`a ew "x"`, attr("a", OpEw, "x")},
		{`a gt 2`, attr("a", OpGt, 2.0)},
		{`a GE true`, attr("a", OpGe, true)},
		{`a lt false`, attr("a", OpLt, false)},
		{`a le null`, attr("a", OpLe, nil)},
		// Precedence: not > and > or; and/or group to the left.
		{`a pr or b pr and c pr`, or(attr("a", OpPr, nil), and(attr("b", OpPr, nil), attr("c", OpPr, nil)))},
		{`a pr and b pr or c pr`, or(and(attr("a", OpPr, nil), attr("b", OpPr, nil)), attr("c", OpPr, nil))},
		{`a pr and (b pr or c pr)`, and(attr("a", OpPr, nil), or(attr("b", OpPr, nil), attr("c", OpPr, nil)))},
		{`a pr or b pr or c pr`, or(or(attr("a", OpPr, nil), attr("b", OpPr, nil)), attr("c", OpPr, nil))},
		{`not (a pr) and b pr`, and(&NotExpr{X: attr("a", OpPr, nil)}, attr("b", OpPr, nil))},
		{`((a pr))`, attr("a", OpPr, nil)},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`,
			&AttrExpr{Path: AttrPath{URN: enterpriseURN, Name: "manager", SubAttr: "value"}, Op: OpEq, Value: "x"}},
		{`emails[type eq "work" and value co "@example.com"]`, &ValuePathExpr{
			Path:   AttrPath{Name: "emails"},
			Filter: and(attr("type", OpEq, "work"), attr("value", OpCo, "@example.com")),
		}},
		{`not` + ` eq "x"`, attr("not", OpEq, "x")}, // "not" not followed by "(" is an attribute name
	}
	for _, tc := range tests {
		got, err := ParseFilter(tc.in)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseFilter(%q) = %s, want %s", tc.in, exprString(got), exprString(tc.want))
		}
	}
}

func TestParseFilterErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{``, `position 1: the filter is empty`},
		{`userName`, `position 9: expected a comparison operator`},
		{`userName eq`, `position 12: expected a value`},
		{`userName xx "a"`, `position 10: expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after userName, found "xx"`},
		{`userName eq bjensen`, `position 13: expected a value (a JSON string, a number, true, false or null), found "bjensen"`},
		{`userName eq "bjensen`, `position 13: string starting here is not terminated`},
		{`userName eq "a\qb"`, `position 13: string is not a valid JSON string`},
		{`userName eq "x" and`, `position 20: expected an attribute path`},
		{`userName eq "x" foo`, `position 17: expected "and", "or" or the end of the filter, found "foo"`},
		{`(userName eq "x"`, `position 17: expected ")" to close the "(" at position 1`},
		{`emails[type eq "w"`, `position 19: expected "]" to close the "[" at position 7`},
		{`emails[type eq "w"]]`, `position 20: expected "and", "or"`},
		{`emails[type[value pr]]`, `position 12: a value filter cannot be nested`},
		{`name.givenName[value pr]`, `position 15: a value filter follows a multi-valued attribute`},
		{`a.b.c pr`, `position 3: expected a sub-attribute name`},
		{`1abc pr`, `position 1: expected an attribute name, found "1abc"`},
		{`urn:x:2.0 pr`, `position 9: expected a sub-attribute name`},
		{`:name pr`, `position 1: ":name" does not start with a schema URN`},
		{`a eq 01`, `position 6: expected a value`},
		{`a eq 1e999`, `position 6: number 1e999 is out of range`},
		{`not (a pr`, `position 10: expected ")" to close the "(" at position 5`},
		{`) `, `position 1: expected an attribute path, "not (" or "(", found ")"`},
		{strings.Repeat("(", 100) + "a pr" + strings.Repeat(")", 100), `nested more than 64 levels deep`},
	}
	for _, tc := range tests {
		_, err := ParseFilter(tc.in)
		var se *Error
		if !errors.As(err, &se) {
			t.Errorf("ParseFilter(%q) error = %v, want *Error", tc.in, err)
			continue
		}
		if se.Status != 400 || se.ScimType != ScimTypeInvalidFilter || !strings.Contains(se.Detail, tc.want) {
			t.Errorf("ParseFilter(%q) = %d %s %q, want 400 invalidFilter containing %q", tc.in, se.Status, se.ScimType, se.Detail, tc.want)
		}
	}
}

func TestParsePath(t *testing.T) {
	eq := func(name string, v any) *AttrExpr { return &AttrExpr{Path: AttrPath{Name: name}, Op: OpEq, Value: v} }
	tests := []struct {
		in   string
		want Path
	}{
		{`members`, Path{Attr: AttrPath{Name: "members"}}},
		{`name.givenName`, Path{Attr: AttrPath{Name: "name", SubAttr: "givenName"}}},
		{`members[value eq "2819c223-7f76-453a-919d-413861904646"]`, Path{Attr: AttrPath{Name: "members"}, Filter: eq("value", "2819c223-7f76-453a-919d-413861904646")}},
		{`emails[type eq "work"].value`, Path{Attr: AttrPath{Name: "emails"}, Filter: eq("type", "work"), SubAttr: "value"}},
		{enterpriseURN + `:manager`, Path{Attr: AttrPath{URN: enterpriseURN, Name: "manager"}}},
		{enterpriseURN + `:manager.value`, Path{Attr: AttrPath{URN: enterpriseURN, Name: "manager", SubAttr: "value"}}},
		{`addresses[type eq "work" and primary eq true].streetAddress`, Path{Attr: AttrPath{Name: "addresses"},
			Filter: &LogicalExpr{Op: "and", Left: eq("type", "work"), Right: eq("primary", true)}, SubAttr: "streetAddress"}},
	}
	for _, tc := range tests {
		got, err := ParsePath(tc.in)
		if err != nil {
			t.Errorf("ParsePath(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParsePath(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
		if got.String() != tc.in {
			t.Errorf("ParsePath(%q).String() = %q", tc.in, got.String())
		}
	}
}

func TestParsePathErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{``, `position 1: expected an attribute path, found end of input`},
		{`members[`, `position 9: expected an attribute path`},
		{`members[value eq "x"`, `position 21: expected "]" to close the "[" at position 8`},
		{`emails[type eq "work"]value`, `position 23: expected "." and a sub-attribute name`},
		{`emails[type eq "work"].`, `position 23: expected "." and a sub-attribute name`},
		{`name.givenName.x`, `position 6: expected a sub-attribute name`},
		{`members value`, `position 9: expected the end of the path, found "value"`},
		{`emails.value[type eq "x"]`, `a value filter follows a multi-valued attribute`},
		{`"members"`, `position 1: expected an attribute path, found string "members"`},
	}
	for _, tc := range tests {
		_, err := ParsePath(tc.in)
		var se *Error
		if !errors.As(err, &se) || se.Status != 400 || se.ScimType != ScimTypeInvalidPath || !strings.Contains(se.Detail, tc.want) {
			t.Errorf("ParsePath(%q) error = %v, want 400 invalidPath containing %q", tc.in, err, tc.want)
		}
	}
}

func TestQuote(t *testing.T) {
	hostile := `x" or userName pr or userName eq "y`
	e, err := ParseFilter("userName eq " + Quote(hostile))
	if err != nil {
		t.Fatal(err)
	}
	a, ok := e.(*AttrExpr)
	if !ok || a.Value != hostile {
		t.Fatalf("Quote did not keep the value one string: %s", exprString(e))
	}
	if got := Quote("a<b>&c"); got != `"a<b>&c"` {
		t.Errorf("Quote escapes HTML: %s", got)
	}
}
