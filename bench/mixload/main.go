// Command mixload drives a running `gatehouse serve` with a mix of reads and writes of the public
// API for a fixed time, a fixed number of connections each sending one request after another,
// and prints the rate and the latencies:
//
//	go run ./bench/mixload -addr http://127.0.0.1:8080 -token "$TOKEN" -people hr.csv -c 32 -d 60s
//
// The token's holder must be an operator (they read everything and write grants and requests
// for others). -people is the HR feed the company was imported from (bench/hrcsv); its first
// row (the top of the company), the top's direct reports and its last row (the requester) are
// never a beneficiary of a write, as in bench/reqrate.
//
// Reads (-reads, default 0.9 of all requests), in turn by a fixed pattern:
//
//	GET /api/v1/identities?department=D&status=active&limit=50   a filtered page
//	GET /api/v1/identities?q=LastN&limit=20                     a search
//	GET /api/v1/identities/{email}                              one identity
//	GET /api/v1/grants?identity={email}                         a person's grants
//	GET /api/v1/requests?view=all&state=pending_approval&limit=50
//	GET /api/v1/entitlements?system=dir                         the catalog
//	GET /api/v1/me
//
// (-skip leaves some of them out, by the names the report gives them.) Writes, in turn:
//
//	POST /api/v1/requests                 the operator asks for someone (routed, pending approval)
//	POST /api/v1/grants                   a direct grant
//	POST /api/v1/grants/{id}/revoke       of a direct grant this run made (else another grant)
//
// Requests use the entitlements 0..E/2-1 of -entitlement and direct grants E/2..E-1, each
// (person, entitlement) pair at most once a run, so no write collides with another (an open
// request or a held grant would be a 409); -offset shifts the pairs for a second run on the same
// database. One line is printed:
//
//	seconds=60.0 conns=32 requests=61234 rate=1020.6 reads=55110 read_p50_ms=12.1 read_p99_ms=48.0 writes=6124 write_p50_ms=30.2 write_p99_ms=150.3 errors=0
//
// and one line per kind of request on standard error. rate counts every answered request,
// errors included; an error is any status but the one the call expects (200, or 201 for a
// create), or a transport failure. The first few are printed on standard error.
package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", os.Getenv("GATEHOUSE_ADDR"), "server base URL")
	token := flag.String("token", os.Getenv("GATEHOUSE_TOKEN"), "API token of an operator")
	people := flag.String("people", "", "HR feed CSV the company was imported from")
	ent := flag.String("entitlement", "dir/req-%02d", "requestable entitlement id pattern, formatted with 0..entitlements-1")
	ents := flag.Int("entitlements", 50, "number of entitlements the pattern names")
	system := flag.String("system", "dir", "system whose entitlements the catalog read lists")
	c := flag.Int("c", 32, "connections, each sending one request after another")
	d := flag.Duration("d", 60*time.Second, "how long to drive the server")
	reads := flag.Float64("reads", 0.9, "share of reads")
	skip := flag.String("skip", "", "kinds of read to leave out, comma-separated (e.g. identities-search)")
	offset := flag.Int("offset", 0, "first write pair index (a second run on the same database needs a range past the first's)")
	flag.Parse()
	for _, k := range strings.Split(*skip, ",") {
		if i := slices.Index(readKinds, strings.TrimSpace(k)); i >= 0 {
			readKinds = slices.Delete(readKinds, i, i+1)
		} else if k != "" {
			fmt.Fprintf(os.Stderr, "mixload: -skip %q: not a kind of read (%s)\n", k, strings.Join(readKinds, ", "))
			os.Exit(2)
		}
	}
	if len(readKinds) == 0 {
		fmt.Fprintln(os.Stderr, "mixload: -skip leaves no read")
		os.Exit(2)
	}
	cfg := config{addr: strings.TrimRight(*addr, "/"), token: *token, entPattern: *ent, ents: *ents, system: *system,
		conns: *c, duration: *d, reads: *reads, offset: *offset}
	if err := run(cfg, *people); err != nil {
		fmt.Fprintln(os.Stderr, "mixload:", err)
		os.Exit(1)
	}
}

type config struct {
	addr, token, entPattern, system string
	ents, conns, offset             int
	duration                        time.Duration
	reads                           float64
}

