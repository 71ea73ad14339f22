package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/store"
)

func testTokens(t *testing.T, open func(t *testing.T) Harness) {
	s := open(t).Store
	ctx := t.Context()
	alice, bob := person(1), person(2)
	createIdentities(t, s, alice, bob)

	newToken := func(identity, desc string) (*gatehouse.Token, string) {
		secret := gatehouse.NewTokenSecret()
		return &gatehouse.Token{IdentityID: identity, Description: desc, Hash: gatehouse.HashToken(secret),
			Hint: gatehouse.TokenHint(secret), CreatedBy: "admin@example.com"}, secret
	}
	expires := time.Date(2032, 1, 2, 3, 4, 5, 678_901_234, time.UTC)
	t1, secret1 := newToken(alice.ID, "laptop")
	t1.Scopes = []string{"read", "grants:write"}
	t1.ExpiresAt = &expires
	t2, _ := newToken(alice.ID, "ci")
	t3, _ := newToken(bob.ID, "")
	audited(t, s, func(ctx context.Context, tx store.Tx) error {
		return joinErr(tx.CreateToken(ctx, t1), tx.CreateToken(ctx, t2), tx.CreateToken(ctx, t3))
	})
	wantUUIDv7(t, "token", t1.ID)
	wantStored(t, "CreatedAt", t1.CreatedAt)
	if !t1.ExpiresAt.Equal(expires.Truncate(time.Microsecond)) {
		t.Fatalf("ExpiresAt = %v", t1.ExpiresAt)
	}

	equal(t, "GetToken", mustGet[*gatehouse.Token](t)(s.GetToken(ctx, t1.ID)), t1)
	equal(t, "GetTokenByHash", mustGet[*gatehouse.Token](t)(s.GetTokenByHash(ctx, gatehouse.HashToken(secret1))), t1)
	_, err := s.GetTokenByHash(ctx, gatehouse.HashToken("gh_wrong"))
	wantError(t, err, gatehouse.ENOTFOUND, "token not found")
	_, err = s.GetToken(ctx, "nope")
	wantError(t, err, gatehouse.ENOTFOUND, `token "nope" not found`)

	// The same secret twice is a conflict; a token for nobody is refused.
	dup, _ := newToken(bob.ID, "dup")
	dup.Hash = t1.Hash
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateToken(ctx, dup) })
	wantError(t, err, gatehouse.ECONFLICT, "a token with the same secret already exists")
	orphan, _ := newToken("no-such-identity", "")
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateToken(ctx, orphan) })
	wantError(t, err, gatehouse.ENOTFOUND, `identity "no-such-identity" not found`)

	// TouchToken runs outside any transaction and needs no audit event.
	used := time.Date(2030, 1, 1, 8, 0, 0, 123_456_789, time.FixedZone("PST", -8*3600))
	must(t, s.TouchToken(ctx, t2.ID, used))
	wantCode(t, s.TouchToken(ctx, "nope", used), gatehouse.ENOTFOUND)
	usedUTC := used.UTC().Truncate(time.Microsecond)
	t2.LastUsedAt = &usedUTC
	equal(t, "touched token", mustGet[*gatehouse.Token](t)(s.GetToken(ctx, t2.ID)), t2)

	revokedAt := time.Date(2030, 2, 1, 0, 0, 0, 0, time.UTC)
	audited(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RevokeToken(ctx, t2.ID, revokedAt) })
	t2.RevokedAt = &revokedAt
	equal(t, "revoked token", mustGet[*gatehouse.Token](t)(s.GetToken(ctx, t2.ID)), t2)
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.RevokeToken(ctx, t2.ID, revokedAt.Add(time.Hour))
	})
	wantError(t, err, gatehouse.ECONFLICT, fmt.Sprintf("token %q is already revoked", t2.ID))
	err = auditedErr(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RevokeToken(ctx, "nope", revokedAt) })
	wantError(t, err, gatehouse.ENOTFOUND, `token "nope" not found`)

	tests := []struct {
		name   string
		filter gatehouse.TokenFilter
		want   []*gatehouse.Token
	}{
		{"all unrevoked", gatehouse.TokenFilter{}, []*gatehouse.Token{t1, t3}},
		{"all", gatehouse.TokenFilter{IncludeRevoked: true}, []*gatehouse.Token{t1, t2, t3}},
		{"identity unrevoked", gatehouse.TokenFilter{IdentityID: alice.ID}, []*gatehouse.Token{t1}},
		{"identity with revoked", gatehouse.TokenFilter{IdentityID: alice.ID, IncludeRevoked: true}, []*gatehouse.Token{t1, t2}},
		{"identity without tokens", gatehouse.TokenFilter{IdentityID: "nobody"}, []*gatehouse.Token{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			equal(t, "tokens", mustGet[[]*gatehouse.Token](t)(s.ListTokens(ctx, tc.filter)), tc.want)
		})
	}
}
