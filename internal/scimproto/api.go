package scimproto

// This file is the contract the rest of Gatehouse codes against. Implementations live in the
// other files of the package.

import "net/http"

// Schema URNs (RFC 7643 section 8.7, RFC 7644 section 3).
const (
	SchemaUser           = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaGroup          = "urn:ietf:params:scim:schemas:core:2.0:Group"
	SchemaEnterpriseUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	SchemaListResponse   = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	SchemaPatchOp        = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SchemaError          = "urn:ietf:params:scim:api:messages:2.0:Error"
	SchemaSPConfig       = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	SchemaResourceType   = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	SchemaSchema         = "urn:ietf:params:scim:schemas:core:2.0:Schema"
	SchemaBulkRequest    = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	SchemaBulkResponse   = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
	SchemaSearchRequest  = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
)

// MediaType is the SCIM content type; application/json is accepted and answered too.
const MediaType = "application/scim+json"

// ScimType values of RFC 7644 section 3.12, table 9.
const (
	ScimTypeInvalidFilter = "invalidFilter"
	ScimTypeTooMany       = "tooMany"
	ScimTypeUniqueness    = "uniqueness"
	ScimTypeMutability    = "mutability"
	ScimTypeInvalidSyntax = "invalidSyntax"
	ScimTypeInvalidPath   = "invalidPath"
	ScimTypeNoTarget      = "noTarget"
	ScimTypeInvalidValue  = "invalidValue"
	ScimTypeInvalidVers   = "invalidVers"
	ScimTypeSensitive     = "sensitive"
)

// Error is a SCIM error (RFC 7644 section 3.12), both as a Go error and as the JSON body:
//
//	{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidFilter","detail":"..."}
//
// Status is a string in the JSON, as the RFC's examples show; UnmarshalJSON accepts a number
// too, because some servers send one.
type Error struct {
	Status   int    // HTTP status
	ScimType string // "" when none applies
	Detail   string
}

// Errorf returns an *Error with a formatted detail.
//
//	func Errorf(status int, scimType, format string, args ...any) *Error
//
// (*Error).Error() string: "scim 400 invalidFilter: detail" (parts omitted when empty).
// (*Error).MarshalJSON / UnmarshalJSON: the RFC body above.
// WriteError(w http.ResponseWriter, err error): writes err as a SCIM error body with
//
//	Content-Type application/scim+json; an err that is not an *Error becomes a 500 with a
//	generic detail (the caller logs the real one).
var _ = http.StatusOK

// Expr is a parsed filter (RFC 7644 section 3.4.2.2). It is one of *AttrExpr, *LogicalExpr,
// *NotExpr, *ValuePathExpr.
type Expr interface{ expr() }

// CompareOp is a comparison operator, lower case. Parsing accepts any case ("EQ", "Eq").
type CompareOp string

const (
	OpEq CompareOp = "eq"
	OpNe CompareOp = "ne"
	OpCo CompareOp = "co"
	OpSw CompareOp = "sw"
	OpEw CompareOp = "ew"
	OpGt CompareOp = "gt"
	OpGe CompareOp = "ge"
	OpLt CompareOp = "lt"
	OpLe CompareOp = "le"
	OpPr CompareOp = "pr"
)

// AttrPath is an attribute path: an optional schema URN, an attribute name and an optional
// sub-attribute ("urn:...:enterprise:2.0:User:manager.value" → URN, "manager", "value";
// "name.givenName" → "", "name", "givenName"). Names keep the case they were written in;
// comparisons of names are case-insensitive (RFC 7643 section 2.1).
type AttrPath struct {
	URN     string
	Name    string
	SubAttr string
}

// AttrExpr is "path op value" (Value is nil for pr). Value is a string, a float64 (a JSON
// number), a bool, or nil (the JSON null).
type AttrExpr struct {
	Path  AttrPath
	Op    CompareOp
	Value any
}

// LogicalExpr is "left and right" / "left or right". Op is "and" or "or".
type LogicalExpr struct {
	Op          string
	Left, Right Expr
}

// NotExpr is "not (x)".
type NotExpr struct{ X Expr }

// ValuePathExpr is "attr[filter]" inside a filter, e.g. emails[type eq "work" and value co "@example.com"].
// Filter paths inside the brackets are relative to the multi-valued attribute.
type ValuePathExpr struct {
	Path   AttrPath // the multi-valued attribute (SubAttr empty)
	Filter Expr
}

