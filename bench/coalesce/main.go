// Command coalesce is the load driver of bench/reconcile-coalesce.sh. Two subcommands:
//
//	coalesce slapd -dir DIR
//
// starts a real slapd (connector/ldap/ldaptest) in DIR, writes its connector settings to
// DIR/settings.env (shell assignments: LDAP_URL, LDAP_BIND_DN, …) and runs until SIGTERM.
//
//	coalesce load -addr URL -token T -people hr.csv -db DSN -ldap-url URL -n 10000 -seconds 20
//
// drives n grant writes (creates and revokes of -entitlement) through the HTTP API, paced
// evenly over -seconds, counts the pending reconcile jobs (River's river_job rows of kind
// reconcile_system not yet started) in the server's database every second, and after the
// last write waits until the LDAP group of the entitlement holds exactly the people whose
// grant is in force. One line is printed:
//
//	writes=10000 write_s=20.1 peak_pending=1 pending_at_last_write=1 converged_s=2.3 drained_s=3.1 jobs=612
//
// converged_s is from the last write's answer until slapd holds exactly the granted
// memberships ("timeout" after -wait); drained_s until no reconcile job is pending or running
// any more (after converged; "timeout" after -drain, with the jobs left); jobs is how many
// reconcile jobs the writes created.
// Write k is person k mod -pool of the feed (its first -pool people after the header row),
// created when that person holds no grant of the run, else revoked, so a person is written by
// one worker at a time; with -pool 3000 and 10,000 writes a third of them end revoked.
package main

import (
	"bytes"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver

	"github.com/gatehouse/gatehouse/connector/ldap/ldaptest"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: coalesce slapd|load [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "slapd":
		err = slapd(os.Args[2:])
	case "load":
		err = load(os.Args[2:])
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "coalesce:", err)
		os.Exit(1)
	}
}

