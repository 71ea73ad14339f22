package scimserver

import (
	"container/list"
	"sync"
	"time"
)

// cursorCache remembers, per process, the store cursor that continues the user listing at a
// startIndex (an LRU of a few hundred entries, each valid for a minute: a stale cursor only
// shifts a page by the users created meanwhile, as an offset would). It also keeps the user
// count for a second, so that a client paging quickly is not given a count per page.
type cursorCache struct {
	mu      sync.Mutex
	max     int
	order   *list.List
	entries map[int]*list.Element
	total   int
	totalAt time.Time
}

type cursorEntry struct {
	index  int
	cursor string
	at     time.Time
}

const (
	cursorTTL = time.Minute
	countTTL  = time.Second
)

func newCursorCache(n int) *cursorCache {
	return &cursorCache{max: n, order: list.New(), entries: map[int]*list.Element{}}
}

func (c *cursorCache) get(index int) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[index]
	if !ok {
		return "", false
	}
	e := el.Value.(*cursorEntry)
	if time.Since(e.at) > cursorTTL {
		c.order.Remove(el)
		delete(c.entries, index)
		return "", false
	}
	c.order.MoveToFront(el)
	return e.cursor, true
}

func (c *cursorCache) put(index int, cursor string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[index]; ok {
		el.Value = &cursorEntry{index, cursor, time.Now()}
		c.order.MoveToFront(el)
		return
	}
	c.entries[index] = c.order.PushFront(&cursorEntry{index, cursor, time.Now()})
	if c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.entries, last.Value.(*cursorEntry).index)
	}
}

// count returns the cached user count, or counts again when it is older than countTTL.
func (c *cursorCache) count(fn func() (int, error)) (int, error) {
	c.mu.Lock()
	if time.Since(c.totalAt) < countTTL {
		n := c.total
		c.mu.Unlock()
		return n, nil
	}
	c.mu.Unlock()
	n, err := fn()
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	c.total, c.totalAt = n, time.Now()
	c.mu.Unlock()
	return n, nil
}

// invalidate forgets the count (a user was created or deleted here).
func (c *cursorCache) invalidate() {
	c.mu.Lock()
	c.totalAt = time.Time{}
	c.mu.Unlock()
}
