package service

import "github.com/gatehouse/gatehouse"

// textField is one free-text or one-line input of a service call, checked against the limits
// of docs/api.md ("Limits") before anything is read or written: a reason is stored in the
// audit log for good, and shown on pages, in notifications and in CLI tables.
type textField struct {
	name, value string
	max         int
	line        bool // one line: no control characters at all
}

// reasonText is a reason, justification, comment or note: free text up to MaxReasonLength.
func reasonText(name, v string) textField {
	return textField{name: name, value: v, max: gatehouse.MaxReasonLength}
}

// descriptionText is a description: free text up to MaxDescriptionLength.
func descriptionText(name, v string) textField {
	return textField{name: name, value: v, max: gatehouse.MaxDescriptionLength}
}

// idText is an id, email, reference or other key: one line up to MaxEmailLength (the longest
// key, an email).
func idText(name, v string) textField {
	return textField{name: name, value: v, max: gatehouse.MaxEmailLength, line: true}
}

// checkTexts returns an EINVALID error naming the first field that breaks its rule.
func checkTexts(fs ...textField) error {
	for _, f := range fs {
		check := gatehouse.CheckText
		if f.line {
			check = gatehouse.CheckLine
		}
		if err := check(f.name, f.value, f.max); err != nil {
			return err
		}
	}
	return nil
}
