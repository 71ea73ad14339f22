package service

import (
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// TestEffectsExpiryTimes: the expiry jobs a transaction schedules are the distinct expiries of
// the grants it wrote, earliest first, at most maxExpiryJobs (a bulk change leaves the rest to
// the sweep); a grant without an expiry, or already revoked, schedules none.
func TestEffectsExpiryTimes(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := t0.Add(d); return &v }
	grant := func(exp, revoked *time.Time) *gatehouse.Grant {
		return &gatehouse.Grant{ID: "g", IdentityID: "p", EntitlementID: "app/x", ExpiresAt: exp, RevokedAt: revoked}
	}
	for _, tc := range []struct {
		name   string
		grants []*gatehouse.Grant
		want   []time.Time
	}{
		{"no grants", nil, nil},
		{"grant without expiry", []*gatehouse.Grant{grant(nil, nil)}, nil},
		{"grant with expiry", []*gatehouse.Grant{grant(at(time.Hour), nil)}, []time.Time{t0.Add(time.Hour)}},
		{"revoked grant", []*gatehouse.Grant{grant(at(time.Hour), at(0))}, nil},
		{"same time once, earliest first", []*gatehouse.Grant{grant(at(2*time.Hour), nil), grant(at(time.Hour+100*time.Millisecond), nil),
			grant(at(2*time.Hour), nil), grant(at(time.Hour+200*time.Millisecond), nil)},
			[]time.Time{t0.Add(time.Hour + 100*time.Millisecond), t0.Add(time.Hour + 200*time.Millisecond), t0.Add(2 * time.Hour)}},
	} {
		var fx effects
		for _, g := range tc.grants {
			fx.granted(g)
		}
		if got := fx.expiryTimes(); !slices.EqualFunc(got, tc.want, time.Time.Equal) {
			t.Errorf("%s: expiry times = %v, want %v", tc.name, got, tc.want)
		}
	}
	var bulk effects
	for i := range 3 * maxExpiryJobs {
		bulk.granted(grant(at(time.Duration(3*maxExpiryJobs-i)*time.Second), nil))
	}
	got := bulk.expiryTimes()
	if len(got) != maxExpiryJobs || !got[0].Equal(t0.Add(time.Second)) {
		t.Errorf("bulk: %d expiry jobs from %v, want the earliest %d", len(got), got[0], maxExpiryJobs)
	}
}
