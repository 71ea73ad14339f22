package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// testLeases: one holder at a time, renewal by the holder, release, expiry, listing by prefix,
// and a race of many takers (on two connections to the same database when the harness can
// reopen it) with exactly one winner.
func testLeases(t *testing.T, open func(t *testing.T) Harness) {
	h := open(t)
	s := h.Store
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Second)
	lease := func(holder string, until time.Time) store.Lease {
		return store.Lease{Name: "hr-import", Holder: holder, Note: "import " + holder, ExpiresAt: until}
	}
	got, ok, err := s.AcquireLease(ctx, lease("A", now.Add(time.Minute)), now)
	if err != nil || !ok || got.Holder != "A" || got.Note != "import A" || !got.AcquiredAt.Equal(now) {
		t.Fatalf("first acquire = %+v, %v, %v", got, ok, err)
	}
	got, ok, err = s.AcquireLease(ctx, lease("B", now.Add(time.Minute)), now.Add(time.Second))
	if err != nil || ok || got.Holder != "A" {
		t.Fatalf("second holder = %+v, %v, %v; want refused, held by A", got, ok, err)
	}
	// The holder renews it; the start stays.
	got, ok, err = s.AcquireLease(ctx, lease("A", now.Add(2*time.Minute)), now.Add(30*time.Second))
	if err != nil || !ok || !got.ExpiresAt.Equal(now.Add(2*time.Minute)) || !got.AcquiredAt.Equal(now) {
		t.Fatalf("renew = %+v, %v, %v", got, ok, err)
	}
	// Another holder's release changes nothing; the holder's frees it.
	if err := s.ReleaseLease(ctx, "hr-import", "B"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.AcquireLease(ctx, lease("B", now.Add(3*time.Minute)), now.Add(time.Minute)); ok {
		t.Fatal("B took a lease A still holds")
	}
	if err := s.ReleaseLease(ctx, "hr-import", "A"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.AcquireLease(ctx, lease("B", now.Add(3*time.Minute)), now.Add(time.Minute)); err != nil || !ok {
		t.Fatalf("B after release: %v, %v", ok, err)
	}
	// A holder that crashed: its lease runs out and the next taker replaces it.
	got, ok, err = s.AcquireLease(ctx, lease("C", now.Add(10*time.Minute)), now.Add(3*time.Minute))
	if err != nil || !ok || got.Holder != "C" || !got.AcquiredAt.Equal(now.Add(3*time.Minute)) {
		t.Fatalf("after expiry = %+v, %v, %v", got, ok, err)
	}
	// Listing by prefix: every lease of the prefix, run out or not, by name, and no other.
	for _, n := range []string{"reconcile:b", "reconcile:a", "reconcilers", "reconcile"} {
		if _, _, err := s.AcquireLease(ctx, store.Lease{Name: n, Holder: "job:1:1", ExpiresAt: now.Add(time.Minute)}, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.AcquireLease(ctx, store.Lease{Name: "reconcile:b", Holder: "job:1:1", ExpiresAt: now}, now); err != nil {
		t.Fatal(err)
	}
	listed, err := s.ListLeases(ctx, "reconcile:")
	if err != nil || len(listed) != 2 || listed[0].Name != "reconcile:a" || listed[1].Name != "reconcile:b" ||
		listed[1].Holder != "job:1:1" || !listed[1].ExpiresAt.Equal(now) || !listed[0].ExpiresAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("leases reconcile:… = %+v, %v", listed, err)
	}
	if listed, err := s.ListLeases(ctx, "nothing:"); err != nil || len(listed) != 0 {
		t.Fatalf("leases nothing:… = %+v, %v", listed, err)
	}

	// Many takers at once, on two stores when the harness has a second: one wins.
	other := s
	if h.Reopen != nil {
		other = h.Reopen(t)
	}
	name := "race"
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := 0
	for i := range 8 {
		st := s
		if i%2 == 1 {
			st = other
		}
		wg.Go(func() {
			_, ok, err := st.AcquireLease(ctx, store.Lease{Name: name, Holder: string(rune('a' + i)), ExpiresAt: now.Add(time.Hour)}, now)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				winners++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if winners != 1 {
		t.Fatalf("%d takers won the lease, want 1", winners)
	}
}
