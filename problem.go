package gatehouse

import (
	"strconv"
	"strings"
)

// Problem is one thing wrong with a file a person wrote (a catalog, an HR feed), located so
// that they can fix it: the file, the line (for an HR feed in JSON, the position of the object
// in the array), the field, and the reason. It is the one shape of a problem everywhere: the
// catalog and HR validations report it, the API sends it in an error's details (docs/api.md),
// and the client hands it to the CLI as it arrived.
type Problem struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"` // the reason
}

// String renders the problem the way compilers do, so editors can jump to it:
// "file:line: field: message", leaving out the parts it does not have.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteString(":")
		if p.Line > 0 {
			b.WriteString(strconv.Itoa(p.Line))
			b.WriteString(":")
		}
		b.WriteString(" ")
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}
