package main

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

// The attacks on the audit log that the hash chain alone cannot see, with the real binary: an
// event rewritten and the chain re-sealed, and the tail deleted with the head moved back. Plain
// `audit verify` calls both intact; `audit verify --pubkey --checkpoints --db` names the first
// bad sequence and exits 1.

// resealDB is the attacker's program: rewrite one event's reason in the database file, re-seal
// every event from there with the (public) hash algorithm, and move the head to the new hash.
func resealDB(t *testing.T, db string, seq int64, reason string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var evs []*gatehouse.AuditEvent
	if err := st.ScanAuditEvents(ctx, func(ev *gatehouse.AuditEvent) error {
		evs = append(evs, ev)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	raw := st.(interface{ DB() *sql.DB }).DB()
	for i, ev := range evs {
		if ev.Seq < seq {
			continue
		}
		if ev.Seq == seq {
			ev.Reason = reason
		}
		audit.SealCanonical(ev, evs[i-1].Seq, evs[i-1].Hash)
		if _, err := raw.Exec(`UPDATE audit_events SET reason = $1, prev_hash = $2, hash = $3 WHERE seq = $4`,
			ev.Reason, ev.PrevHash, ev.Hash, ev.Seq); err != nil {
			t.Fatal(err)
		}
	}
	last := evs[len(evs)-1]
	if _, err := raw.Exec(`UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, last.Seq, last.Hash); err != nil {
		t.Fatal(err)
	}
}

// truncateDB deletes the events after seq and moves the head back to seq.
func truncateDB(t *testing.T, db string, seq int64) {
	t.Helper()
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var hash string
	if err := raw.QueryRow(`SELECT hash FROM audit_events WHERE seq = ?`, seq).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`DELETE FROM audit_events WHERE seq > ?`, seq); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, seq, hash); err != nil {
		t.Fatal(err)
	}
}

// copyFiles copies a SQLite database (with its -wal and -shm files, if any) or a directory's
// files to dst.
func copyFiles(t *testing.T, src, dst string) {
	t.Helper()
	if st, err := os.Stat(src); err == nil && st.IsDir() {
		if err := os.MkdirAll(dst, 0o700); err != nil {
			t.Fatal(err)
		}
		entries, _ := os.ReadDir(src)
		for _, e := range entries {
			copyFiles(t, filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()))
		}
		return
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		data, err := os.ReadFile(src + suffix)
		if os.IsNotExist(err) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst+suffix, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func checkpointFiles(t *testing.T, dir string) []audit.CheckpointFile {
	t.Helper()
	files, err := audit.ReadCheckpoints(dir)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestAuditCheckpointsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	binary(t) // built before the first command's one-minute timeout starts
	dir := t.TempDir()
	keys, cps, db := filepath.Join(dir, "keys"), filepath.Join(dir, "checkpoints"), filepath.Join(dir, "gh.db")
	bootstrap := "e2e-bootstrap-" + strings.Repeat("x", 32)

	// Key generation: a secret key only its owner reads, and a public key for auditors.
	expect(t, gh(t, "", "", "audit", "keygen", "--out", keys), 0, "audit.key", "audit.pub", "key id ed25519:")
	if st, err := os.Stat(filepath.Join(keys, "audit.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("audit.key: %v, mode %v", err, st.Mode())
	}
	expect(t, gh(t, "", "", "audit", "keygen", "--out", keys), 1, "exists")
	pubFile := filepath.Join(keys, "audit.pub")
	pubKey, err := audit.ReadPublicKeyFile(pubFile)
	if err != nil {
		t.Fatal(err)
	}

	// A key that is missing or of the wrong kind stops serve at start.
	expect(t, gh(t, "", "", "serve", "--db", "sqlite:"+filepath.Join(dir, "x.db"), "--audit-key", filepath.Join(keys, "nope.key"),
		"--audit-checkpoint-dir", cps), 1, "--audit-key", "no such file")
	expect(t, gh(t, "", "", "serve", "--db", "sqlite:"+filepath.Join(dir, "x.db"), "--audit-key", pubFile,
		"--audit-checkpoint-dir", cps), 1, `"PUBLIC KEY" block`)
	expect(t, gh(t, "", "", "serve", "--db", "sqlite:"+filepath.Join(dir, "x.db"), "--audit-key", filepath.Join(keys, "audit.key")),
		2, "--audit-checkpoint-dir")

	// A webhook that collects what the server posts.
	var mu sync.Mutex
	var posted [][]byte
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		posted = append(posted, body)
		mu.Unlock()
	}))
	defer hook.Close()

	srv := start(t, []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + bootstrap}, "listening on", "serve", "--db", "sqlite:"+db,
		"--reconcile-interval", "0", "--audit-key", filepath.Join(keys, "audit.key"), "--audit-checkpoint-dir", cps,
		"--audit-checkpoint-webhook", hook.URL)
	person := func(i int) {
		expect(t, gh(t, srv.url, bootstrap, "identities", "create", "--email", fmt.Sprintf("p%d@example.com", i),
			"--employee-id", fmt.Sprintf("E%d", i), "--department", "Sales", "--reason", fmt.Sprintf("hire %d", i)), 0)
	}
	for i := range 3 {
		person(i)
	}
	first := filepath.Join(dir, "first.json")
	expect(t, gh(t, srv.url, bootstrap, "audit", "checkpoint", "-o", first), 0, "checkpoint 1: sequence", "written to "+first)
	for i := 3; i < 8; i++ {
		person(i)
	}
	expect(t, gh(t, srv.url, bootstrap, "audit", "checkpoint"), 0, `"number": 2`)
	person(8)
	// Through the server, the auditor's own machine verifies the events against the files.
	expect(t, gh(t, srv.url, bootstrap, "audit", "verify", "--pubkey", pubFile, "--checkpoints", cps), 0,
		"audit chain intact and matches 2 signed checkpoints (server)")
	srv.stop(t) // signs checkpoint 3 at shutdown

	files := checkpointFiles(t, cps)
	if len(files) != 3 {
		t.Fatalf("%d checkpoint files, want 3 (two asked for, one at shutdown)", len(files))
	}
	cp1, cp2 := files[0].Checkpoint, files[1].Checkpoint
	if data, _ := os.ReadFile(first); !strings.Contains(string(data), cp1.Signature) {
		t.Errorf("-o %s does not hold checkpoint 1", first)
	}
	mu.Lock()
	if len(posted) != 3 {
		t.Errorf("webhook got %d checkpoints, want 3", len(posted))
	}
	for _, body := range posted {
		if c, err := audit.ParseCheckpoint(body); err != nil || c.Verify(ed25519.PublicKey(pubKey)) != nil {
			t.Errorf("webhook body is not a valid checkpoint: %v: %s", err, body)
		}
	}
	mu.Unlock()

	withCps := func(db string, args ...string) result {
		return gh(t, "", "", append([]string{"audit", "verify", "--pubkey", pubFile, "--checkpoints", cps, "--db", "sqlite:" + db}, args...)...)
	}
	expect(t, withCps(db), 0, "audit chain intact and matches 3 signed checkpoints")

	t.Run("re-sealed event", func(t *testing.T) {
		copyDB := filepath.Join(t.TempDir(), "copy.db")
		copyFiles(t, db, copyDB)
		tampered := cp1.Seq + 1 // the first event after checkpoint 1
		resealDB(t, copyDB, tampered, "nothing to see here")
		// The chain alone: intact. That is the attack.
		expect(t, gh(t, "", "", "audit", "verify", "--db", "sqlite:"+copyDB), 0, "audit chain intact")
		expect(t, withCps(copyDB), 1, fmt.Sprintf("audit chain BROKEN at sequence %d (somewhere in %d..%d)", tampered, tampered, cp2.Seq),
			"re-sealed", "checkpoint 2: "+files[1].Path)
	})

	t.Run("truncated tail, head moved back", func(t *testing.T) {
		copyDB := filepath.Join(t.TempDir(), "copy.db")
		copyFiles(t, db, copyDB)
		keep := cp2.Seq - 2
		truncateDB(t, copyDB, keep)
		expect(t, gh(t, "", "", "audit", "verify", "--db", "sqlite:"+copyDB), 0, "audit chain intact")
		expect(t, withCps(copyDB), 1, fmt.Sprintf("audit chain BROKEN at sequence %d", keep+1), "missing")

		// A server on the truncated database refuses to sign over its newest checkpoint.
		cpsCopy := filepath.Join(t.TempDir(), "checkpoints")
		copyFiles(t, cps, cpsCopy)
		srv := start(t, []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + bootstrap}, "listening on", "serve", "--db", "sqlite:"+copyDB,
			"--reconcile-interval", "0", "--audit-key", filepath.Join(keys, "audit.key"), "--audit-checkpoint-dir", cpsCopy)
		expect(t, gh(t, srv.url, bootstrap, "audit", "checkpoint"), 1, "disagrees with the newest checkpoint", "no longer stored")
		srv.stop(t)
		if !strings.Contains(srv.stderr.String(), `level=ERROR msg="the audit log disagrees with the newest checkpoint"`) {
			t.Errorf("the server did not log the mismatch:\n%s", srv.stderr)
		}
	})

	t.Run("forged checkpoint", func(t *testing.T) {
		forged := filepath.Join(t.TempDir(), "checkpoints")
		copyFiles(t, cps, forged)
		path := filepath.Join(forged, filepath.Base(files[1].Path))
		editFile(t, path, fmt.Sprintf(`"seq": %d`, cp2.Seq), fmt.Sprintf(`"seq": %d`, cp2.Seq-1))
		expect(t, gh(t, "", "", "audit", "verify", "--pubkey", pubFile, "--checkpoints", forged, "--offline"), 1,
			"BROKEN", "checkpoint 2: the signature does not verify (forged or altered)")
		expect(t, gh(t, "", "", "audit", "verify", "--pubkey", pubFile, "--checkpoints", forged, "--db", "sqlite:"+db), 1,
			"signature does not verify")
		// The honest files verify offline, and one file alone too.
		expect(t, gh(t, "", "", "audit", "verify", "--pubkey", pubFile, "--checkpoints", cps), 0, "3 signed checkpoints verified", "events not checked")
		expect(t, gh(t, "", "", "audit", "verify", "--pubkey", pubFile, "--checkpoints", first, "--offline"), 0, "1 signed checkpoint verified")
	})
}
