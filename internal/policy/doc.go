// Package policy holds Gatehouse's rules as pure functions: no database, no HTTP, no clock of its
// own. It is fast and safe to call from request handlers, the HR import and the catalog parser.
//
// What it decides: birthright (CEL rules, below), separation of duties (SoDIndex), the quality
// of a request's justification (JustificationProblems), and the pure part of approval routing
// (ApprovalChain, EligibleApprovers, Untaken, DecidedSteps: who may decide a step once the
// service has found the candidates in the store).
//
// Birthright rules are CEL expressions over one variable, identity, whose fields are the HR feed
// columns in snake_case (employee_id, email, first_name, last_name, department, title, manager_id,
// location, employment_type, status, start_date, end_date, kind), all strings, plus attributes, a
// map(string, string) of every extra feed column:
//
//	identity.department == "Engineering" && identity.status == "active"
//	identity.attributes["cost_center"] == "CC-1"
//	"cost_center" in identity.attributes && identity.email.endsWith("@example.com")
//
// Rules are type-checked when compiled: a misspelt field or a rule that does not return a bool is
// an error at catalog plan time, not a silent "no match" at import time.
package policy
