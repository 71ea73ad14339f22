package policy

// Justification quality: what a request's justification must say before anyone is asked to
// decide it. The rules are deliberately simple and explainable, so a requester who is told what
// is missing can fix it: empty, too short, made only of generic words, or not words at all.

import (
	"fmt"
	"strings"
	"unicode"
)

// minJustification is the shortest justification that can say what and why.
const minJustification = 15

// genericWords say nothing about why: a justification made only of them is returned.
var genericWords = map[string]bool{
	"need": true, "needs": true, "needed": true, "access": true, "pls": true, "plz": true, "please": true,
	"asap": true, "for": true, "work": true, "required": true, "require": true, "urgent": true, "i": true,
	"it": true, "to": true, "the": true, "me": true, "give": true, "grant": true, "want": true, "my": true,
	"job": true, "thanks": true, "thx": true, "this": true, "a": true, "an": true, "of": true, "is": true,
	"role": true, "permission": true, "permissions": true, "as": true, "discussed": true, "n/a": true,
	"na": true, "test": true, "todo": true, "tbd": true, "same": true, "like": true, "colleague": true,
	"and": true, "now": true, "get": true, "have": true, "must": true, "should": true, "ok": true,
}

// missingHint is what a returned request is told to add.
const missingHint = "say what task needs it and for how long (e.g. \"deploy the billing fix for INC-4211 this week\")"

// JustificationProblems returns what a justification lacks, or nil when it is acceptable. The
// rules are deliberately simple and explainable: empty, too short, made only of generic words,
// or not words at all (one character repeated, keyboard noise).
func JustificationProblems(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return []string{"a justification: " + missingHint}
	}
	var words []string
	letters := map[rune]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '/' && r != '-'
	}) {
		words = append(words, w)
		for _, r := range w {
			if unicode.IsLetter(r) {
				letters[r] = true
			}
		}
	}
	if len(letters) < 4 || repeats(s) {
		return []string{"a justification in words: " + missingHint}
	}
	generic := true
	for _, w := range words {
		if !genericWords[w] {
			generic = false
			break
		}
	}
	if generic {
		return []string{"a specific justification (\"" + s + "\" would fit any request): " + missingHint}
	}
	if len([]rune(s)) < minJustification {
		return []string{fmt.Sprintf("a longer justification (at least %d characters): %s", minJustification, missingHint)}
	}
	return nil
}

// repeats reports a run of 5 or more of one character: "aaaaa", "!!!!!", "......".
func repeats(s string) bool {
	run, prev := 0, rune(0)
	for _, r := range s {
		if r == prev {
			run++
			if run >= 5 {
				return true
			}
		} else {
			run, prev = 1, r
		}
	}
	return false
}
