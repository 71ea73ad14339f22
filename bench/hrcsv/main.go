// Command hrcsv writes a synthetic HR feed for benchmarks:
//
//	go run ./bench/hrcsv -n 100000 > hr.csv
//	go run ./bench/hrcsv -n 100000 -move 0.01 -leave 0.005 > hr-next.csv
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
	flag.Parse()
	if *catalog {
		fmt.Print(hrgen.Catalog())
		return
	}
	if err := hrgen.Write(os.Stdout, *n, hrgen.Options{Seed: *seed, MoveFraction: *move, LeaveFraction: *leave}); err != nil {
		fmt.Fprintln(os.Stderr, "hrcsv:", err)
		os.Exit(1)
	}
}