// kinds of requests, in the order they are reported.
var readKinds = []string{"identities-page", "identities-search", "identity", "grants", "requests", "entitlements", "me"}
var writeKinds = []string{"request-create", "grant-create", "grant-revoke"}

type person struct{ email, dept, last string }

type driver struct {
	config
	hc     *http.Client
	people []person
	depts  []string
	// pairs hands out (person, entitlement) pairs: request k of the writes of one kind uses pair k.
	requestPairs, grantPairs atomic.Int64
	grants                   chan string // ids of direct grants made and not yet revoked
	errs                     atomic.Int64
	errShown                 atomic.Int64
}

type sample struct {
	kind string
	d    time.Duration
	ok   bool
}

func run(cfg config, peopleFile string) error {
	if cfg.addr == "" || cfg.token == "" || peopleFile == "" {
		return errors.New("-addr, -token and -people are required")
	}
	if cfg.conns <= 0 || cfg.duration <= 0 || cfg.reads < 0 || cfg.reads > 1 || cfg.ents < 2 {
		return errors.New("-c and -d must be positive, -reads within 0..1, -entitlements at least 2")
	}
	people, err := readPeople(peopleFile)
	if err != nil {
		return err
	}
	dv := &driver{config: cfg, people: people, grants: make(chan string, 1<<16),
		hc: &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.conns, MaxConnsPerHost: cfg.conns}}}
	seen := map[string]bool{}
	for _, p := range people {
		if !seen[p.dept] && p.dept != "" {
			seen[p.dept] = true
			dv.depts = append(dv.depts, p.dept)
		}
	}
	if _, err := dv.do(http.MethodGet, "/api/v1/me", nil, http.StatusOK); err != nil {
		return err
	}

	results := make([][]sample, cfg.conns)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(cfg.duration)
	for w := range cfg.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each connection spreads its writes evenly over its requests (every 1/(1-reads)-th
			// is a write), with the connections out of phase, rather than drawing at random: the
			// mix is exact for any run length.
			var acc float64 = float64(w) / float64(cfg.conns)
			var nr, nw int
			for i := w; time.Now().Before(deadline); i++ {
				acc += 1 - cfg.reads
				var s sample
				if acc >= 1 {
					acc--
					s = dv.write(w + nw*cfg.conns)
					nw++
				} else {
					s = dv.read(w+nr*cfg.conns, i)
					nr++
				}
				results[w] = append(results[w], s)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	return report(os.Stdout, os.Stderr, cfg.conns, elapsed, slices.Concat(results...))
}

// read sends read number k (of this connection's sequence); i picks the person.
func (dv *driver) read(k, i int) sample {
	p := dv.people[(i*7919)%len(dv.people)]
	var path string
	kind := readKinds[k%len(readKinds)]
	switch kind {
	case "identities-page":
		path = "/api/v1/identities?limit=50&status=active&department=" + url.QueryEscape(dv.depts[k%len(dv.depts)])
	case "identities-search":
		path = "/api/v1/identities?limit=20&q=" + url.QueryEscape(p.last)
	case "identity":
		path = "/api/v1/identities/" + url.PathEscape(p.email)
	case "grants":
		path = "/api/v1/grants?identity=" + url.QueryEscape(p.email)
	case "requests":
		path = "/api/v1/requests?view=all&state=pending_approval&limit=50"
	case "entitlements":
		path = "/api/v1/entitlements?system=" + url.QueryEscape(dv.system)
	case "me":
		path = "/api/v1/me"
	}
	t := time.Now()
	_, err := dv.do(http.MethodGet, path, nil, http.StatusOK)
	return dv.sample(kind, t, err)
}

// write sends write number k: a request, a direct grant, a revoke, in turn.
func (dv *driver) write(k int) sample {
	half := dv.ents / 2
	pair := func(ctr *atomic.Int64, base int) (string, string) {
		n := int(ctr.Add(1)) - 1 + dv.offset
		return dv.people[n%len(dv.people)].email, fmt.Sprintf(dv.entPattern, base+(n/len(dv.people))%half)
	}
	kind := writeKinds[k%len(writeKinds)]
	if kind == "grant-revoke" && len(dv.grants) == 0 {
		kind = "grant-create"
	}
	t := time.Now()
	var err error
	switch kind {
	case "request-create":
		who, ent := pair(&dv.requestPairs, 0)
		_, err = dv.do(http.MethodPost, "/api/v1/requests", map[string]string{"for": who, "entitlement": ent,
			"justification": "quarter-end close of the books for the finance audit"}, http.StatusCreated)
	case "grant-create":
		who, ent := pair(&dv.grantPairs, half)
		var answer []byte
		answer, err = dv.do(http.MethodPost, "/api/v1/grants", map[string]string{"identity": who, "entitlement": ent,
			"reference": "CHG-4242", "reason": "load test: project access for the quarter"}, http.StatusCreated)
		if err == nil {
			var g struct {
				ID string `json:"id"`
			}
			if err = json.Unmarshal(answer, &g); err == nil && g.ID != "" {
				select {
				case dv.grants <- g.ID:
				default:
				}
			}
		}
	case "grant-revoke":
		var id string
		select {
		case id = <-dv.grants:
		default:
			return dv.write(k + 2) // another connection took the last one: grant instead
		}
		_, err = dv.do(http.MethodPost, "/api/v1/grants/"+url.PathEscape(id)+"/revoke",
			map[string]string{"reason": "load test: project over"}, http.StatusOK)
	}
	return dv.sample(kind, t, err)
}

func (dv *driver) sample(kind string, t time.Time, err error) sample {
	s := sample{kind: kind, d: time.Since(t), ok: err == nil}
	if err != nil {
		dv.errs.Add(1)
		if dv.errShown.Add(1) <= 5 {
			fmt.Fprintf(os.Stderr, "mixload: %s: %v\n", kind, err)
		}
	}
	return s
}

func (dv *driver) do(method, path string, body any, want int) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, dv.addr+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+dv.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := dv.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %s: %.300s", method, path, resp.Status, bytes.TrimSpace(answer))
	}
	return answer, nil
}

