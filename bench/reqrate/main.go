// Command reqrate creates access requests through the HTTP API of running `gatehouse serve`
// instances, a fixed number at a fixed concurrency, and prints the rate:
//
//	go run ./bench/reqrate -addr http://127.0.0.1:8080 -token "$TOKEN" -people hr.csv -n 2000 -c 8
//
// Each request is the token's holder (an operator) asking on behalf of one person of the HR feed
// (-people; its first row, the top of the company, the top's direct reports, and its last row,
// the requester, are skipped: each would leave a step with no one to decide it) for one entitlement of -entitlement
// (a fmt pattern taking 0..-entitlements-1): request k asks for person k mod P and entitlement
// k div P, so no two requests of a run, nor of runs with distinct -offset ranges, collide on
// an open request. With several -addr (comma-separated), request k goes to address k mod the
// count: round robin over replicas of one database.
//
// It speaks only the public API (POST /api/v1/requests), so the same program measures any
// revision's binary. One line is printed:
//
//	requests=2000 concurrency=8 servers=1 seconds=3.210 rate=623.1 p50_ms=11.9 p99_ms=40.2
//
// rate is requests divided by the wall time from the first request sent to the last answer
// received. Any answer but 201 Created with a request pending approval stops the run with exit
// code 1.
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
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	addrs := flag.String("addr", os.Getenv("GATEHOUSE_ADDR"), "server base URLs, comma-separated (round robin)")
	token := flag.String("token", os.Getenv("GATEHOUSE_TOKEN"), "API token of an operator")
	people := flag.String("people", "", "HR feed CSV whose people (after the first row) are the beneficiaries")
	ent := flag.String("entitlement", "dir/req-%02d", "entitlement id pattern, formatted with 0..entitlements-1")
	ents := flag.Int("entitlements", 50, "number of requestable entitlements the pattern names")
	n := flag.Int("n", 2000, "requests to create")
	c := flag.Int("c", 8, "requests in flight at once")
	offset := flag.Int("offset", 0, "index of the first request (distinct runs on one database need distinct ranges)")
	why := flag.String("justification", "quarter-end close of the books for the finance audit", "justification of every request")
	flag.Parse()
	if err := run(strings.Split(*addrs, ","), *token, *people, *ent, *ents, *n, *c, *offset, *why); err != nil {
		fmt.Fprintln(os.Stderr, "reqrate:", err)
		os.Exit(1)
	}
}

func run(addrs []string, token, peopleFile, entPattern string, ents, n, c, offset int, why string) error {
	if len(addrs) == 0 || addrs[0] == "" || token == "" || peopleFile == "" {
		return errors.New("-addr, -token and -people are required")
	}
	if n <= 0 || c <= 0 {
		return errors.New("-n and -c must be positive")
	}
	emails, err := beneficiaries(peopleFile)
	if err != nil {
		return err
	}
	if last := offset + n - 1; last/len(emails) >= ents {
		return fmt.Errorf("request %d needs entitlement %d: only %d entitlements for %d people", last, last/len(emails), ents, len(emails))
	}
	bodies := make([][]byte, n)
	for i := range bodies {
		k := offset + i
		b, err := json.Marshal(map[string]string{"for": emails[k%len(emails)], "entitlement": fmt.Sprintf(entPattern, k/len(emails)), "justification": why})
		if err != nil {
			return fmt.Errorf("encode request %d: %w", k, err)
		}
		bodies[i] = b
	}
	hc := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c}}
	// Warm one connection per server, so the first requests do not also pay for TCP setup.
	for _, a := range addrs {
		if err := get(hc, a, token); err != nil {
			return err
		}
	}

	lat := make([]time.Duration, n)
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for failed.Load() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t := time.Now()
				if err := post(hc, addrs[i%len(addrs)], token, bodies[i]); err != nil {
					err = fmt.Errorf("request %d: %w", offset+i, err)
					failed.CompareAndSwap(nil, &err)
					return
				}
				lat[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if p := failed.Load(); p != nil {
		return *p
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Printf("requests=%d concurrency=%d servers=%d seconds=%.3f rate=%.1f p50_ms=%.1f p99_ms=%.1f\n",
		n, c, len(addrs), elapsed.Seconds(), float64(n)/elapsed.Seconds(), ms(lat[n/2]), ms(lat[min(n-1, n*99/100)]))
	return nil
}

// beneficiaries reads the emails of the feed's people but the first and the last. The last is
// the requester (bench/lib.sh makes them the operator), who manages nobody in a bench/hrgen
// feed (person i's manager is person (i-1)/8), so no beneficiary's manager step loses its
// approver to the rule that the requester decides nothing. The first, the top of the company,
// has no manager: that step falls back to the system owner, who already decides the owner step.
// Nor are the top's direct reports: `bench/hrcsv -catalog` makes the top the system's owner, who
// would then decide both steps of their requests (one person decides at most one step).
func beneficiaries(file string) ([]string, error) {
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
	col, eid, mgr := slices.Index(rows[0], "email"), slices.Index(rows[0], "employee_id"), slices.Index(rows[0], "manager_id")
	if col < 0 || eid < 0 || mgr < 0 {
		return nil, fmt.Errorf("people %s: need the columns email, employee_id and manager_id", file)
	}
	out := make([]string, 0, len(rows)-3)
	for _, r := range rows[2 : len(rows)-1] {
		if r[mgr] != rows[1][eid] {
			out = append(out, r[col])
		}
	}
	return out, nil
}

func post(hc *http.Client, addr, token string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, addr+"/api/v1/requests", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", addr, err)
	}
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("%s: %s: %s", addr, resp.Status, bytes.TrimSpace(answer))
	}
	// A request created returned (a justification found weak) skips routing: it would be
	// measuring less than the runs it is compared with.
	var created struct {
		State string `json:"state"`
	}
	if err := json.Unmarshal(answer, &created); err != nil {
		return fmt.Errorf("%s: decode answer: %w", addr, err)
	}
	if created.State != "pending_approval" {
		return fmt.Errorf("%s: created %s, not pending_approval: %s", addr, created.State, bytes.TrimSpace(answer))
	}
	return nil
}

func get(hc *http.Client, addr, token string) error {
	req, err := http.NewRequest(http.MethodGet, addr+"/api/v1/me", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", addr, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("%s: read answer: %w", addr, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: GET /api/v1/me: %s", addr, resp.Status)
	}
	return nil
}
