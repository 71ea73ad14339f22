package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/connector/scim/scimtest"
)

// TestKilledReconcileEndToEnd: the server is killed (SIGKILL) while a reconcile reads a SCIM
// app, and started again on the same database and address. The run is marked interrupted, the
// same job runs again at once, and a `reconcile --wait` started before the kill follows it
// through the restart and ends converged, instead of waiting on a job nobody runs. Real
// binary, real SCIM server (SCIMMY), behind a proxy that holds the user listing while told to.
func TestKilledReconcileEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	scimtest.Require(t)
	app := scimtest.Start(t, scimtest.Scimmy)
	sset := app.Settings(t)
	target, err := neturl.Parse(fmt.Sprint(sset["url"]))
	if err != nil {
		t.Fatal(err)
	}
	var hold atomic.Bool
	entered := make(chan struct{}, 1)
	proxy := httputil.NewSingleHostReverseProxy(&neturl.URL{Scheme: target.Scheme, Host: target.Host})
	front := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The inventory's listing (startIndex): the run is recorded by then. (Opening the
		// connector asks /Users?count=1 before; a kill there leaves a job and no run, which
		// the restart runs again too.)
		if hold.Load() && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/Users") &&
			r.URL.Query().Has("startIndex") {
			select {
			case entered <- struct{}{}:
			default:
			}
			for hold.Load() && r.Context().Err() == nil {
				time.Sleep(10 * time.Millisecond)
			}
			http.Error(w, "held", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	})}
	frontAddr := freeAddr(t)
	ln, err := net.Listen("tcp", frontAddr)
	if err != nil {
		t.Fatal(err)
	}
	go front.Serve(ln)
	t.Cleanup(func() { front.Close() })

	dir := t.TempDir()
	write := fileWriter(t, dir)
	cat := write("catalog.yaml", fmt.Sprintf(`
systems:
  - id: wiki
    name: Team Wiki
    owner: p0@example.com
    tier: standard
    connector: {type: scim, url: %q, token_file: %q, timeout: 5s, max_retries: 0}
entitlements:
  - {id: wiki/members, system: wiki, name: Wiki members, kind: group, risk: standard, external_id: wiki-members}
roles:
  - {id: all-staff, name: All staff, entitlements: [wiki/members], birthright: 'identity.status == "active"'}
`, "http://"+frontAddr+target.Path, sset["token_file"]))
	header := "employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date\n"
	hr := write("hr.csv", header+"E0,p0@example.com,P,0,IT,Staff,,HQ,employee,active,2020-01-01,\nE1,p1@example.com,P,1,IT,Staff,,HQ,employee,active,2020-01-01,\n")

	const admin = "e2e-bootstrap-secret-at-least-32-chars"
	addr := freeAddr(t)
	env := []string{"GATEHOUSE_BOOTSTRAP_TOKEN=" + admin}
	args := []string{"serve", "--db", "sqlite:" + filepath.Join(dir, "gh.db"), "--reconcile-interval", "0",
		"--secrets-dir", os.TempDir()}
	srv := startAt(t, addr, env, args...)
	url := "http://" + addr
	expect(t, gh(t, url, admin, "hr", "import", hr), 0)
	expect(t, gh(t, url, admin, "catalog", "apply", cat, "--reason", "e2e"), 0)
	expect(t, gh(t, url, admin, "reconcile", "--wait"), 0, "Converged.")

	// A reconcile that hangs reading the app, followed by a client with --wait.
	hold.Store(true)
	var out, errOut bytes.Buffer
	waiter := exec.Command(binary(t), "reconcile", "--system", "wiki", "--wait", "--timeout", "3m", "-o", "json")
	waiter.Env = append(os.Environ(), "GATEHOUSE_ADDR="+url, "GATEHOUSE_TOKEN="+admin)
	waiter.Stdout, waiter.Stderr = &out, &errOut
	if err := waiter.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- waiter.Wait() }()
	t.Cleanup(func() { _ = waiter.Process.Kill() })
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatalf("the reconcile never read the app\nstderr:\n%s", errOut.String())
	}

	// kill -9, then start again on the same database and address.
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-srv.done
	hold.Store(false)
	time.Sleep(1500 * time.Millisecond) // the waiting client finds no server meanwhile
	srv = startAt(t, addr, env, args...)
	defer srv.stop(t)

	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("reconcile --wait across the restart: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("reconcile --wait still waiting 2m after the restart\nstderr:\n%s\nserver:\n%s", errOut.String(), srv.stderr)
	}
	for _, want := range []string{`"status":"interrupted"`, `"converged":true`} {
		if !strings.Contains(strings.ReplaceAll(out.String(), " ", ""), want) {
			t.Fatalf("--wait answer lacks %s:\n%s\nstderr:\n%s", want, out.String(), errOut.String())
		}
	}
	if !strings.Contains(errOut.String(), "server unavailable") {
		t.Errorf("--wait did not say it waited for the server: %s", errOut.String())
	}
	expect(t, gh(t, url, admin, "audit", "list", "--action", "reconcile.interrupted"), 0, "reconcile.interrupted")
}

// startAt is start on a given address, so that a restarted server is where its clients were.
func startAt(t *testing.T, addr string, env []string, args ...string) *proc {
	t.Helper()
	s := &proc{
		cmd:    exec.Command(binary(t), append(args, "--addr", addr)...),
		url:    "http://" + addr,
		stdout: &syncBuffer{},
		stderr: &syncBuffer{},
		done:   make(chan error, 1),
	}
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		select {
		case err := <-s.done:
			t.Fatalf("%v exited early: %v\nstderr:\n%s", args, err, s.stderr)
		default:
		}
		if resp, err := http.Get(s.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(s.stdout.String(), "listening on") {
				return s
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%v not ready after 30s\nstderr:\n%s", args, s.stderr)
	return nil
}
