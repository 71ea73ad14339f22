package ratelimit

import (
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestBlocksAfterBurstAndRefills(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	l := New(Options{Burst: 3, Window: 30 * time.Second, Now: c.now})
	a := netip.MustParseAddr("203.0.113.7")
	for i := range 2 {
		if _, now := l.Fail(a); now {
			t.Fatalf("blocked after %d failures", i+1)
		}
		if _, b := l.Blocked(a); b {
			t.Fatalf("blocked after %d failures", i+1)
		}
	}
	wait, now := l.Fail(a)
	if !now || wait <= 0 {
		t.Fatalf("third failure: blocked=%v wait=%s, want blocked", now, wait)
	}
	wait, b := l.Blocked(a)
	if !b || wait < 10*time.Second || wait > 12*time.Second {
		t.Fatalf("Blocked = %s, %v; want about 10s (one failure every 30s/3)", wait, b)
	}
	if _, b := l.Blocked(netip.MustParseAddr("203.0.113.8")); b {
		t.Fatal("another address is blocked too")
	}
	c.t = c.t.Add(10 * time.Second)
	if _, b := l.Blocked(a); b {
		t.Fatal("still blocked after the refill of one failure")
	}
	// One failure allowed again, then blocked again.
	if _, now := l.Fail(a); !now {
		t.Fatal("not blocked again after using the refilled failure")
	}
}

func TestCapacityBoundsMemory(t *testing.T) {
	l := New(Options{Burst: 5, Capacity: 160})
	for i := range 10_000 {
		l.Fail(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	if n := l.Len(); n > 160 {
		t.Fatalf("tracking %d addresses, capacity 160", n)
	}
}

func TestRefilledEntriesAreForgotten(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	l := New(Options{Burst: 2, Window: time.Minute, Now: c.now})
	for i := range 100 {
		l.Fail(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}))
	}
	c.t = c.t.Add(2 * time.Minute)
	for i := range 100 {
		l.Fail(netip.AddrFrom4([4]byte{10, 0, 1, byte(i)}))
	}
	if n := l.Len(); n != 100 {
		t.Fatalf("tracking %d addresses, want only the 100 recent ones", n)
	}
}

func TestKey(t *testing.T) {
	trusted, err := ParsePrefixes([]string{"10.0.0.0/8", "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	l := New(Options{TrustedProxies: trusted})
	plain := New(Options{})
	for _, tc := range []struct {
		name, remote, xff string
		l                 *Limiter
		want              string
	}{
		{"peer", "203.0.113.7:5555", "", l, "203.0.113.7"},
		{"untrusted peer's header ignored", "203.0.113.7:5555", "198.51.100.1", l, "203.0.113.7"},
		{"no trusted proxies: header ignored", "10.1.1.1:5555", "198.51.100.1", plain, "10.1.1.1"},
		{"trusted proxy", "10.1.1.1:5555", "198.51.100.1", l, "198.51.100.1"},
		{"client-forged left part ignored", "10.1.1.1:5555", "1.2.3.4, 198.51.100.1, 10.2.2.2", l, "198.51.100.1"},
		{"single trusted address", "192.0.2.1:1", "198.51.100.9", l, "198.51.100.9"},
		{"garbage hop stops", "10.1.1.1:5555", "198.51.100.1, junk", l, "10.1.1.1"},
		{"ipv6 as /64", "[2001:db8:1:2:aaaa::1]:443", "", l, "2001:db8:1:2::/64"},
		{"ipv4-mapped", "[::ffff:203.0.113.9]:443", "", l, "203.0.113.9"},
		{"no port", "203.0.113.7", "", l, "203.0.113.7"},
		{"garbage", "pipe", "", l, "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := tc.l.Addr(r); got != tc.want {
				t.Fatalf("Addr = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNilLimiterAllows(t *testing.T) {
	var l *Limiter
	a := netip.MustParseAddr("203.0.113.7")
	for range 100 {
		l.Fail(a)
	}
	if _, b := l.Blocked(a); b {
		t.Fatal("a nil limiter blocked")
	}
}

func BenchmarkBlockedUnknownAddress(b *testing.B) {
	l := New(Options{})
	for i := range 1000 {
		l.Fail(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
	}
	a := netip.MustParseAddr("203.0.113.7")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Blocked(a)
		}
	})
}
