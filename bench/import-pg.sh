#!/usr/bin/env bash
# HR imports of 100,000 people on SQLite and on PostgreSQL in one run, and the ratio between them:
#   bench/import-pg.sh             this checkout
#   bench/import-pg.sh REV         REV (before) and this checkout (after), alternating
# Settings (environment):
#   ROUNDS=1                 rounds; with REV, round 1 runs before then after, round 2 after then before, …
#   BENCH=BenchmarkImportHR  which sub-benchmarks (a -bench pattern: BenchmarkImportHR/apply, …)
#   GATEHOUSE_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable
#                            the PostgreSQL the benchmark makes its schemas in (CREATE SCHEMA rights)
#
# It runs the Go benchmark BenchmarkImportHR (internal/service/hr_bench_test.go) with
# -benchtime 1x: for each step, SQLite then PostgreSQL, each on a fresh database with the
# benchmark catalog (bench/hrgen: a birthright role per department and all-staff):
#   dry-run       parse and plan 100,000 joiners
#   apply         the same, written: 100,000 identities, 200,000 grants, 300,000 audit events
#                 and the import's evidence, in one transaction
#   next-dry-run  a second feed (1% movers, 0.5% leavers) planned against the 100,000 stored
#   next-apply    the same, written
# A revision's own code is measured with this checkout's benchmark file, so a revision from
# before the benchmark measured PostgreSQL is measured the same way.
# Prints each figure as it is taken, then per step and revision: SQLite, PostgreSQL (seconds,
# medians of the rounds) and PostgreSQL / SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -le 1 ] || { echo "usage: $0 [REV_BEFORE]" >&2; exit 2; }
rounds=${ROUNDS:-1}
bench=${BENCH:-BenchmarkImportHR}
export GATEHOUSE_TEST_POSTGRES=${GATEHOUSE_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

labels=after
go test -c -o "$tmp/after.test" ./internal/service
if [ $# = 1 ]; then
  labels="before after"
  commit=$(git rev-parse --verify "$1^{commit}")
  echo "building before = $1 ($(git rev-parse --short "$commit")) with this checkout's benchmark" >&2
  mkdir -p "$tmp/src"
  git archive "$commit" | tar -x -C "$tmp/src"
  cp internal/service/hr_bench_test.go "$tmp/src/internal/service/"
  (cd "$tmp/src" && go test -c -trimpath -o "$tmp/before.test" ./internal/service)
fi

echo "import-pg: $rounds round(s) of $bench; revisions: $labels; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for r in $(seq 1 "$rounds"); do
  order=$labels
  if [ $((r % 2)) = 0 ]; then order=$(echo "$labels" | awk '{for (i = NF; i > 0; i--) printf "%s%s", $i, (i > 1 ? " " : "")}'); fi
  for label in $order; do
    (cd internal/service && "$tmp/$label.test" -test.run '^$' -test.bench "$bench" -test.benchtime 1x) 2>&1 |
      tee "$tmp/out" | awk -v l="$label" -v r="$r" '
        /^Benchmark[^ ]*\/[^ ]*\/(sqlite|postgres)/ && / ns\/op/ {
          split($1, p, "/"); sub(/-[0-9]+$/, "", p[3])
          printf "%s\t%s\t%s\t%.2f\n", l, p[2], p[3], $3 / 1e9 > "/dev/stderr"
          printf "%-7s round %s  %-13s %-9s %7.2f s\n", l, r, p[2], p[3], $3 / 1e9; fflush()
        }' 2>>"$tmp/results"
    if grep -q '^--- FAIL' "$tmp/out"; then cat "$tmp/out" >&2; exit 1; fi
  done
done

median() { sort -n | awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]; else print "-"}'; }
echo
echo "medians of $rounds round(s), seconds; $(nproc) CPUs, load at the end $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %H:%M') UTC"
printf '%-14s %-7s %9s %10s %8s\n' step rev sqlite postgres pg/sqlite
cut -f2 "$tmp/results" | awk '!seen[$0]++' | while read -r step; do
  for label in $labels; do
    s=$(awk -F'\t' -v l="$label" -v s="$step" '$1 == l && $2 == s && $3 == "sqlite" {print $4}' "$tmp/results" | median)
    p=$(awk -F'\t' -v l="$label" -v s="$step" '$1 == l && $2 == s && $3 == "postgres" {print $4}' "$tmp/results" | median)
    printf '%-14s %-7s %9s %10s %8s\n' "$step" "$label" "$s" "$p" "$(awk -v a="$p" -v b="$s" 'BEGIN {if (b + 0 > 0 && a + 0 > 0) printf "%.2f", a / b; else print "-"}')"
  done
done
