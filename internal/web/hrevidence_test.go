package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHRImportPageShowsEvidence: after an import is applied its page lists what it did, person
// by person, named rather than by employee id, with the entitlements gained and lost by name,
// and flags a leaver terminated after their end date — in the dry run's plan as well.
func TestHRImportPageShowsEvidence(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// Bob's contract ended three days ago; HR says so only now.
	end := time.Now().UTC().AddDate(0, 0, -3).Format("2006-01-02")
	feed := strings.Replace(joinerFeed, hrPeople["E005"],
		"E005,bob@example.com,Bob,Berg,Finance,Accountant,,,contractor,terminated,2024-01-01,"+end+"\n", 1)

	res, body := f.upload(t, "admin", "people.csv", feed, true)
	wantStatus(t, res, body, http.StatusOK)
	bob := section(t, body, `<tr class="class-leaver">`, "</tr>")
	wantContains(t, bob, "bob@example.com", `<span class="badge late class-leaver"`, "terminated 3 days after end date")

	res, body = f.upload(t, "admin", "people.csv", feed, false)
	wantStatus(t, res, body, http.StatusSeeOther)
	loc := res.Header.Get("Location")

	res, page := f.get(t, "auditor", loc)
	wantStatus(t, res, page, http.StatusOK)
	wantContains(t, page, "What it did, person by person", `<dd id="late-leavers">`)
	people := section(t, page, `id="changes"`, "</table>")
	// Named, with the employee id beside the name.
	wantContains(t, people, ">Bob Berg</a>", "E005", ">Alice Anders</a>", "E004", ">Pia Platform</a>", "E100")
	wantContains(t, section(t, people, `<tr class="class-leaver">`, "</tr>"), "late", "terminated 3 days after end date", "− Create payments")
	wantContains(t, section(t, people, `<tr class="class-mover">`, "</tr>"), `<span class="old">Engineering</span> → <span class="new">Platform</span>`)
	wantContains(t, section(t, people, `<tr class="class-joiner">`, "</tr>"), "+ Engineering")

	// Filters: only late leavers; a class.
	res, page = f.get(t, "auditor", loc+"?late=1")
	wantStatus(t, res, page, http.StatusOK)
	people = section(t, page, `id="changes"`, "</table>")
	wantContains(t, people, "Bob Berg")
	wantNotContains(t, people, "Alice Anders", "Pia Platform")
	res, page = f.get(t, "auditor", loc+"?class=joiner")
	wantStatus(t, res, page, http.StatusOK)
	wantNotContains(t, section(t, page, `id="changes"`, "</table>"), "Bob Berg")

	// The history counts the late leaver.
	res, page = f.get(t, "auditor", "/hr")
	wantStatus(t, res, page, http.StatusOK)
	wantContains(t, page, "1 late leaver")

	// Someone who may not read imports does not see the evidence.
	res, page = f.get(t, "alice", loc)
	wantStatus(t, res, page, http.StatusForbidden)
}
