package ratelimit

import (
	"container/list"
	"hash/maphash"
	"net/netip"
	"sync"
)

// A block must not lock honest clients out with the guesser they share an address with (a NAT,
// a CI runner, loopback). So a credential that has already authenticated from an address stays
// usable from it while the address is blocked: letting it through tells a guesser nothing,
// because a guess would have to equal a live credential to be let through, and new guesses are
// still refused unseen. Credentials are kept as keyed 64-bit hashes, in memory only.

// knownCapacity bounds the remembered (address, credential) pairs.
const knownCapacity = 1 << 16

type knownKey struct {
	addr netip.Addr
	cred uint64
}

type knownSet struct {
	mu  sync.RWMutex
	m   map[knownKey]*list.Element
	lru list.List // of knownKey, most recent at the front
}

func (l *Limiter) knownKey(addr netip.Addr, credential string) knownKey {
	return knownKey{addr: addr, cred: maphash.String(l.seed, credential)}
}

// Known reports whether credential has authenticated from addr before.
func (l *Limiter) Known(addr netip.Addr, credential string) bool {
	if l == nil || credential == "" || !addr.IsValid() {
		return false
	}
	k := l.knownKey(addr, credential)
	l.known.mu.RLock()
	_, ok := l.known.m[k]
	l.known.mu.RUnlock()
	return ok
}

// Succeeded records that credential authenticated from addr. It costs a read lock when the pair
// is already known, which is every request after a client's first.
func (l *Limiter) Succeeded(addr netip.Addr, credential string) {
	if l == nil || credential == "" || !addr.IsValid() {
		return
	}
	k := l.knownKey(addr, credential)
	l.known.mu.RLock()
	_, ok := l.known.m[k]
	l.known.mu.RUnlock()
	if ok {
		return
	}
	l.known.mu.Lock()
	defer l.known.mu.Unlock()
	if l.known.m == nil {
		l.known.m = map[knownKey]*list.Element{}
	}
	if _, ok := l.known.m[k]; ok {
		return
	}
	for l.known.lru.Len() >= knownCapacity {
		old := l.known.lru.Back()
		delete(l.known.m, old.Value.(knownKey))
		l.known.lru.Remove(old)
	}
	l.known.m[k] = l.known.lru.PushFront(k)
}
