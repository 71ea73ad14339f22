#!/usr/bin/env bash
# Two revisions of Gatehouse measured in one run, alternating, through the real binary:
#   bench/before-after.sh REV_BEFORE REV_AFTER
# Settings (environment):
#   ROUNDS=3            rounds; round 1 runs BEFORE then AFTER, round 2 AFTER then BEFORE, …
#   PEOPLE=100000       people in the HR import
#   ENGINES="sqlite postgres"
#   REQUESTS=2000       requests created per request-rate run
#   CONCURRENCY=8       requests in flight at once
#   REQ_PEOPLE=2000     people of the company the requests are for (REQUESTS ≤ 50 × (REQ_PEOPLE-2))
#   GATEHOUSE_BENCH_PG=postgres://postgres@127.0.0.1:5432  (must allow createdb/dropdb)
#
# Both revisions are built with `git archive REV` into a scratch directory (REV may be anything
# git names: a commit, a branch, main). The HR feed, the catalog and the request driver
# (bench/hrcsv, bench/reqrate) come from this checkout and are the same for both.
#
# For each round, each revision and each engine:
#   import    a fresh database (a new SQLite file; a new PostgreSQL database), `gatehouse serve`,
#             the catalog applied (bench/hrcsv -catalog: a birthright role per department and
#             all-staff), then the wall time of POST /api/v1/hr/imports of PEOPLE people, the
#             request `gatehouse hr import FILE` sends, from sending the file to the answer that
#             it is applied: PEOPLE identities, 2×PEOPLE birthright grants and their audit events
#             in one transaction. Lower is better.
#   requests  a fresh database with the catalog, REQ_PEOPLE people imported and 50 requestable
#             entitlements; the server is left to finish the reconcile the import triggered
#             (idle for 2 s); then REQUESTS access requests created through POST
#             /api/v1/requests, CONCURRENCY at a time, by an operator on behalf of distinct
#             people (bench/reqrate): requests/s over the wall time. Higher is better.
# Prints one line per measurement, then the median of each per revision.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: $0 REV_BEFORE REV_AFTER" >&2; exit 2; }
before=$1
after=$2
rounds=${ROUNDS:-3}
people=${PEOPLE:-100000}
engines=${ENGINES:-sqlite postgres}
requests=${REQUESTS:-2000}
concurrency=${CONCURRENCY:-8}
reqpeople=${REQ_PEOPLE:-2000}
pgbase=${GATEHOUSE_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
tmp=$(mktemp -d)
pgdb=gh_bench_ba_$$
port=$((20000 + RANDOM % 20000))
addr=http://127.0.0.1:$port
export GATEHOUSE_TOKEN=bench-bootstrap-$(date +%s)-$RANDOM-0123456789abcdef
# shellcheck source=bench/lib.sh
. bench/lib.sh
cleanup() { serve_stop; pg_drop "$pgdb"; rm -rf "$tmp"; }
trap cleanup EXIT

go build -o "$tmp/hrcsv" ./bench/hrcsv
go build -o "$tmp/reqrate" ./bench/reqrate
echo "building before=$before ($(git rev-parse --short "$before")) and after=$after ($(git rev-parse --short "$after"))" >&2
build_rev "$before" "$tmp/gh-before"
build_rev "$after" "$tmp/gh-after"
"$tmp/hrcsv" -n "$people" >"$tmp/hr.csv"
"$tmp/hrcsv" -n "$reqpeople" >"$tmp/req-people.csv"
catalog_dir "$tmp/catalog" 50

fresh_db() {
  if [ "$1" = postgres ]; then pg_fresh "$pgdb"; pg_url "$pgdb"; else rm -f "$tmp"/ba.db*; echo "sqlite:$tmp/ba.db"; fi
}
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$tmp/results"; printf '%-22s %-6s round %s  %s\n' "$1" "$2" "$r" "$3"; }

import_run() { # LABEL ENGINE
  local gh=$tmp/gh-$1 secs
  serve_start "$gh" "$(fresh_db "$2")" "$port" "$tmp/serve.log"
  catalog_setup "$gh" "$addr" "$tmp/catalog"
  secs=$(hr_post "$addr" "$tmp/hr.csv")
  serve_stop
  record "import $2 (s)" "$1" "$secs"
}

requests_run() { # LABEL ENGINE
  local gh=$tmp/gh-$1 token out
  serve_start "$gh" "$(fresh_db "$2")" "$port" "$tmp/serve.log"
  company "$gh" "$addr" "$tmp/catalog" "$tmp/req-people.csv"
  token=$(operator_token "$gh" "$addr" "$tmp/req-people.csv")
  settle "$last_pid"
  out=$("$tmp/reqrate" -addr "$addr" -token "$token" -people "$tmp/req-people.csv" -n "$requests" -c "$concurrency")
  serve_stop
  echo "  $out" >&2
  record "requests $2 (/s)" "$1" "$(echo "$out" | sed -n 's/.* rate=\([0-9.]*\).*/\1/p')"
}

echo "before-after: $rounds rounds, $people people, $requests requests at concurrency $concurrency, engines: $engines; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) = 1 ]; then order="before after"; else order="after before"; fi
  for label in $order; do
    for engine in $engines; do
      import_run "$label" "$engine"
      requests_run "$label" "$engine"
    done
  done
done

echo
echo "medians of $rounds rounds; before = $before ($(git rev-parse --short "$before")), after = $after ($(git rev-parse --short "$after")); $(nproc) CPUs, load at the end $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %H:%M') UTC"
printf '%-22s %10s %10s %8s   %s\n' measure before after ratio "all values (before | after)"
cut -f1 "$tmp/results" | awk '!seen[$0]++' | while read -r m; do
  b=$(awk -F'\t' -v m="$m" '$1 == m && $2 == "before" {print $3}' "$tmp/results" | median)
  a=$(awk -F'\t' -v m="$m" '$1 == m && $2 == "after" {print $3}' "$tmp/results" | median)
  bs=$(awk -F'\t' -v m="$m" '$1 == m && $2 == "before" {printf "%s ", $3}' "$tmp/results")
  as=$(awk -F'\t' -v m="$m" '$1 == m && $2 == "after" {printf "%s ", $3}' "$tmp/results")
  printf '%-22s %10s %10s %8s   %s| %s\n' "$m" "$b" "$a" "$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", a / b}')" "$bs" "$as"
done
echo "(ratio = after / before: under 1 is faster for the import, over 1 is faster for requests)"
