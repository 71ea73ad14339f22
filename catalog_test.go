package gatehouse

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"0s", 0, false},
		{"8h", 8 * time.Hour, false},
		{"30d", 30 * 24 * time.Hour, false},
		{"36500d", 36500 * 24 * time.Hour, false},
		{"36501d", 0, true},
		{"200000d", 0, true},
		{"-1h", 0, true},
		{"-3d", 0, true},
		{"soon", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseDuration(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if time.Duration(got) != tt.want {
			t.Errorf("ParseDuration(%q) = %s, want %s", tt.in, time.Duration(got), tt.want)
		}
	}
}

func TestValidEmail(t *testing.T) {
	for s, want := range map[string]bool{
		"a@example.com": true, "first.last+tag@sub.example.org": true,
		"": false, "a": false, "@example.com": false, "a@": false, "a@b": false, "a@b.": false,
		"a b@example.com": false, "a@@example.com": false, "a@example.com,b@example.com": false,
	} {
		if got := ValidEmail(s); got != want {
			t.Errorf("ValidEmail(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestIdentityValidate(t *testing.T) {
	ok := func() Identity {
		return Identity{EmployeeID: "E1", Email: "a@example.com", StartDate: "2024-01-01"}
	}
	tests := []struct {
		name   string
		change func(*Identity)
		field  string // "" when valid
	}{
		{"valid with defaults", func(*Identity) {}, ""},
		{"bad email", func(i *Identity) { i.Email = "nope" }, "email"},
		{"person without employee id", func(i *Identity) { i.EmployeeID = "" }, "employee_id"},
		{"service account without employee id", func(i *Identity) { i.EmployeeID = ""; i.Kind = KindService }, ""},
		{"bad type", func(i *Identity) { i.EmploymentType = "freelancer" }, "employment_type"},
		{"bad status", func(i *Identity) { i.Status = "gone" }, "status"},
		{"bad start", func(i *Identity) { i.StartDate = "01/02/2024" }, "start_date"},
		{"end before start", func(i *Identity) { i.EndDate = "2023-12-31" }, "end_date"},
		{"bad role", func(i *Identity) { i.Roles = []AccessRole{"root"} }, "roles"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := ok()
			tt.change(&i)
			err := i.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if ErrorCode(err) != EINVALID || len(ErrorMessage(err)) < len(tt.field) || ErrorMessage(err)[:len(tt.field)] != tt.field {
				t.Fatalf("Validate() = %v, want EINVALID naming %s", err, tt.field)
			}
		})
	}
}
