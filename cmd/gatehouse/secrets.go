package main

// What the catalog's connector secret references may name on this server.

import (
	"os"
	"path"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/connector"
)

// secretFlags are serve's limits on connector secret references (*_env, *_file). The catalog
// is an admin's; the environment and file system are the operator's and hold Gatehouse's own
// secrets, so the operator says what a catalog may point a connector at.
type secretFlags struct {
	dir      string
	envAllow []string
}

func (f *secretFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.dir, "secrets-dir", "",
		"the only directory connector *_file secret references may name, after links and .. are resolved (empty: *_file references are refused)")
	fl.StringSliceVar(&f.envAllow, "secret-env-allow", nil,
		"patterns of the environment variables connector *_env references may name, e.g. 'CORP_*,WIKI_*' (default: any but GATEHOUSE_* and the server's own secrets)")
}

// policy builds the secret policy: the flags, plus the server's own secrets (the SMTP password,
// the webhook key, the audit signing key), which no connector may name whatever is allowed.
func (f *secretFlags) policy(cmd *cobra.Command, nf *notifyFlags, own ...string) (*connector.SecretPolicy, error) {
	p := &connector.SecretPolicy{Dir: f.dir}
	if f.dir != "" {
		fi, err := os.Stat(f.dir)
		if err != nil {
			return nil, usageErrorf(cmd, "--secrets-dir %s: %v", f.dir, err)
		}
		if !fi.IsDir() {
			return nil, usageErrorf(cmd, "--secrets-dir %s: not a directory", f.dir)
		}
	}
	for _, pat := range f.envAllow {
		pat = strings.TrimSpace(pat)
		if _, err := path.Match(pat, ""); err != nil || pat == "" {
			return nil, usageErrorf(cmd, "--secret-env-allow %q: not a pattern (use names and *, e.g. CORP_*)", pat)
		}
		p.EnvAllow = append(p.EnvAllow, pat)
	}
	for _, env := range []string{nf.smtpPasswordEnv, nf.webhookSecretEnv} {
		if env != "" {
			p.EnvDeny = append(p.EnvDeny, env)
		}
	}
	for _, file := range append([]string{nf.smtpPasswordFile}, own...) {
		if file != "" {
			p.FileDeny = append(p.FileDeny, file)
		}
	}
	return p, nil
}
