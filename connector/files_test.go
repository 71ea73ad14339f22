package connector

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestSecretFileBounded: a *_file secret inside the secrets directory that is a FIFO, or far
// larger than any secret, is refused rather than read forever.
func TestSecretFileBounded(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Skip("no FIFO here:", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "big"), make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	o := OSSecrets{Policy: &SecretPolicy{Dir: dir}}
	for _, name := range []string{"fifo", "big"} {
		done := make(chan error, 1)
		go func() {
			_, err := o.ResolveSecret(context.Background(), SecretRef{Setting: "token", File: name})
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !IsPermanent(err) {
				t.Fatalf("%s: %v, want a permanent error", name, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: still reading after 5s", name)
		}
	}
}
