package connector

import (
	"errors"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// SecretPolicy is what the operator of a server lets the catalog's secret references name
// (gatehouse serve --secrets-dir and --secret-env-allow). The catalog is written by admins,
// but the process environment and file system belong to the operator and hold Gatehouse's
// own secrets (the bootstrap token, the database URL, the SMTP password, the audit key): a
// reference must not aim a connector at one of them and send it to a URL an admin chose.
//
// The zero SecretPolicy refuses every *_file reference and allows any environment variable
// that is not Gatehouse's own.
type SecretPolicy struct {
	// Dir is the directory *_file references must resolve into, symbolic links and ".."
	// resolved first; a relative reference is taken inside it. "": every *_file is refused.
	Dir string
	// EnvAllow are the patterns (path.Match: CORP_*, WIKI_TOKEN) an *_env name must match;
	// empty: any name that is not denied.
	EnvAllow []string
	// EnvDeny are the variables that hold the server's own secrets (--smtp-password-env,
	// --webhook-secret-env), by name, refused like GATEHOUSE_*.
	EnvDeny []string
	// FileDeny are the files that hold the server's own secrets (--smtp-password-file, the
	// audit key), refused even inside Dir.
	FileDeny []string
}

// alwaysDenied are variables no connector may read, whatever the server allows: PGPASSWORD
// is the database password libpq and pgx read from the environment.
var alwaysDenied = []string{"PGPASSWORD"}

// ReservedEnv says why no connector may read the environment variable name (whatever a
// server allows), or "" when it may.
// GATEHOUSE_* are Gatehouse's own settings (GATEHOUSE_BOOTSTRAP_TOKEN, GATEHOUSE_DB, …); the
// check is case-insensitive so that a variant spelling cannot slip through on a platform whose
// environment ignores case.
func ReservedEnv(name string) string {
	up := strings.ToUpper(name)
	switch {
	case strings.HasPrefix(up, "GATEHOUSE_"):
		return "GATEHOUSE_* variables are Gatehouse's own settings and secrets, never a connector's"
	case slices.Contains(alwaysDenied, up):
		return "the database password (libpq, pgx), never a connector's"
	}
	return ""
}

// CheckEnv says whether a connector may read the environment variable name. The error names
// the serve flag that would change the answer, and is safe to show: it holds no value.
func (p *SecretPolicy) CheckEnv(name string) error {
	if why := ReservedEnv(name); why != "" {
		return Permanentf("%s: %s", name, why)
	}
	if p == nil {
		return nil
	}
	for _, d := range p.EnvDeny {
		if d != "" && strings.EqualFold(d, name) {
			return Permanentf("%s: holds a secret of the Gatehouse server itself (--smtp-password-env, --webhook-secret-env), never a connector's", name)
		}
	}
	if len(p.EnvAllow) == 0 {
		return nil
	}
	for _, pat := range p.EnvAllow {
		if ok, _ := path.Match(pat, name); ok {
			return nil
		}
	}
	return Permanentf("%s: not allowed by the server's --secret-env-allow (%s)", name, strings.Join(p.EnvAllow, ","))
}

// CheckFile says whether a connector may read the file named by ref, and returns the path to
// read: symbolic links and ".." resolved, so that what is checked is what is read. A file that
// does not exist yet is checked by its nearest existing directory (a catalog may name a secret
// before the operator puts it in place).
func (p *SecretPolicy) CheckFile(ref string) (string, error) {
	if p == nil || p.Dir == "" {
		return "", Permanentf("secret files are refused: the server was started without --secrets-dir DIR (the only directory *_file references may name)")
	}
	dir, err := filepath.EvalSymlinks(p.Dir)
	if err != nil {
		return "", Permanentf("the server's --secrets-dir %s: %w", p.Dir, err)
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return "", Permanentf("the server's --secrets-dir %s: %w", p.Dir, err)
	}
	name := ref
	if !filepath.IsAbs(name) {
		name = filepath.Join(dir, name)
	}
	resolved, err := resolvePath(name)
	if err != nil {
		return "", Permanentf("%s: %w", ref, err)
	}
	if !within(dir, resolved) {
		return "", Permanentf("%s is outside the server's --secrets-dir %s (after resolving links and ..)", ref, p.Dir)
	}
	for _, f := range p.FileDeny {
		if f == "" {
			continue
		}
		if rf, err := resolvePath(f); err == nil && rf == resolved {
			return "", Permanentf("%s holds a secret of the Gatehouse server itself, never a connector's", ref)
		}
	}
	return resolved, nil
}

// resolvePath makes name absolute and resolves its symbolic links and "..": fully when it
// exists, otherwise through its nearest existing ancestor, the rest cleaned lexically.
func resolvePath(name string) (string, error) {
	abs, err := filepath.Abs(name)
	if err != nil {
		return "", err
	}
	rest := ""
	cur := abs
	for {
		r, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(r, rest), nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return filepath.Clean(abs), nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// within reports whether path is dir or inside it; both are clean absolute paths.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// IsSecretRef reports whether the connector setting key names a secret by reference (*_env,
// *_file). ca_file is not one: a CA certificate is public, and its content is only parsed as
// certificates, never sent anywhere.
func IsSecretRef(key string) bool {
	return strings.HasSuffix(key, "_env") || (strings.HasSuffix(key, "_file") && key != "ca_file")
}

// CheckRef checks one secret reference setting (key ending _env or _file) against p. The
// value is trimmed first, as every connector trims it before reading the secret: what is
// checked is what is read.
func (p *SecretPolicy) CheckRef(key, value string) error {
	value = strings.TrimSpace(value)
	if strings.HasSuffix(key, "_env") {
		return p.CheckEnv(value)
	}
	_, err := p.CheckFile(value)
	return err
}
