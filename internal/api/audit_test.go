package api

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// withCheckpoints gives the fixture's server an audit key and a checkpoint directory, as
// serve --audit-key does.
func withCheckpoints(t *testing.T, f *fixture) (ed25519.PublicKey, string) {
	t.Helper()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	signer, err := audit.NewSigner(key, dir)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = service.New(f.st, service.Options{BootstrapToken: bootstrapSecret, Now: f.clock.now,
		Logger: slog.New(slog.DiscardHandler), Provisioner: fakeProvisioner{},
		Checkpoints: &service.Checkpoints{Signer: signer}})
	f.api = newAPI(f.svc, Options{Logger: slog.New(slog.DiscardHandler)})
	return pub, dir
}

// rawDB is the database under the store: what an attacker who owns it writes to.
func rawDB(t *testing.T, st store.Store) *sql.DB {
	t.Helper()
	db, ok := st.(interface{ DB() *sql.DB })
	if !ok {
		t.Fatal("the store does not expose its database")
	}
	return db.DB()
}

// resealFrom rewrites event seq's reason and re-seals the chain from there with the same
// algorithm, then moves the head to the new last hash: the attack the hash chain alone cannot
// see.
func resealFrom(t *testing.T, st store.Store, seq int64, reason string) {
	t.Helper()
	ctx := context.Background()
	var evs []*gatehouse.AuditEvent
	if err := st.ScanAuditEvents(ctx, func(ev *gatehouse.AuditEvent) error {
		evs = append(evs, ev)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, st)
	for i, ev := range evs {
		if ev.Seq < seq {
			continue
		}
		if ev.Seq == seq {
			ev.Reason = reason
		}
		audit.SealCanonical(ev, evs[i-1].Seq, evs[i-1].Hash)
		if _, err := db.ExecContext(ctx, `UPDATE audit_events SET reason = $1, prev_hash = $2, hash = $3 WHERE seq = $4`,
			ev.Reason, ev.PrevHash, ev.Hash, ev.Seq); err != nil {
			t.Fatal(err)
		}
	}
	last := evs[len(evs)-1]
	if _, err := db.ExecContext(ctx, `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, last.Seq, last.Hash); err != nil {
		t.Fatal(err)
	}
}

// truncateTo deletes the events after seq and moves the head back to seq.
func truncateTo(t *testing.T, st store.Store, seq int64) {
	t.Helper()
	ctx := context.Background()
	db := rawDB(t, st)
	var hash string
	if err := db.QueryRowContext(ctx, `SELECT hash FROM audit_events WHERE seq = $1`, seq).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM audit_events WHERE seq > $1`, seq); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, seq, hash); err != nil {
		t.Fatal(err)
	}
}

func checkpointsOf(t *testing.T, dir string) []*audit.Checkpoint {
	t.Helper()
	files, err := audit.ReadCheckpoints(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*audit.Checkpoint, len(files))
	for i, f := range files {
		out[i] = f.Checkpoint
	}
	return out
}

