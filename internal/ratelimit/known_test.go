package ratelimit

import (
	"errors"
	"net/http/httptest"
	"testing"
	"time"
)

// TestBlockedAddressKeepsKnownCredentials: a guesser behind the same address as an honest client
// (NAT, CI runner, loopback) blocks new guesses, not the client's working token; a token that
// never authenticated from the address is refused unseen while it is blocked.
func TestBlockedAddressKeepsKnownCredentials(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	l := New(Options{Burst: 3, Window: 30 * time.Second, Now: c.now})
	r := httptest.NewRequest("GET", "/api/v1/me", nil)
	r.RemoteAddr = "203.0.113.7:4242"

	key, err := l.Check(r, "gh_honest")
	if err != nil {
		t.Fatal(err)
	}
	l.Succeeded(key, "gh_honest")
	for range 3 {
		if _, err := l.Check(r, "gh_guess"); err != nil {
			break
		}
		l.Fail(key)
	}
	var blocked *BlockedError
	if _, err := l.Check(r, "gh_guess-4"); !errors.As(err, &blocked) {
		t.Fatalf("a new guess from a blocked address: %v, want BlockedError", err)
	}
	if _, err := l.Check(r, "gh_never-used-here"); !errors.As(err, &blocked) {
		t.Fatalf("an unknown (maybe right) token from a blocked address: %v, want BlockedError", err)
	}
	if _, err := l.Check(r, "gh_honest"); err != nil {
		t.Fatalf("the honest client's known token is refused while its address is blocked: %v", err)
	}
	// Known from another address counts for nothing here.
	other := httptest.NewRequest("GET", "/api/v1/me", nil)
	other.RemoteAddr = "198.51.100.9:1"
	okey, _ := l.Check(other, "gh_elsewhere")
	l.Succeeded(okey, "gh_elsewhere")
	if _, err := l.Check(r, "gh_elsewhere"); !errors.As(err, &blocked) {
		t.Fatalf("a token known from another address passed a blocked one: %v", err)
	}
}