func report(out, detail io.Writer, conns int, elapsed time.Duration, all []sample) error {
	by := map[string][]time.Duration{}
	var reads, writes []time.Duration
	errs := 0
	for _, s := range all {
		if !s.ok {
			errs++
		}
		by[s.kind] = append(by[s.kind], s.d)
		if slices.Contains(writeKinds, s.kind) {
			writes = append(writes, s.d)
		} else {
			reads = append(reads, s.d)
		}
	}
	for _, k := range slices.Concat(readKinds, writeKinds) {
		if l := by[k]; len(l) > 0 {
			p50, p99 := pct(l)
			fmt.Fprintf(detail, "  %-18s n=%-7d p50_ms=%-7.1f p99_ms=%.1f\n", k, len(l), p50, p99)
		}
	}
	r50, r99 := pct(reads)
	w50, w99 := pct(writes)
	secs := elapsed.Seconds()
	fmt.Fprintf(out, "seconds=%.1f conns=%d requests=%d rate=%.1f reads=%d read_p50_ms=%.1f read_p99_ms=%.1f writes=%d write_p50_ms=%.1f write_p99_ms=%.1f errors=%d\n",
		secs, conns, len(all), float64(len(all))/secs, len(reads), r50, r99, len(writes), w50, w99, errs)
	if errs > 0 {
		return fmt.Errorf("%d of %d requests failed", errs, len(all))
	}
	return nil
}

// pct is the p50 and p99 of l in milliseconds (l is sorted in place).
func pct(l []time.Duration) (float64, float64) {
	if len(l) == 0 {
		return 0, 0
	}
	slices.Sort(l)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return ms(l[len(l)/2]), ms(l[min(len(l)-1, len(l)*99/100)])
}

// readPeople reads the feed's people but its first and last row and the first's direct reports
// (see the package comment).
func readPeople(file string) ([]person, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("people: %w", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("people %s: %w", file, err)
	}
	if len(rows) < 4 {
		return nil, fmt.Errorf("people %s: need a header and at least three people", file)
	}
	col := func(name string) int { return slices.Index(rows[0], name) }
	email, dept, last, eid, mgr := col("email"), col("department"), col("last_name"), col("employee_id"), col("manager_id")
	if email < 0 || dept < 0 || last < 0 || eid < 0 || mgr < 0 {
		return nil, fmt.Errorf("people %s: need the columns email, department, last_name, employee_id and manager_id", file)
	}
	out := make([]person, 0, len(rows)-3)
	for _, r := range rows[2 : len(rows)-1] {
		if r[mgr] != rows[1][eid] {
			out = append(out, person{email: r[email], dept: r[dept], last: r[last]})
		}
	}
	return out, nil
}
