package scimserver

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

// The listing's struct encoding must say exactly what userResource says.
func TestUserDocMatchesResource(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	mg := &managers{seen: map[string]*gatehouse.Identity{"E9": {ID: "m1", FirstName: "Mo", LastName: "Boss"}}}
	for _, i := range []*gatehouse.Identity{
		{ID: "a", Email: "a@example.com", EmployeeID: "E1", EmploymentType: gatehouse.Employee, Status: gatehouse.StatusActive, CreatedAt: at, UpdatedAt: at},
		{ID: "b", Email: "b@example.com", EmployeeID: "E2", FirstName: "Bo", LastName: "B", Title: "Dev", Department: "Eng",
			Location: "Oslo", ManagerID: "E9", EmploymentType: gatehouse.Contractor, Status: gatehouse.StatusTerminated,
			Attributes: map[string]string{service.AttrSCIMExternalID: "x", attrOrganization: "Org",
				attrEmails: `[{"value":"b@example.com","primary":true},{"value":"b@home.org","type":"home"}]`},
			CreatedAt: at, UpdatedAt: at.Add(time.Hour)},
		{ID: "c", Email: "c@example.com", EmployeeID: "E3", ManagerID: "gone", Status: gatehouse.StatusLeave, CreatedAt: at, UpdatedAt: at},
	} {
		mg.seen["gone"] = nil
		var fromMap, fromDoc map[string]any
		b1, _ := json.Marshal(userResource(i, "https://gh.example/scim/v2", mg))
		b2, _ := json.Marshal(newUserDoc(i, "https://gh.example/scim/v2", mg))
		if err := json.Unmarshal(b1, &fromMap); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b2, &fromDoc); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fromMap, fromDoc) {
			t.Errorf("%s:\nmap %s\ndoc %s", i.ID, b1, b2)
		}
	}
}