// TestAuditCheckpoints: admins and auditors take signed checkpoints; a re-sealed or truncated
// log, which the plain chain check calls intact, fails against them, and the server refuses to
// sign a head that moved back.
func TestAuditCheckpoints(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newFixture(t, eng.open(t))
			pub, dir := withCheckpoints(t, f)

			var first audit.Checkpoint
			a := must(t, f.as(t, "auditor", "POST", "/api/v1/audit/checkpoints", ""), http.StatusCreated)
			if err := json.Unmarshal(a.body, &first); err != nil {
				t.Fatal(err)
			}
			head, hash, err := f.st.AuditHead(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if first.Number != 1 || first.Seq != head || first.HeadHash != hash || first.Verify(pub) != nil {
				t.Fatalf("checkpoint %+v does not sign the head %d %s", first, head, hash)
			}
			must(t, f.as(t, "operator", "POST", "/api/v1/audit/checkpoints", ""), http.StatusForbidden)
			must(t, f.as(t, "user", "POST", "/api/v1/audit/checkpoints", ""), http.StatusForbidden)

			// More changes, a second checkpoint, more changes.
			f.grant("user", "wiki/members")
			must(t, f.as(t, "admin", "POST", "/api/v1/audit/checkpoints", ""), http.StatusCreated)
			f.person("late", "Sales")
			cps := checkpointsOf(t, dir)
			if len(cps) != 2 || cps[1].Prev != cps[0].Digest() {
				t.Fatalf("checkpoint directory: %d checkpoints, chained %v", len(cps), len(cps) == 2 && cps[1].Prev == cps[0].Digest())
			}
			res, err := service.VerifyStoreCheckpoints(ctx, f.st, pub, cps)
			if err != nil || !res.OK {
				t.Fatalf("honest log against its checkpoints: %+v %v", res.Break, err)
			}

			// The re-seal attack: the plain check says intact, the checkpoints do not.
			target := first.Seq - 2
			resealFrom(t, f.st, target, "routine cleanup")
			plain, err := service.VerifyStore(ctx, f.st)
			if err != nil || !plain.OK {
				t.Fatalf("the re-sealed log should pass the plain chain check (that is the attack): %+v %v", plain.Break, err)
			}
			res, err = service.VerifyStoreCheckpoints(ctx, f.st, pub, cps)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK || res.Break.Seq != 1 || res.Break.Through != first.Seq || res.Break.Checkpoint != 1 {
				t.Fatalf("re-sealed log against checkpoints: %+v, want a break in 1..%d at checkpoint 1", res.Break, first.Seq)
			}
			// The server notices too: the event its newest checkpoint signed has another hash
			// now, so it signs nothing over the rewritten log.
			e := must(t, f.as(t, "admin", "POST", "/api/v1/audit/checkpoints", ""), http.StatusConflict).errorOf(t)
			if !strings.Contains(e.Message, "re-sealed") {
				t.Errorf("checkpoint of a re-sealed log: %q", e.Message)
			}

			// The truncation attack on a fresh copy of the story: delete the tail below the
			// newest checkpoint and move the head back.
			g := newFixture(t, eng.open(t))
			pub2, dir2 := withCheckpoints(t, g)
			g.grant("user", "wiki/members")
			must(t, g.as(t, "admin", "POST", "/api/v1/audit/checkpoints", ""), http.StatusCreated)
			cp := checkpointsOf(t, dir2)[0]
			truncateTo(t, g.st, cp.Seq-3)
			if plain, err := service.VerifyStore(ctx, g.st); err != nil || !plain.OK {
				t.Fatalf("the truncated log should pass the plain chain check (that is the attack): %+v %v", plain.Break, err)
			}
			res, err = service.VerifyStoreCheckpoints(ctx, g.st, pub2, checkpointsOf(t, dir2))
			if err != nil {
				t.Fatal(err)
			}
			if res.OK || res.Break.Seq != cp.Seq-2 || res.Break.Through != cp.Seq || !strings.Contains(res.Break.Reason, "missing") {
				t.Fatalf("truncated log against checkpoints: %+v, want missing %d..%d", res.Break, cp.Seq-2, cp.Seq)
			}
			e = must(t, g.as(t, "admin", "POST", "/api/v1/audit/checkpoints", ""), http.StatusConflict).errorOf(t)
			if !strings.Contains(e.Message, "disagrees with the newest checkpoint") {
				t.Errorf("checkpoint of a head moved back: %q", e.Message)
			}
		})
	}
}

// TestAuditCheckpointWithoutKey: a server without --audit-key says so.
func TestAuditCheckpointWithoutKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t, engines[0].open(t))
	e := must(t, f.as(t, "admin", "POST", "/api/v1/audit/checkpoints", ""), http.StatusConflict).errorOf(t)
	if !strings.Contains(e.Message, "--audit-key") {
		t.Errorf("no key: %q", e.Message)
	}
}
