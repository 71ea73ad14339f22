package connector

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// SecretRef says where a secret lives: the catalog gives secrets by reference only
// (bind_password_env: NAME or bind_password_file: PATH), never inline. It holds no secret and
// is safe to log.
type SecretRef struct {
	Setting string // the base setting name, e.g. "bind_password"
	Env     string // an environment variable name, or ""
	File    string // a file path, or ""
}

func (r SecretRef) String() string {
	switch {
	case r.Env != "":
		return r.Setting + "_env=" + r.Env
	case r.File != "":
		return r.Setting + "_file=" + r.File
	}
	return r.Setting
}

// SecretResolver turns a reference into the secret. The server uses OSSecrets; tests and a
// future vault integration supply their own.
type SecretResolver interface {
	ResolveSecret(ctx context.Context, ref SecretRef) (string, error)
}

// SecretFunc adapts a function to SecretResolver.
type SecretFunc func(ctx context.Context, ref SecretRef) (string, error)

// ResolveSecret calls f.
func (f SecretFunc) ResolveSecret(ctx context.Context, ref SecretRef) (string, error) {
	return f(ctx, ref)
}

// OSSecrets reads secrets from the process environment and from files. A file's trailing
// newline is dropped, because `echo secret > file` is how people write them.
//
// Every reference is checked when it is used, not only when the catalog is applied, so that a
// catalog stored before a policy existed (or changed) cannot reach past it: GATEHOUSE_*
// variables are always refused, and with a Policy (the server always sets one) so is anything
// it does not allow. Without a Policy any file may be named: that is for tests and programs
// that embed a connector and own the whole process.
type OSSecrets struct {
	Policy *SecretPolicy
}

// ResolveSecret reads ref from the environment or a file. Errors name the reference, never
// the value.
func (o OSSecrets) ResolveSecret(_ context.Context, ref SecretRef) (string, error) {
	switch {
	case ref.Env != "":
		if err := o.checkEnv(ref.Env); err != nil {
			return "", Permanentf("secret %s: %w", ref, err)
		}
		v, ok := os.LookupEnv(ref.Env)
		if !ok || v == "" {
			return "", Permanentf("secret %s: environment variable is not set", ref)
		}
		return v, nil
	case ref.File != "":
		name := ref.File
		if o.Policy != nil {
			resolved, err := o.Policy.CheckFile(ref.File)
			if err != nil {
				return "", Permanentf("secret %s: %w", ref, err)
			}
			name = resolved // what was checked is what is read
		}
		b, err := readRegular(name, maxSecretFile)
		if err != nil {
			// The path is ours to show; the content never is.
			var pe *os.PathError
			if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) || !errors.As(err, &pe) {
				return "", Permanentf("secret %s: %w", ref, err) // missing, unreadable, not a file, too large
			}
			return "", fmt.Errorf("secret %s: %w", ref, err)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", Permanentf("secret %s: file is empty", ref)
		}
		return v, nil
	}
	return "", Permanentf("secret %s: no reference given (set %s_env or %s_file)", ref.Setting, ref.Setting, ref.Setting)
}

// Secret resolves the secret a connector setting names by reference: name_env or name_file in
// settings. It returns "" and no error when neither is set and the secret is optional
// (required false).
func Secret(ctx context.Context, r SecretResolver, settings map[string]any, name string, required bool) (string, error) {
	s := Settings(settings)
	env, err := s.String(name + "_env")
	if err != nil {
		return "", err
	}
	file, err := s.String(name + "_file")
	if err != nil {
		return "", err
	}
	ref := SecretRef{Setting: name, Env: env, File: file}
	switch {
	case env != "" && file != "":
		return "", Permanentf("connector setting %s: set %s_env or %s_file, not both", name, name, name)
	case env == "" && file == "":
		if !required {
			return "", nil
		}
		return "", Permanentf("connector setting %s: required: %s_env or %s_file", name, name, name)
	}
	if r == nil {
		r = OSSecrets{}
	}
	return r.ResolveSecret(ctx, ref)
}

func (o OSSecrets) checkEnv(name string) error {
	if o.Policy == nil {
		if why := ReservedEnv(name); why != "" {
			return Permanentf("%s: %s", name, why)
		}
		return nil
	}
	return o.Policy.CheckEnv(name)
}