func (*AttrExpr) expr()      {}
func (*LogicalExpr) expr()   {}
func (*NotExpr) expr()       {}
func (*ValuePathExpr) expr() {}

// ParseFilter parses a filter. Errors are *Error with status 400 and scimType invalidFilter,
// naming the position and what was expected. It never panics, whatever the input (fuzzed).
//
//	func ParseFilter(s string) (Expr, error)
//
// Match reports whether resource (a SCIM resource decoded from JSON into map[string]any, so
// numbers are float64) matches e, with RFC 7644 semantics: attribute names case-insensitive;
// string comparisons case-insensitive except for caseExact attributes (id, externalId and
// meta.version are caseExact; pass the rest through Attributes if needed); multi-valued
// attributes match when any value matches; "emails eq x" compares the value sub-attribute;
// "pr" is present and not empty; dates (meta.created, meta.lastModified) compare as times.
//
//	func Match(e Expr, resource map[string]any) bool
//	func MatchSchema(e Expr, resource map[string]any, schema Schema) bool  // caseExact from schema
//
// Every Expr type, AttrPath and Path have a String method rendering filter text that parses
// back to an equal tree; Quote(s) renders a string literal, for building filters from
// untrusted text: "userName eq " + scimproto.Quote(name).
//
// Path is a PATCH path (RFC 7644 section 3.5.2): an attribute path, optionally with a value
// filter and a sub-attribute after it: members[value eq "2819c223"], emails[type eq "work"].value,
// urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.
type Path struct {
	Attr   AttrPath // the attribute (for a value filter: Attr.SubAttr is empty)
	Filter Expr     // nil when there is no [filter]
	// SubAttr is the sub-attribute after a value filter ("value" in emails[type eq "work"].value).
	SubAttr string
}

//	func ParsePath(s string) (Path, error)      // *Error 400 invalidPath on a bad path
//
// PatchOp is one operation of a PatchOp request. Op is lower-cased by the decoder ("Replace",
// "ADD" are accepted, as Entra ID sends them). Path is "" when the request has none; Value is
// the decoded JSON (map[string]any, []any, string, float64, bool, nil).
type PatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

// PatchRequest is the body of a PATCH (RFC 7644 section 3.5.2). DecodePatchRequest(r) reads
// one, lower-casing op names; its errors are *Error 400 invalidSyntax.
type PatchRequest struct {
	Schemas    []string  `json:"schemas"`
	Operations []PatchOp `json:"Operations"`
}

// ApplyPatch applies ops in order to resource (a decoded SCIM resource, changed in place) with
// the semantics of RFC 7644 section 3.5.2.1-3: add (to a multi-valued attribute: appended,
// without duplicating an equal value), remove (a path is required; a filter removes the matching
// values: members[value eq "x"]), replace; without a path the value is a map whose keys are
// attribute paths ("name.givenName", "urn:...:User:manager", or a plain attribute) — the form
// Entra ID sends. Multi-valued attributes are those in multiValued (lower case names, e.g.
// "emails", "members", "phonenumbers", "groups"); the rest are single-valued. Read-only
// attributes (id, meta, and names in readOnly) are refused with mutability. A failing
// operation leaves resource unchanged (the whole request is atomic) and returns an *Error
// (invalidPath, noTarget, invalidValue, mutability).
//
//	func ApplyPatch(resource map[string]any, ops []PatchOp, schema Schema) error
//
// Schema says, for ApplyPatch and Match, which attributes are multi-valued, read-only and
// case-exact. Names are lower case; sub-attributes as "name.sub".
type Schema struct {
	MultiValued map[string]bool
	ReadOnly    map[string]bool
	CaseExact   map[string]bool
	// Booleans are the boolean attributes ("active", "emails.primary"): ApplyPatch turns the
	// strings "True"/"False" that Entra ID sends for them into JSON booleans.
	Booleans map[string]bool
}

// UserSchema and GroupSchema are the schemas of the User and Group resources Gatehouse serves
// and sends (core attributes plus the enterprise extension for users).
//
//	var UserSchema, GroupSchema Schema
//
// ListResponse is a page of resources (RFC 7644 section 3.4.2). Every field is always encoded,
// an empty page included (itemsPerPage 0, Resources []): IdPs read them without checking.
type ListResponse struct {
	Schemas      []string         `json:"schemas"`
	TotalResults int              `json:"totalResults"`
	StartIndex   int              `json:"startIndex"`
	ItemsPerPage int              `json:"itemsPerPage"`
	Resources    []map[string]any `json:"Resources"`
}
