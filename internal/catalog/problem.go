package catalog

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// Pos is a place in a catalog file. The zero Pos means "not from a file" (a catalog validated
// without its YAML, or a default).
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

func (p Pos) String() string {
	switch {
	case p.File == "" && p.Line == 0:
		return "-"
	case p.Line == 0:
		return p.File
	}
	return p.File + ":" + strconv.Itoa(p.Line)
}

// Problem is one thing wrong with a catalog, with where it is: the domain's one problem shape.
//
// Field is a path from the top of the catalog: "settings.leaver_guard.max_fraction",
// "systems[corp-ldap].connector.bind_password", "entitlements[corp-ldap/admins].approval[1]".
// An object is named by its id when it has one, by its 0-based position in its file's list
// otherwise ("entitlements[3].risk").
type Problem = gatehouse.Problem

// Problems is every problem found in a catalog. Parse, Validate and MakePlan return it as their
// error, so that a user fixes all mistakes in one round instead of one per run.
//
// Callers get at the list with errors.As(err, &problems). Problems also converts to a
// *gatehouse.Error with code gatehouse.EINVALID under errors.As, so the API's and CLI's
// error-code tables map it like any other invalid input without knowing this type.
type Problems []Problem

// Error lists the problems one per line, sorted by file then line.
func (ps Problems) Error() string {
	sorted := slices.Clone(ps)
	sortProblems(sorted)
	lines := make([]string, len(sorted))
	for i, p := range sorted {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// List returns the problems as the domain's list, for whoever reports them (the API's error
// details).
func (ps Problems) List() []gatehouse.Problem { return ps }

// Code is gatehouse.EINVALID: a catalog with problems is bad input.
func (ps Problems) Code() string { return gatehouse.EINVALID }

// As lets errors.As see Problems as a *gatehouse.Error (code EINVALID, the problem list as its
// message).
func (ps Problems) As(target any) bool {
	if t, ok := target.(**gatehouse.Error); ok {
		*t = &gatehouse.Error{Code: gatehouse.EINVALID, Message: fmt.Sprintf("catalog has %d problem(s):\n%s", len(ps), ps.Error())}
		return true
	}
	return false
}

// sortProblems orders problems by file, then line; problems on one line keep the order they
// were found in (field order within an object).
func sortProblems(ps Problems) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return a.Line - b.Line
	})
}

// closest returns the candidate nearest to s when it is close enough to be a likely typo.
func closest(s string, candidates []string) string {
	best, bestD := "", max(2, len(s)/3)+1
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, over bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// didYouMean is a suffix for a message about an unknown name.
func didYouMean(s string, candidates []string) string {
	if c := closest(s, candidates); c != "" {
		return fmt.Sprintf("; did you mean %s?", c)
	}
	return ""
}
