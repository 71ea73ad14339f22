package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

func testSessions(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	alice, bob := person(1), person(2)
	createIdentities(t, s, alice, bob)
	tokA := &gatehouse.Token{IdentityID: alice.ID, Hash: gatehouse.HashToken(gatehouse.NewTokenSecret()), CreatedBy: "storetest"}
	tokA2 := &gatehouse.Token{IdentityID: alice.ID, Hash: gatehouse.HashToken(gatehouse.NewTokenSecret()), CreatedBy: "storetest"}
	tokB := &gatehouse.Token{IdentityID: bob.ID, Hash: gatehouse.HashToken(gatehouse.NewTokenSecret()), CreatedBy: "storetest"}
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		return joinErr(tx.CreateToken(ctx, tokA), tx.CreateToken(ctx, tokA2), tx.CreateToken(ctx, tokB))
	})

	start := time.Date(2031, 3, 4, 9, 0, 0, 123_456_000, time.UTC)
	newSession := func(identity, token string) (*gatehouse.Session, string) {
		secret := gatehouse.NewSessionSecret()
		return &gatehouse.Session{IdentityID: identity, TokenID: token, Hash: gatehouse.HashToken(secret),
			Address: "203.0.113.7", CreatedAt: start, ExpiresAt: start.Add(12 * time.Hour)}, secret
	}
	s1, secret1 := newSession(alice.ID, tokA.ID)
	s2, _ := newSession(alice.ID, tokA2.ID)
	s3, _ := newSession(bob.ID, tokB.ID)
	boot, _ := newSession("", "")
	boot.BootstrapKey = "k1"
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		return joinErr(tx.CreateSession(ctx, s1), tx.CreateSession(ctx, s2), tx.CreateSession(ctx, s3), tx.CreateSession(ctx, boot))
	})
	wantUUIDv7(t, "session", s1.ID)
	wantStored(t, "CreatedAt", s1.CreatedAt)
	if !s1.LastSeenAt.Equal(s1.CreatedAt) {
		t.Fatalf("LastSeenAt = %v, want CreatedAt %v", s1.LastSeenAt, s1.CreatedAt)
	}
	equal(t, "GetSession", mustGet[*gatehouse.Session](t)(s.GetSession(ctx, s1.ID)), s1)
	equal(t, "GetSessionByHash", mustGet[*gatehouse.Session](t)(s.GetSessionByHash(ctx, gatehouse.HashToken(secret1))), s1)
	gotBoot := mustGet[*gatehouse.Session](t)(s.GetSession(ctx, boot.ID))
	equal(t, "bootstrap session", gotBoot, boot)
	if !gotBoot.Bootstrap() {
		t.Fatal("a session with a bootstrap key is not a bootstrap session")
	}
	_, err := s.GetSessionByHash(ctx, gatehouse.HashToken("ghs_wrong"))
	wantError(t, err, gatehouse.ENOTFOUND, "session not found")
	_, err = s.GetSession(ctx, "nope")
	wantError(t, err, gatehouse.ENOTFOUND, `session "nope" not found`)

	// Writes need an audit event, like every other write.
	s4, _ := newSession(bob.ID, tokB.ID)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.CreateSession(ctx, s4) })
	if err == nil || err.Error() != unauditedMessage {
		t.Fatalf("unaudited CreateSession: %v, want %q", err, unauditedMessage)
	}
	dup, _ := newSession(bob.ID, tokB.ID)
	dup.Hash = s1.Hash
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateSession(ctx, dup) })
	wantError(t, err, gatehouse.ECONFLICT, "a session with the same secret already exists")
	nobody, _ := newSession("", "")
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateSession(ctx, nobody) })
	wantCode(t, err, gatehouse.EINVALID)

	// TouchSession runs outside any transaction.
	seen := start.Add(10 * time.Minute)
	must(t, s.TouchSession(ctx, s1.ID, seen))
	s1.LastSeenAt = seen.Truncate(time.Microsecond)
	equal(t, "touched session", mustGet[*gatehouse.Session](t)(s.GetSession(ctx, s1.ID)), s1)
	wantCode(t, s.TouchSession(ctx, "nope", seen), gatehouse.ENOTFOUND)

	// Sign-out ends one session; ending it again is a conflict, and an ended one is not touched.
	out := start.Add(time.Hour)
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.EndSession(ctx, s1.ID, out, "sign-out") })
	s1.EndedAt, s1.EndReason = &out, "sign-out"
	equal(t, "ended session", mustGet[*gatehouse.Session](t)(s.GetSession(ctx, s1.ID)), s1)
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.EndSession(ctx, s1.ID, out, "sign-out") })
	wantError(t, err, gatehouse.ECONFLICT, fmt.Sprintf("session %q has already ended", s1.ID))
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.EndSession(ctx, "nope", out, "") })
	wantCode(t, err, gatehouse.ENOTFOUND)
	wantCode(t, s.TouchSession(ctx, s1.ID, out.Add(time.Minute)), gatehouse.ENOTFOUND)

	// Revoking a token ends the sessions it opened, and only those.
	var ended []*gatehouse.Session
	audited(t, s, func(ctx context.Context, tx store.Tx) (err error) {
		ended, err = tx.EndSessionsOfToken(ctx, tokA2.ID, out, "token revoked")
		return err
	})
	s2.EndedAt, s2.EndReason = &out, "token revoked"
	equal(t, "sessions of the token", ended, []*gatehouse.Session{s2})

	// A termination ends the live sessions of the leavers: already ended ones stay as they were.
	later := start.Add(2 * time.Hour)
	s5, _ := newSession(bob.ID, tokB.ID)
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateSession(ctx, s5) })
	audited(t, s, func(ctx context.Context, tx store.Tx) (err error) {
		ended, err = tx.EndSessionsOf(ctx, []string{alice.ID, bob.ID}, later, "terminated")
		return err
	})
	s3.EndedAt, s3.EndReason = &later, "terminated"
	s5.EndedAt, s5.EndReason = &later, "terminated"
	equal(t, "sessions of the leavers", ended, []*gatehouse.Session{s3, s5})
	equal(t, "ended by sign-out stays so", mustGet[*gatehouse.Session](t)(s.GetSession(ctx, s1.ID)), s1)
	equal(t, "bootstrap session untouched", mustGet[*gatehouse.Session](t)(s.GetSession(ctx, boot.ID)), boot)
	audited(t, s, func(ctx context.Context, tx store.Tx) (err error) {
		ended, err = tx.EndSessionsOf(ctx, []string{alice.ID, bob.ID}, later, "terminated")
		return err
	})
	equal(t, "nothing left to end", ended, []*gatehouse.Session{})
}
