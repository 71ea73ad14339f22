package urlquery_test

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/urlquery"
)

type sample struct {
	gatehouse.IdentityFilter
	Since    time.Time                `query:"since"`
	Within   gatehouse.Duration       `query:"within"`
	Wait     time.Duration            `query:"wait"`
	States   []gatehouse.RequestState `query:"state,list"`
	Asc      bool                     `query:"order=asc"`
	Maybe    *bool                    `query:"maybe"`
	Internal string                   // no tag: not on the wire
}

// TestRoundTrip: what the client encodes, the API decodes to the same filter, and zero values
// are not sent.
func TestRoundTrip(t *testing.T) {
	no := false
	in := sample{
		IdentityFilter: gatehouse.IdentityFilter{Query: "sam", Status: gatehouse.StatusLeave, Limit: 10, Cursor: "c1"},
		Since:          time.Date(2026, 1, 31, 9, 0, 0, 5, time.UTC),
		Within:         gatehouse.Duration(7 * 24 * time.Hour),
		Wait:           90 * time.Minute,
		States:         []gatehouse.RequestState{"pending", "approved"},
		Asc:            true,
		Maybe:          &no,
		Internal:       "kept here",
	}
	q := urlquery.Encode(in)
	want := url.Values{"q": {"sam"}, "status": {"leave"}, "limit": {"10"}, "cursor": {"c1"},
		"since": {"2026-01-31T09:00:00.000000005Z"}, "within": {"168h0m0s"}, "wait": {"1h30m0s"},
		"state": {"pending,approved"}, "order": {"asc"}, "maybe": {"false"}}
	if !reflect.DeepEqual(q, want) {
		t.Fatalf("Encode:\n got %v\nwant %v", q, want)
	}
	var out sample
	if err := urlquery.Decode(q, &out); err != nil {
		t.Fatal(err)
	}
	in.Internal = ""
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("Decode:\n got %+v\nwant %+v", out, in)
	}
	if got := urlquery.Encode(gatehouse.IdentityFilter{}); len(got) != 0 {
		t.Errorf("an empty filter sends %v", got)
	}
}

// TestDecodeErrors: an ill-formed value is EINVALID and names the parameter.
func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ query, name string }{
		{"limit=ten", "limit"},
		{"maybe=yes", "maybe"},
		{"since=yesterday", "since"},
		{"within=soon", "within"},
		{"wait=0s", "wait"},
	} {
		q, _ := url.ParseQuery(tc.query)
		var s sample
		err := urlquery.Decode(q, &s)
		var ge *gatehouse.Error
		if !errors.As(err, &ge) || ge.Code != gatehouse.EINVALID || !strings.HasPrefix(ge.Message, tc.name+": ") {
			t.Errorf("%s: %v, want EINVALID naming %s", tc.query, err, tc.name)
		}
	}
}

func TestNames(t *testing.T) {
	got := urlquery.Names(gatehouse.GrantQuery{})
	want := []string{"identity", "entitlement", "system", "source", "status", "limit", "cursor", "expiring"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Names(GrantQuery) = %v, want %v", got, want)
	}
}
