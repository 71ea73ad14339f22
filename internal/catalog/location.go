package catalog

import (
	"strconv"
	"strings"
)

// Where each object and field of a catalog was written, so that every problem, even one found
// after parsing (validation, plan), names its file and line.

// Pos returns where field (a path relative to the object, such as "owner", "approval[1]" or
// "connector.url"; "" for the object itself) of the object kind/id was written. For settings,
// id is ignored. A field that was not written (a default) gives the object's position; an
// unknown object gives the zero Pos.
func (d *Document) Pos(kind, id, field string) Pos {
	l := d.loc(kind, id)
	if l == nil {
		return Pos{}
	}
	return Pos{File: l.file, Line: l.lineOf(field)}
}

// Path returns the problem field path of an object's field, e.g. "systems[wiki].owner".
func (d *Document) Path(kind, id, field string) string {
	if l := d.loc(kind, id); l != nil {
		return l.fieldPath(field)
	}
	return synthLoc(kind, id, 0).fieldPath(field)
}

// written reports whether the catalog wrote field of an object (as opposed to a default).
func (d *Document) written(kind, id, field string) bool {
	l := d.loc(kind, id)
	return l != nil && l.given(field)
}

func (d *Document) loc(kind, id string) *objLoc {
	if d == nil || d.locs == nil {
		return nil
	}
	if kind == KindSettings {
		id = ""
	}
	return d.locs[kind+"\x00"+id]
}

// objLoc is where an object and its fields were written.
type objLoc struct {
	file   string
	line   int
	path   string          // field path of the object: "settings", "systems[corp-ldap]"
	fields map[string]int  // line of each field written, by path relative to the object
	nulls  map[string]bool // fields written with an empty (null) value
}

func newLoc(file string, line int, path string) *objLoc {
	return &objLoc{file: file, line: line, path: path, fields: map[string]int{}, nulls: map[string]bool{}}
}

// synthLoc names an object that has no position (Validate of a catalog not read from YAML).
func synthLoc(kind, id string, idx int) *objLoc {
	if kind == KindSettings {
		return newLoc("", 0, "settings")
	}
	name := id
	if name == "" {
		name = strconv.Itoa(idx)
	}
	return newLoc("", 0, listKey[kind]+"["+name+"]")
}

// lineOf returns the line of field, or of its nearest written parent, or of the object.
func (l *objLoc) lineOf(field string) int {
	for f := field; f != ""; f = parentPath(f) {
		if n, ok := l.fields[f]; ok {
			return n
		}
	}
	return l.line
}

// given reports whether field was written with a non-empty value.
func (l *objLoc) given(field string) bool {
	_, ok := l.fields[field]
	return ok && !l.nulls[field]
}

func (l *objLoc) fieldPath(field string) string {
	switch {
	case field == "":
		return l.path
	case field[0] == '[':
		return l.path + field
	}
	return l.path + "." + field
}

func (l *objLoc) pos() Pos { return Pos{File: l.file, Line: l.line} }

// parentPath strips the last element of a field path: "connector.url" → "connector",
// "approval[1]" → "approval", "owner" → "".
func parentPath(f string) string {
	i := strings.LastIndexAny(f, ".[")
	if i < 0 {
		return ""
	}
	return f[:i]
}

// locations holds an objLoc for each object of a catalog, aligned with its lists.
type locations struct {
	settings                          *objLoc
	systems, entitlements, roles, sod []*objLoc
}
