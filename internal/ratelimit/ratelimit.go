package ratelimit

import (
	"container/list"
	"context"
	"hash/maphash"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Defaults: 20 failures at once, then one more every 3 s (20 a minute); at most 64Ki addresses.
const (
	DefaultBurst    = 20
	DefaultWindow   = time.Minute
	DefaultCapacity = 1 << 16
)

// Options configure a Limiter. The zero value gives the defaults.
type Options struct {
	// Burst failures are allowed from an address before it is blocked; 0 means DefaultBurst.
	Burst int
	// Window is how long an address needs to earn back Burst failures (the refill is steady:
	// one failure every Window/Burst); 0 means DefaultWindow.
	Window time.Duration
	// Capacity bounds the addresses tracked; 0 means DefaultCapacity. When it is full the
	// address whose last failure is oldest is forgotten first.
	Capacity int
	// TrustedProxies are the networks of reverse proxies whose X-Forwarded-For is believed. A
	// request from anywhere else is keyed by its TCP peer, whatever it claims.
	TrustedProxies []netip.Prefix
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Limiter counts failed authentications per client address. It is safe for concurrent use. A
// nil *Limiter allows everything.
type Limiter struct {
	burst    float64
	rate     float64 // allowance regained per second
	trusted  []netip.Prefix
	now      func() time.Time
	seed     maphash.Seed
	shards   [shardCount]shard
	perShard int
	known    knownSet // credentials that authenticated from an address (known.go)
	// sweep is the shard whose refilled entries the next failure also drops, round robin: a
	// shard no new failure lands in would otherwise keep its stale entries for ever.
	sweep atomic.Uint32
}

// shardCount spreads the lock: the check on every authenticated request takes one shard's
// read lock, not a global one.
const shardCount = 16

type shard struct {
	mu      sync.RWMutex
	entries map[netip.Addr]*list.Element
	lru     list.List // of *entry, most recent failure at the front
}

type entry struct {
	addr   netip.Addr
	tokens float64   // allowance left at time at
	at     time.Time // when tokens was last computed
}

// New returns a Limiter.
func New(o Options) *Limiter {
	if o.Burst <= 0 {
		o.Burst = DefaultBurst
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Capacity <= 0 {
		o.Capacity = DefaultCapacity
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	l := &Limiter{
		burst: float64(o.Burst), rate: float64(o.Burst) / o.Window.Seconds(), trusted: o.TrustedProxies,
		now: o.Now, seed: maphash.MakeSeed(), perShard: max(1, (o.Capacity+shardCount-1)/shardCount),
	}
	for i := range l.shards {
		l.shards[i].entries = map[netip.Addr]*list.Element{}
	}
	return l
}

func (l *Limiter) shard(a netip.Addr) *shard {
	b := a.As16()
	return &l.shards[maphash.Bytes(l.seed, b[:])%shardCount]
}

// tokensAt is e's allowance at now.
func (l *Limiter) tokensAt(e *entry, now time.Time) float64 {
	d := now.Sub(e.at).Seconds()
	if d <= 0 {
		return e.tokens
	}
	return math.Min(l.burst, e.tokens+d*l.rate)
}

// Blocked reports whether addr has no failures left, and if so how long until it has one. It is
// the check every authentication runs first, including ones that would succeed: otherwise a
// blocked guesser would still learn which guess is right.
func (l *Limiter) Blocked(addr netip.Addr) (retryAfter time.Duration, blocked bool) {
	if l == nil || !addr.IsValid() {
		return 0, false
	}
	s := l.shard(addr)
	s.mu.RLock()
	el, ok := s.entries[addr]
	var e entry
	if ok {
		e = *el.Value.(*entry)
	}
	s.mu.RUnlock()
	if !ok {
		return 0, false
	}
	t := l.tokensAt(&e, l.now())
	if t >= 1 {
		return 0, false
	}
	return time.Duration((1-t)/l.rate*float64(time.Second)).Round(time.Second) + time.Second, true
}

// Fail records a failed authentication from addr. It reports whether this failure used up the
// address's allowance (the moment to log that it is blocked), and for how long.
func (l *Limiter) Fail(addr netip.Addr) (retryAfter time.Duration, nowBlocked bool) {
	if l == nil || !addr.IsValid() {
		return 0, false
	}
	now := l.now()
	s := l.shard(addr)
	s.mu.Lock()
	defer s.mu.Unlock()
	var e *entry
	if el, ok := s.entries[addr]; ok {
		e = el.Value.(*entry)
		e.tokens, e.at = l.tokensAt(e, now), now
		s.lru.MoveToFront(el)
	} else {
		for s.lru.Len() >= l.perShard {
			old := s.lru.Back()
			delete(s.entries, old.Value.(*entry).addr)
			s.lru.Remove(old)
		}
		e = &entry{addr: addr, tokens: l.burst, at: now}
		s.entries[addr] = s.lru.PushFront(e)
	}
	// Entries that have refilled completely carry no state: drop them from the back so the
	// table holds only addresses that failed recently; here, and in one other shard.
	l.dropRefilled(s, e, now)
	if o := &l.shards[l.sweep.Add(1)%shardCount]; o != s && o.mu.TryLock() {
		l.dropRefilled(o, nil, now) // TryLock: never wait for a second lock while holding one
		o.mu.Unlock()
	}
	before := e.tokens
	e.tokens = math.Max(0, e.tokens-1)
	if e.tokens < 1 && before >= 1 {
		return time.Duration((1-e.tokens)/l.rate*float64(time.Second)).Round(time.Second) + time.Second, true
	}
	return 0, false
}

// dropRefilled drops s's refilled entries from the back of its list, up to keep (s is locked).
func (l *Limiter) dropRefilled(s *shard, keep *entry, now time.Time) {
	for old := s.lru.Back(); old != nil && old.Value.(*entry) != keep; old = s.lru.Back() {
		oe := old.Value.(*entry)
		if l.tokensAt(oe, now) < l.burst {
			break
		}
		delete(s.entries, oe.addr)
		s.lru.Remove(old)
	}
}

// Len is the number of addresses tracked.
func (l *Limiter) Len() int {
	if l == nil {
		return 0
	}
	n := 0
	for i := range l.shards {
		l.shards[i].mu.RLock()
		n += len(l.shards[i].entries)
		l.shards[i].mu.RUnlock()
	}
	return n
}

// Key is the address a request's failures are counted against: the TCP peer, or, when the
// peer is a trusted proxy, the right-most X-Forwarded-For address that is not one (the first
// hop a trusted proxy saw; the ones left of it are whatever the client wrote). An IPv6 address
// counts as its /64, the block one subscriber gets: anyone can change the rest at will.
func (l *Limiter) Key(r *http.Request) netip.Addr {
	peer := peerAddr(r.RemoteAddr)
	if l != nil && len(l.trusted) > 0 && l.isTrusted(peer) {
		hops := r.Header.Values("X-Forwarded-For")
	outer:
		for i := len(hops) - 1; i >= 0; i-- {
			parts := strings.Split(hops[i], ",")
			for j := len(parts) - 1; j >= 0; j-- {
				a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
				if err != nil {
					break outer // a garbled hop: trust nothing left of it
				}
				a = a.Unmap()
				peer = a
				if !l.isTrusted(a) {
					break outer
				}
			}
		}
	}
	return keyOf(peer)
}

func (l *Limiter) isTrusted(a netip.Addr) bool {
	for _, p := range l.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i] // a zone says nothing about who is calling
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func keyOf(a netip.Addr) netip.Addr {
	if a.Is6() {
		p, err := a.Prefix(64)
		if err == nil {
			return p.Addr()
		}
	}
	return a
}

// Addr is the address to log for a request: the same one its failures count against, as text
// ("203.0.113.7", or "2001:db8:1:2::/64" for IPv6), or "unknown".
func (l *Limiter) Addr(r *http.Request) string { return Format(l.Key(r)) }

// Format writes a key as Addr does.
func Format(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "unknown"
	case a.Is6():
		return a.String() + "/64"
	}
	return a.String()
}

// ParsePrefixes parses trusted proxy networks: CIDRs ("10.0.0.0/8") or single addresses.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// BlockedError refuses an authentication from a blocked address. It unwraps to a
// gatehouse.ETOOMANY error, so every adapter's status table answers 429.
type BlockedError struct {
	Addr       string        // as Format writes it
	RetryAfter time.Duration // until the address may try again
}

func (e *BlockedError) Error() string { return e.Unwrap().Error() }

// Unwrap returns the caller-safe error.
func (e *BlockedError) Unwrap() error {
	return gatehouse.Errorf(gatehouse.ETOOMANY, "too many failed authentications from %s; try again in %s", e.Addr, e.RetryAfter)
}

// RetryAfterSeconds is the value of a Retry-After header.
func (e *BlockedError) RetryAfterSeconds() string {
	return strconv.Itoa(max(1, int(e.RetryAfter/time.Second)))
}

// Check is the first step of an authentication of r with credential: the address its failures
// count against, and a *BlockedError if that address may not try now. A blocked address is
// refused before the credential is looked at — otherwise a blocked guesser would still learn
// which guess is right — unless that very credential has authenticated from the address
// before (known.go): honest clients behind the guesser's address keep working.
func (l *Limiter) Check(r *http.Request, credential string) (netip.Addr, error) {
	key := l.Key(r)
	if wait, blocked := l.Blocked(key); blocked && !l.Known(key, credential) {
		return key, &BlockedError{Addr: Format(key), RetryAfter: wait}
	}
	return key, nil
}

// Failed records a failed authentication from key on surface ("api", "scim", "web") and logs
// it with the address and reason, a caller-safe message such as "invalid token". The
// credential itself, or any part of it, is never logged. The moment the address becomes
// blocked is logged once.
func (l *Limiter) Failed(ctx context.Context, log *slog.Logger, surface string, key netip.Addr, reason string) {
	addr := Format(key)
	log.WarnContext(ctx, "authentication failed", "surface", surface, "addr", addr, "reason", reason)
	if wait, now := l.Fail(key); now {
		log.WarnContext(ctx, "authentication blocked: too many failures", "surface", surface, "addr", addr,
			"retry_after", wait.String())
	}
}
