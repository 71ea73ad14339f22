// Command hrcsv writes a synthetic HR feed for benchmarks (the CSV of docs/hr.md):
//
//	go run ./bench/hrcsv -n 100000 > hr.csv
//	go run ./bench/hrcsv -n 100000 -move 0.01 -leave 0.005 > hr-next.csv
//
// and, with -catalog, the catalog that matches it: one manual system `dir`, an entitlement and
// a birthright role per department and all-staff (with -requestable N, also N entitlements
// dir/req-00… that people request, as bench/reqrate and bench/mixload do). The system's owner is the top of the company,
// person0000000@example.com, the first person of every feed (-owner names another). A catalog's
// owner must exist when it is applied, so on a fresh `gatehouse serve` import the feed first:
//
//	gatehouse hr import hr.csv
//	go run ./bench/hrcsv -catalog > catalog.yaml
//	gatehouse catalog apply catalog.yaml --yes
//
// (the apply grants everyone their birthright access). To apply the catalog first, so that the
// import itself grants it, create its owner before: `gatehouse identities create --email
// bench-owner@example.com --kind service --department IT` and `-owner bench-owner@example.com`
// (what bench/lib.sh does).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/gatehouse/gatehouse/bench/hrgen"
)

func main() {
	n := flag.Int("n", 1000, "number of people")
	seed := flag.Uint64("seed", 1, "random seed (the same seed gives the same company)")
	move := flag.Float64("move", 0, "fraction of people who change department")
	leave := flag.Float64("leave", 0, "fraction of people terminated")
	catalog := flag.Bool("catalog", false, "write the matching catalog YAML instead")
	requestable := flag.Int("requestable", 0, "with -catalog: also this many requestable entitlements dir/req-00… (approval: manager, owner), for bench/reqrate and bench/mixload")
	owner := flag.String("owner", hrgen.TopEmail, "with -catalog: the email of the system's owner (an identity with it must exist when the catalog is applied)")
	flag.Parse()
	if *catalog {
		fmt.Print(hrgen.CatalogOwnedBy(*owner, *requestable))
		return
	}
	if err := hrgen.Write(os.Stdout, *n, hrgen.Options{Seed: *seed, MoveFraction: *move, LeaveFraction: *leave}); err != nil {
		fmt.Fprintln(os.Stderr, "hrcsv:", err)
		os.Exit(1)
	}
}