func slapd(args []string) error {
	fs := flag.NewFlagSet("slapd", flag.ExitOnError)
	dir := fs.String("dir", "", "directory of the server's configuration and database")
	_ = fs.Parse(args)
	if *dir == "" {
		return errors.New("-dir is required")
	}
	s, err := ldaptest.Setup(*dir, ldaptest.Options{})
	if err != nil {
		return err
	}
	if err := s.Start(); err != nil {
		return err
	}
	defer func() { _ = s.Stop() }()
	set := s.Settings()
	var b strings.Builder
	for _, k := range []string{"url", "bind_dn", "bind_password_file", "users_dn", "groups_dn", "disabled_dn"} {
		fmt.Fprintf(&b, "LDAP_%s='%v'\n", strings.ToUpper(k), set[k])
	}
	if err := os.WriteFile(filepath.Join(*dir, "settings.env"), []byte(b.String()), 0o600); err != nil {
		return err
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	return nil
}

type loadConfig struct {
	addr, token, ent, db, ldapURL, groupDN string
	people                                 []string // emails
	n, c                                   int
	span, wait, drain                      time.Duration
}

func load(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	var cfg loadConfig
	fs.StringVar(&cfg.addr, "addr", "", "server base URL")
	fs.StringVar(&cfg.token, "token", os.Getenv("GATEHOUSE_TOKEN"), "API token of an operator")
	fs.StringVar(&cfg.ent, "entitlement", "ldap/bench", "entitlement granted and revoked")
	fs.StringVar(&cfg.db, "db", "", "the server's database: sqlite:PATH or a postgres:// URL")
	fs.StringVar(&cfg.ldapURL, "ldap-url", "", "slapd URL")
	fs.StringVar(&cfg.groupDN, "group-dn", "cn=bench,"+ldaptest.GroupsDN, "DN of the entitlement's group")
	feed := fs.String("people", "", "HR feed CSV (email in the second column)")
	pool := fs.Int("pool", 3000, "people written to")
	fs.IntVar(&cfg.n, "n", 10000, "grant writes")
	fs.IntVar(&cfg.c, "c", 8, "writes in flight at once")
	secs := fs.Float64("seconds", 20, "seconds the writes are spread over")
	fs.DurationVar(&cfg.wait, "wait", 10*time.Minute, "longest wait for the directory after the last write")
	fs.DurationVar(&cfg.drain, "drain", 2*time.Minute, "longest wait for the queue to drain after the last write")
	_ = fs.Parse(args)
	cfg.span = time.Duration(*secs * float64(time.Second))
	if cfg.addr == "" || cfg.token == "" || cfg.db == "" || cfg.ldapURL == "" || *feed == "" {
		return errors.New("-addr, -token, -db, -ldap-url and -people are required")
	}
	if *pool%cfg.c != 0 {
		return errors.New("-pool must be a multiple of -c: each person is written by one worker")
	}
	var err error
	if cfg.people, err = readPeople(*feed, *pool); err != nil {
		return err
	}
	return run(cfg)
}

func readPeople(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	if _, err := r.Read(); err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	var out []string
	for len(out) < n {
		rec, err := r.Read()
		if err == io.EOF {
			return nil, fmt.Errorf("%s: %d people, want %d", path, len(out), n)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, rec[1])
	}
	return out, nil
}

func run(cfg loadConfig) error {
	db, err := openDB(cfg.db)
	if err != nil {
		return err
	}
	defer db.Close()
	firstJob, err := maxJob(db)
	if err != nil {
		return err
	}

	// The pending reconciles, every second, until the end.
	var peak, atLast atomic.Int64
	samplerDone := make(chan struct{})
	stopSampler := make(chan struct{})
	go func() {
		defer close(samplerDone)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			if n, err := pendingJobs(db); err == nil && n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stopSampler:
				return
			case <-t.C:
			}
		}
	}()

	granted := make([]string, len(cfg.people)) // grant id in force per person, "" for none
	client := &http.Client{Timeout: time.Minute}
	start := time.Now()
	var lastAnswer atomic.Int64 // unix nanos
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	for w := range cfg.c {
		wg.Go(func() {
			for k := w; k < cfg.n; k += cfg.c {
				at := start.Add(time.Duration(int64(cfg.span) * int64(k) / int64(cfg.n)))
				time.Sleep(time.Until(at))
				p := k % len(cfg.people)
				var err error
				if granted[p] == "" {
					granted[p], err = createGrant(client, cfg, cfg.people[p])
				} else {
					err = revokeGrant(client, cfg, granted[p])
					granted[p] = ""
				}
				lastAnswer.Store(time.Now().UnixNano())
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		close(stopSampler)
		return firstErr
	}
	last := time.Unix(0, lastAnswer.Load())
	if n, err := pendingJobs(db); err == nil {
		atLast.Store(n)
	}
	want := map[string]bool{}
	for p, g := range granted {
		if g != "" {
			user, _, _ := strings.Cut(cfg.people[p], "@")
			want[user] = true
		}
	}
	converged := "timeout"
	var diff string
	for deadline := last.Add(cfg.wait); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		var ok bool
		if ok, diff, err = sameMembers(cfg, want); err != nil {
			diff = err.Error()
			continue
		}
		if ok {
			converged = fmt.Sprintf("%.1f", time.Since(last).Seconds())
			break
		}
	}
	drained := "timeout"
	for deadline := last.Add(cfg.drain); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if n, err := unfinishedJobs(db); err == nil && n == 0 {
			drained = fmt.Sprintf("%.1f", time.Since(last).Seconds())
			break
		}
	}
	if drained == "timeout" {
		n, _ := unfinishedJobs(db)
		drained = fmt.Sprintf("timeout(>%s,%d_left)", cfg.drain, n)
	}
	close(stopSampler)
	<-samplerDone
	lastJob, err := maxJob(db)
	if err != nil {
		return err
	}
	if converged == "timeout" {
		n, _ := pendingJobs(db)
		converged = fmt.Sprintf("timeout(>%s,%d_pending,%s)", cfg.wait, n, diff)
	}
	fmt.Printf("writes=%d write_s=%.1f peak_pending=%d pending_at_last_write=%d converged_s=%s drained_s=%s jobs=%d\n",
		cfg.n, last.Sub(start).Seconds(), peak.Load(), atLast.Load(), converged, drained, lastJob-firstJob)
	return nil
}

