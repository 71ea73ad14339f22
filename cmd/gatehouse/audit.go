package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/client"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store/sqlstore"
)

func (a *app) auditCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read and verify the tamper-evident audit log",
		Args:  cobra.ArbitraryArgs,
		RunE:  groupRun,
	}
	cmd.AddCommand(a.auditListCommand(), a.auditVerifyCommand(), a.auditKeygenCommand(), a.auditCheckpointCommand())
	return cmd
}

// parseWhen reads a --since/--until value: an RFC 3339 time, a date (YYYY-MM-DD, midnight UTC),
// or a duration back from now ("24h", "7d").
func parseWhen(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(gatehouse.DateLayout, s); err == nil {
		return t, nil
	}
	if d, err := gatehouse.ParseDuration(s); err == nil {
		return now.Add(-time.Duration(d)), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2026-01-31T09:00:00Z), a date (2026-01-31) or a duration back from now (24h, 7d)", s)
}

func (a *app) auditListCommand() *cobra.Command {
	var (
		f            gatehouse.AuditFilter
		lf           listFlags
		since, until string
		object       string
		asc          bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List audit events, newest first (auditors, operators, admins)",
		Example: `  gatehouse audit list --since 24h
  gatehouse audit list --actor priya.raman@example.com --action grant.
  gatehouse audit list --object identity:sam.taylor@example.com
  gatehouse audit list --since 2026-01-01 --until 2026-02-01 --all -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now()
			var err error
			if since != "" {
				if f.Since, err = parseWhen(since, now); err != nil {
					return usageErrorf(cmd, "--since: %v", err)
				}
			}
			if until != "" {
				if f.Until, err = parseWhen(until, now); err != nil {
					return usageErrorf(cmd, "--until: %v", err)
				}
			}
			f.Ascending = asc
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if object != "" {
				typ, id, ok := strings.Cut(object, ":")
				if !ok {
					typ, id = "", object
				}
				f.ObjectType, f.ObjectID = typ, id
				// People name identities by email; events name them by id.
				if typ == "identity" && strings.Contains(id, "@") {
					if i, err := c.GetIdentity(ctx, id); err == nil {
						f.ObjectID = i.ID
					}
				}
			}
			page, err := collect(lf, func(o pageAt) (*gatehouse.Page[*gatehouse.AuditEvent], error) {
				f.Limit, f.Cursor = o.Limit, o.Cursor
				return c.ListAuditEvents(ctx, f)
			})
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, page)
			}
			t := newTable(a.stdout, "SEQ", "TIME", "ACTOR", "ACTION", "OBJECT", "REFERENCE", "REASON")
			for _, ev := range page.Items {
				t.row(strconv.FormatInt(ev.Seq, 10), ts(ev.Time), ev.Actor, string(ev.Action),
					ev.ObjectType+":"+ev.ObjectID, truncate(ev.Reference, 24), truncate(ev.Reason, 48))
			}
			if err := t.flush(); err != nil {
				return err
			}
			a.moreHint(page.NextCursor)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&since, "since", "", "from this time: RFC 3339, a date, or a duration back from now (24h, 7d)")
	fl.StringVar(&until, "until", "", "up to this time (same forms as --since)")
	fl.StringVar(&f.Actor, "actor", "", "who: an email, bootstrap (GATEHOUSE_BOOTSTRAP_TOKEN) or system:<component>")
	fl.StringVar(&f.Action, "action", "", "exact action (grant.revoke) or a prefix ending in a dot (grant.)")
	fl.StringVar(&object, "object", "", "TYPE:ID (identity:…, grant:…, token:…, entitlement:…) or an object id")
	fl.BoolVar(&asc, "asc", false, "oldest first")
	lf.register(cmd)
	return cmd
}

func (a *app) auditVerifyCommand() *cobra.Command {
	var pubkey, checkpoints, dsn string
	var offline bool
	cmd := &cobra.Command{
		Use:   "verify [--pubkey FILE --checkpoints DIR|FILE [--db DSN | --offline]]",
		Short: "Re-compute the audit hash chain; exit 1 naming the first bad sequence if it is broken",
		Long: `Re-compute the audit hash chain; exit 1 naming the first bad sequence if it is broken.

Without --pubkey the server re-computes its chain: this finds any edit that was not re-sealed,
but not a chain re-sealed by whoever owns the database, nor a tail deleted with the head moved
back.

With --pubkey and --checkpoints the chain is also checked against signed checkpoints (serve
--audit-key; docs/audit.md): every checkpoint must verify with the public key and chain to the
one before, and the event at each checkpoint's sequence must carry the hash it signed. Events
are read from the server (GATEHOUSE_ADDR) and verified here, or with --db straight from a
database (an auditor's copy; no server needed). With no server address, or --offline, only the
checkpoint files are verified (signatures and their chain).`,
		Example: `  gatehouse audit verify
  gatehouse audit verify --pubkey audit.pub --checkpoints /mnt/evidence/checkpoints
  gatehouse audit verify --pubkey audit.pub --checkpoints ./checkpoints --db sqlite:./copy-of-gatehouse.db
  gatehouse audit verify --pubkey audit.pub --checkpoints checkpoint-0000000042-seq-000000001234.json --offline`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			switch {
			case pubkey == "" && checkpoints != "":
				return usageErrorf(cmd, "--checkpoints needs --pubkey FILE (the audit.pub of the key that signed them)")
			case pubkey != "" && checkpoints == "":
				return usageErrorf(cmd, "--pubkey needs --checkpoints DIR or FILE")
			case offline && dsn != "":
				return usageErrorf(cmd, "--offline reads no events; drop --db, or --offline")
			case offline && pubkey == "":
				return usageErrorf(cmd, "--offline verifies checkpoint files: give --pubkey and --checkpoints")
			}
			if pubkey == "" {
				if dsn != "" {
					st, err := sqlstore.Open(ctx, dsn)
					if err != nil {
						return err
					}
					defer st.Close()
					v, err := service.VerifyStore(ctx, st)
					if err != nil {
						return err
					}
					return a.printVerification(&service.Verification{OK: v.OK, Count: v.Count, HeadSeq: v.HeadSeq, HeadHash: v.HeadHash, Break: v.Break})
				}
				c, err := a.client(cmd)
				if err != nil {
					return err
				}
				v, err := c.VerifyAudit(ctx)
				if err != nil {
					return err
				}
				return a.printVerification(v)
			}
			pub, err := audit.ReadPublicKeyFile(pubkey)
			if err != nil {
				return usageErrorf(cmd, "--pubkey: %v", err)
			}
			files, err := audit.ReadCheckpoints(checkpoints)
			if err != nil {
				return err
			}
			cps := make([]*audit.Checkpoint, len(files))
			for i, f := range files {
				cps[i] = f.Checkpoint
			}
			var res *audit.CheckpointResult
			mode := ""
			switch {
			case dsn != "":
				st, err := sqlstore.Open(ctx, dsn)
				if err != nil {
					return err
				}
				defer st.Close()
				if res, err = service.VerifyStoreCheckpoints(ctx, st, pub, cps); err != nil {
					return err
				}
				mode = "database " + st.Engine()
			case offline || (a.addr == "" && a.getenv("GATEHOUSE_ADDR") == ""):
				res = audit.VerifyCheckpointFiles(pub, cps)
				mode = "offline"
			default:
				c, err := a.client(cmd)
				if err != nil {
					return err
				}
				if res, err = verifyOverAPI(ctx, c, pub, cps); err != nil {
					var unreach *client.UnreachableError
					if errors.As(err, &unreach) {
						return fmt.Errorf("%v; to verify the checkpoint files alone, add --offline", unreach)
					}
					return err
				}
				mode = "server"
			}
			return a.printCheckpointResult(res, files, mode)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&pubkey, "pubkey", "", "public key (PEM, audit.pub) that verifies the checkpoints")
	fl.StringVar(&checkpoints, "checkpoints", "", "directory of checkpoint files (checkpoint-*.json), or one checkpoint file")
	fl.StringVar(&dsn, "db", "", "verify this database directly, without a server: sqlite:PATH or a postgres:// URL")
	fl.BoolVar(&offline, "offline", false, "verify the checkpoint files alone (signatures and their chain), reading no events")
	return cmd
}

// printVerification prints the plain chain check.
func (a *app) printVerification(v *service.Verification) error {
	if a.json() {
		if err := printJSON(a.stdout, v); err != nil {
			return err
		}
	} else if v.OK {
		fmt.Fprintf(a.stdout, "audit chain intact: %d events (head %d, %s)\n", v.Count, v.HeadSeq, v.HeadHash)
	} else {
		seq, reason := int64(0), "unknown"
		if v.Break != nil {
			seq, reason = v.Break.Seq, v.Break.Reason
		}
		printf(a.stdout, "audit chain BROKEN at sequence %d: %s\n", seq, reason)
	}
	if !v.OK {
		return errFindings
	}
	return nil
}

// verifyOverAPI streams the server's events, oldest first, through a CheckpointVerifier here:
// the server is not asked to vouch for itself. The head is read first; events appended while
// the pages are read are past it, and are checked by the chain only.
func verifyOverAPI(ctx context.Context, c *client.Client, pub ed25519.PublicKey, cps []*audit.Checkpoint) (*audit.CheckpointResult, error) {
	head, err := c.VerifyAudit(ctx)
	if err != nil {
		return nil, err
	}
	v := audit.NewCheckpointVerifier(pub, cps)
	f := gatehouse.AuditFilter{Ascending: true, Limit: gatehouse.MaxLimit}
	last := int64(0)
	for {
		page, err := c.ListAuditEvents(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, ev := range page.Items {
			v.Add(ev)
			last = ev.Seq
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	seq, hash := head.HeadSeq, head.HeadHash
	if last > seq {
		seq, hash = last, ""
	}
	return v.Result(seq, hash), nil
}

// printCheckpointResult prints a verification against checkpoints; exit 1 when it fails.
func (a *app) printCheckpointResult(res *audit.CheckpointResult, files []audit.CheckpointFile, mode string) error {
	if a.json() {
		if err := printJSON(a.stdout, res); err != nil {
			return err
		}
		if !res.OK {
			return errFindings
		}
		return nil
	}
	if b := res.Break; b != nil {
		where := fmt.Sprintf("sequence %d", b.Seq)
		if b.Through > b.Seq {
			where = fmt.Sprintf("sequence %d (somewhere in %d..%d)", b.Seq, b.Seq, b.Through)
		}
		printf(a.stdout, "audit chain BROKEN at %s: %s\n", where, b.Reason)
		if b.Checkpoint != 0 {
			for _, f := range files {
				if f.Number == b.Checkpoint {
					printf(a.stdout, "  checkpoint %d: %s\n", f.Number, f.Path)
					break
				}
			}
		}
		return errFindings
	}
	n := res.Newest
	if mode == "offline" {
		printf(a.stdout, "%s verified (signatures and their chain); newest: checkpoint %d at sequence %d, signed %s by %s\n",
			checkpointCount(res.Checkpoints), n.Number, n.Seq, ts(n.Time), n.KeyID)
		fmt.Fprintln(a.stdout, "events not checked (offline): add --db DSN, or a server address, to check the log against them")
		return nil
	}
	printf(a.stdout, "audit chain intact and matches %s (%s): %d events, head %d\n",
		checkpointCount(res.Checkpoints), mode, res.Events, res.HeadSeq)
	printf(a.stdout, "confirmed through sequence %d by checkpoint %d (signed %s by %s)", res.Confirmed, n.Number, ts(n.Time), n.KeyID)
	if after := res.HeadSeq - res.Confirmed; after > 0 {
		fmt.Fprintf(a.stdout, "; the %d events after it rely on the hash chain alone", after)
	}
	fmt.Fprintln(a.stdout)
	return nil
}

// checkpointCount is "1 signed checkpoint", "3 signed checkpoints".
func checkpointCount(n int) string {
	if n == 1 {
		return "1 signed checkpoint"
	}
	return fmt.Sprintf("%d signed checkpoints", n)
}

func (a *app) auditKeygenCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen --out DIR",
		Short: "Create an Ed25519 key pair for signed audit checkpoints: DIR/audit.key (0600) and DIR/audit.pub",
		Long: `Create an Ed25519 key pair for signed audit checkpoints (docs/audit.md), as PEM files that
OpenSSL reads too: DIR/audit.key (PKCS #8, mode 0600) for serve --audit-key, and DIR/audit.pub
for auditors (audit verify --pubkey). Keep audit.key away from the database and from whoever
administers it: whoever holds it can sign a rewritten log. Existing files are not overwritten.`,
		Example: `  gatehouse audit keygen --out /etc/gatehouse/audit`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageErrorf(cmd, "--out DIR is required")
			}
			privPEM, pubPEM, err := audit.GenerateKey()
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o700); err != nil {
				return fmt.Errorf("keygen: %w", err)
			}
			keyPath, pubPath := filepath.Join(out, "audit.key"), filepath.Join(out, "audit.pub")
			for _, p := range []string{keyPath, pubPath} {
				if _, err := os.Stat(p); err == nil {
					return fmt.Errorf("keygen: %s exists; not overwriting a key (move it away first)", p)
				}
			}
			if err := writeNew(keyPath, privPEM, 0o600); err != nil {
				return err
			}
			if err := writeNew(pubPath, pubPEM, 0o644); err != nil {
				return err
			}
			pub, err := audit.ParsePublicKey(pubPEM)
			if err != nil {
				return err
			}
			printf(a.stdout, "wrote %s (secret: for serve --audit-key) and %s (for auditors: audit verify --pubkey)\nkey id %s\n",
				keyPath, pubPath, audit.KeyID(pub))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write audit.key and audit.pub to (created 0700 if missing)")
	return cmd
}

// writeNew writes a file that must not exist yet, with mode perm.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func (a *app) auditCheckpointCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "checkpoint [-o FILE]",
		Short: "Ask the server to sign a checkpoint of the audit chain now (admins, auditors)",
		Long: `Ask the server to sign a checkpoint of the audit chain head now, with its --audit-key. The
server writes it to its checkpoint directory (and webhook) like every checkpoint; this command
writes it to FILE (-o), or prints it. Keep it with the other checkpoints, off the server, and
verify with: gatehouse audit verify --pubkey audit.pub --checkpoints DIR.

Here -o names the file to write (not an output format); FILE must not exist yet.`,
		Example:           `  gatehouse audit checkpoint -o evidence/checkpoint-$(date +%F).json`,
		Args:              noArgs,
		PersistentPreRunE: outputIsFile,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			cp, err := c.CreateAuditCheckpoint(cmd.Context())
			if err != nil {
				return err
			}
			file := a.outputFile(cmd)
			if file == "" {
				_, err := a.stdout.Write(cp.Marshal())
				return err
			}
			if err := writeNew(file, cp.Marshal(), 0o644); err != nil {
				return err
			}
			printf(a.stdout, "checkpoint %d: sequence %d, head %s, signed %s by %s; written to %s\n",
				cp.Number, cp.Seq, cp.HeadHash, ts(cp.Time), cp.KeyID, file)
			return nil
		},
	}
	return cmd
}

// checkpointFlags are serve's audit checkpoint flags.
type checkpointFlags struct {
	key      string
	dir      string
	interval time.Duration
	webhook  string
}

func (f *checkpointFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.key, "audit-key", "", "Ed25519 private key (PEM, from `gatehouse audit keygen`) signing audit checkpoints; none: no checkpoints")
	fl.StringVar(&f.dir, "audit-checkpoint-dir", "", "directory the signed checkpoints are written to, one file each (required with --audit-key)")
	fl.DurationVar(&f.interval, "audit-checkpoint-interval", time.Hour, "sign a checkpoint this often, and at shutdown (0: only at shutdown and on request)")
	fl.StringVar(&f.webhook, "audit-checkpoint-webhook", "", "also POST each checkpoint (JSON) to this URL")
}

// setup loads the key and the directory. Everything wrong with them is an error at start: a
// server meant to sign checkpoints must not run without. Without --audit-key the answer has
// no Signer: the server signs none.
func (f *checkpointFlags) setup(cmd *cobra.Command) (*service.Checkpoints, error) {
	if f.key == "" {
		for _, name := range []string{"audit-checkpoint-dir", "audit-checkpoint-webhook"} {
			if cmd.Flags().Changed(name) {
				return nil, usageErrorf(cmd, "--%s needs --audit-key FILE", name)
			}
		}
		return &service.Checkpoints{}, nil
	}
	if f.dir == "" {
		return nil, usageErrorf(cmd, "--audit-key needs --audit-checkpoint-dir DIR (where the signed checkpoints are written)")
	}
	if f.interval < 0 {
		return nil, usageErrorf(cmd, "--audit-checkpoint-interval %s: use a duration of 0 or more", f.interval)
	}
	key, err := audit.ReadPrivateKeyFile(f.key)
	if err != nil {
		return nil, fmt.Errorf("--audit-key: %w", err)
	}
	signer, err := audit.NewSigner(key, f.dir)
	if err != nil {
		return nil, fmt.Errorf("--audit-checkpoint-dir: %w", err)
	}
	cps := &service.Checkpoints{Signer: signer}
	if f.webhook != "" {
		u, err := url.Parse(f.webhook)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, usageErrorf(cmd, "--audit-checkpoint-webhook %q: use an http(s) URL", f.webhook)
		}
		cps.Publish = checkpointWebhook(f.webhook)
	}
	return cps, nil
}

// checkpointWebhook POSTs a checkpoint's file content to url; any answer but 2xx is an error.
func checkpointWebhook(target string) func(context.Context, *audit.Checkpoint) error {
	hc := &http.Client{Timeout: 10 * time.Second}
	return func(ctx context.Context, c *audit.Checkpoint) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(c.Marshal()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return fmt.Errorf("checkpoint webhook: %w", err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("checkpoint webhook: %s", resp.Status)
		}
		return nil
	}
}

// checkpointLoop signs a checkpoint every interval until ctx ends. It runs in the process that
// owns the checkpoint directory (not as a River job, whose leader may be another replica with
// another directory).
func checkpointLoop(ctx context.Context, svc *service.Service, every time.Duration) {
	// At start: a log rewritten while the server was down shows now, not at the next tick.
	_ = svc.CheckNewestCheckpoint(ctx) // logged by the service
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, _ = svc.SignCheckpoint(ctx, "system:checkpoint") // logged by the service
		}
	}
}

// finalCheckpoint signs the checkpoint at shutdown, with its own deadline: ctx has ended.
func finalCheckpoint(svc *service.Service) {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	_, _ = svc.SignCheckpoint(ctx, "system:shutdown")
}
