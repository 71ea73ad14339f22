package scim

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/connector"
)

// TestCAFileBounded: ca_file is a path the catalog chooses and the server reads. Aimed at a
// FIFO it hung the connector (and `systems test`) forever; aimed at /dev/zero it read until
// the server ran out of memory. Both, and an oversized file, are a configuration failure now.
func TestCAFileBounded(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFO here:", err)
	}
	big := filepath.Join(dir, "big.pem")
	if err := os.WriteFile(big, make([]byte, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, ca := range map[string]string{"fifo": fifo, "dev-zero": "/dev/zero", "oversized": big, "directory": dir} {
		t.Run(name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := Open(t.Context(), map[string]any{"url": "https://scim.invalid/scim/v2", "token_file": tokenFile(t), "ca_file": ca}, nil)
				done <- err
			}()
			select {
			case err := <-done:
				if got := connector.FailureOf(err); got != connector.FailConfig {
					t.Fatalf("Open = %v (kind %q), want a configuration failure", err, got)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Open still reading ca_file after 5s")
			}
		})
	}
}