func openDB(dsn string) (*sql.DB, error) {
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		return sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	}
	return sql.Open("pgx", dsn)
}

func pendingJobs(db *sql.DB) (int64, error) {
	var n int64
	err := db.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'reconcile_system'
		AND state IN ('available', 'scheduled', 'retryable')`).Scan(&n)
	return n, err
}

// unfinishedJobs counts the reconcile jobs pending or running.
func unfinishedJobs(db *sql.DB) (int64, error) {
	var n int64
	err := db.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'reconcile_system'
		AND state IN ('available', 'scheduled', 'retryable', 'running')`).Scan(&n)
	return n, err
}

func maxJob(db *sql.DB) (int64, error) {
	var n sql.NullInt64
	err := db.QueryRow(`SELECT max(id) FROM river_job WHERE kind = 'reconcile_system'`).Scan(&n)
	return n.Int64, err
}

func call(client *http.Client, cfg loadConfig, path string, body any, want int) ([]byte, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, cfg.addr+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+cfg.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return nil, fmt.Errorf("POST %s: HTTP %d: %.300s", path, resp.StatusCode, out)
	}
	return out, nil
}

func createGrant(client *http.Client, cfg loadConfig, email string) (string, error) {
	out, err := call(client, cfg, "/api/v1/grants", map[string]string{"identity": email, "entitlement": cfg.ent,
		"reference": "BENCH-1", "reason": "reconcile coalescing benchmark"}, http.StatusCreated)
	if err != nil {
		return "", err
	}
	var g struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(out, &g); err != nil || g.ID == "" {
		return "", fmt.Errorf("grant of %s: no id in %.200s", email, out)
	}
	return g.ID, nil
}

func revokeGrant(client *http.Client, cfg loadConfig, id string) error {
	_, err := call(client, cfg, "/api/v1/grants/"+id+"/revoke", map[string]string{"reason": "benchmark"}, http.StatusOK)
	return err
}

// sameMembers says whether the group holds exactly the accounts of want (by uid), and if not
// how it differs.
func sameMembers(cfg loadConfig, want map[string]bool) (bool, string, error) {
	conn, err := goldap.DialURL(cfg.ldapURL)
	if err != nil {
		return false, "", err
	}
	defer conn.Close()
	if err := conn.Bind(ldaptest.AdminDN, ldaptest.AdminPassword); err != nil {
		return false, "", err
	}
	res, err := conn.Search(goldap.NewSearchRequest(cfg.groupDN, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"member"}, nil))
	if goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
		return len(want) == 0, "no group yet", nil
	}
	if err != nil {
		return false, "", err
	}
	have := map[string]bool{}
	for _, m := range res.Entries[0].GetAttributeValues("member") {
		if !strings.HasSuffix(strings.ToLower(m), ","+ldaptest.PeopleDN) {
			continue // the placeholder of an empty group
		}
		dn, err := goldap.ParseDN(m)
		if err != nil || len(dn.RDNs) == 0 || len(dn.RDNs[0].Attributes) == 0 {
			continue
		}
		have[dn.RDNs[0].Attributes[0].Value] = true
	}
	missing, extra := 0, 0
	for u := range want {
		if !have[u] {
			missing++
		}
	}
	for u := range have {
		if !want[u] {
			extra++
		}
	}
	return missing == 0 && extra == 0, fmt.Sprintf("%d_missing_%d_extra", missing, extra), nil
}
