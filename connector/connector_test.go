package connector_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/connector"
)

func TestPermanent(t *testing.T) {
	base := errors.New("invalid syntax")
	if connector.Permanent(nil) != nil {
		t.Fatal("Permanent(nil) != nil")
	}
	p := connector.Permanent(base)
	wrapped := fmt.Errorf("add member: %w", p)
	if !connector.IsPermanent(wrapped) || connector.IsRetryable(wrapped) || !errors.Is(wrapped, base) {
		t.Fatalf("wrapped permanent error lost its class or cause: %v", wrapped)
	}
	if connector.Permanent(wrapped) != wrapped {
		t.Fatal("Permanent wrapped an already permanent error again")
	}
	if connector.IsPermanent(base) || !connector.IsRetryable(base) || connector.IsRetryable(nil) {
		t.Fatal("a plain error must be retryable, nil neither")
	}
	nf := connector.Permanent(fmt.Errorf("account x: %w", connector.ErrNotFound))
	if !errors.Is(nf, connector.ErrNotFound) {
		t.Fatal("ErrNotFound not found through Permanent")
	}
}

func TestSecret(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CONNECTOR_TEST_SECRET", "from-env")
	tests := []struct {
		name     string
		settings map[string]any
		required bool
		want     string
		wantErr  string
	}{
		{"env", map[string]any{"bind_password_env": "CONNECTOR_TEST_SECRET"}, true, "from-env", ""},
		{"file, newline dropped", map[string]any{"bind_password_file": file}, true, "from-file", ""},
		{"unset env", map[string]any{"bind_password_env": "CONNECTOR_TEST_UNSET"}, true, "", "not set"},
		{"missing file", map[string]any{"bind_password_file": filepath.Join(dir, "nope")}, true, "", "no such file"},
		{"both", map[string]any{"bind_password_env": "A", "bind_password_file": file}, true, "", "not both"},
		{"none, required", map[string]any{}, true, "", "required"},
		{"none, optional", map[string]any{}, false, "", ""},
		{"not a string", map[string]any{"bind_password_env": 3}, true, "", "must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := connector.Secret(ctx, connector.OSSecrets{}, tt.settings, "bind_password", tt.required)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !connector.IsPermanent(err) {
					t.Fatalf("err = %v, want a permanent error containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "from-") {
					t.Fatalf("error shows a secret: %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Secret = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSettings(t *testing.T) {
	s := connector.Settings{"n": 3, "f": float64(4), "bad": 1.5, "b": true, "bs": "false", "d": "2s", "x": []any{1}}
	if n, err := s.Int("n", 0); n != 3 || err != nil {
		t.Fatalf("Int(n) = %d, %v", n, err)
	}
	if n, err := s.Int("f", 0); n != 4 || err != nil {
		t.Fatalf("Int(f) = %d, %v", n, err)
	}
	if n, err := s.Int("absent", 7); n != 7 || err != nil {
		t.Fatalf("Int(absent) = %d, %v", n, err)
	}
	if _, err := s.Int("bad", 0); !connector.IsPermanent(err) {
		t.Fatalf("Int(1.5) err = %v", err)
	}
	if b, err := s.Bool("b"); !b || err != nil {
		t.Fatalf("Bool(b) = %v, %v", b, err)
	}
	if b, err := s.Bool("bs"); b || err != nil {
		t.Fatalf("Bool(bs) = %v, %v", b, err)
	}
	if d, err := s.Duration("d", time.Second); d != 2*time.Second || err != nil {
		t.Fatalf("Duration(d) = %v, %v", d, err)
	}
	if _, err := s.String("x"); err == nil || strings.Contains(err.Error(), "[1]") {
		t.Fatalf("String(x) err = %v, want an error that does not quote the value", err)
	}
}

type fake struct{ connector.Connector }

func TestRegistry(t *testing.T) {
	var got map[string]any
	r := connector.Registry{
		"fake": func(_ context.Context, settings map[string]any, _ connector.SecretResolver) (connector.Connector, error) {
			got = settings
			return fake{}, nil
		},
		"broken": func(context.Context, map[string]any, connector.SecretResolver) (connector.Connector, error) {
			return nil, connector.Permanentf("bad settings")
		},
	}
	if _, err := r.Open(t.Context(), gatehouse.Connector{Type: "fake", Settings: map[string]any{"a": "b"}}, nil); err != nil || got["a"] != "b" {
		t.Fatalf("Open(fake) = %v, settings %v", err, got)
	}
	_, err := r.Open(t.Context(), gatehouse.Connector{Type: "nope"}, nil)
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "broken, fake") {
		t.Fatalf("Open(unknown) = %v, want a permanent error listing the known types", err)
	}
	if _, err := r.Open(t.Context(), gatehouse.Connector{Type: "broken"}, nil); !connector.IsPermanent(err) || !strings.Contains(err.Error(), "open broken connector") {
		t.Fatalf("Open(broken) = %v", err)
	}
}
