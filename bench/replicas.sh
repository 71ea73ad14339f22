#!/usr/bin/env bash
# Request creation through one `gatehouse serve` against two replicas on one PostgreSQL database:
#   bench/replicas.sh [REV]          (REV: the revision to build, default HEAD)
# Settings (environment):
#   ROUNDS=3  REQUESTS=2000  CONCURRENCY=8  REQ_PEOPLE=2000
#   GATEHOUSE_BENCH_PG=postgres://postgres@127.0.0.1:5432  (must allow createdb/dropdb)
#
# One fresh PostgreSQL database; replica A (`gatehouse serve`) sets it up as bench/before-after.sh
# does for its request runs (the catalog, REQ_PEOPLE people, 50 requestable entitlements, an
# operator's token) and is left to go idle. Then, each round:
#   one        only A runs; REQUESTS requests through A
#   then replica B starts on the same database (another port) and both are left to go idle;
#   A of two   REQUESTS requests through A alone, B running idle
#   both       REQUESTS requests round robin over A and B (request k to k mod 2)
#   (these two in turn: A of two first in odd rounds, both first in even ones); then B stops.
# Every run has the same CONCURRENCY requests in flight in all (bench/reqrate), and asks for
# distinct person/entitlement pairs, so the database grows by the same requests for each.
# Prints requests/s of each run and the medians. On one machine both replicas share its CPUs
# with PostgreSQL and the client: the figure says what a second replica costs or gains there,
# not what it gains on a second machine.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-HEAD}
rounds=${ROUNDS:-3}
requests=${REQUESTS:-2000}
concurrency=${CONCURRENCY:-8}
reqpeople=${REQ_PEOPLE:-2000}
pgbase=${GATEHOUSE_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
tmp=$(mktemp -d)
pgdb=gh_bench_replicas_$$
porta=$((20000 + RANDOM % 20000))
portb=$((porta + 1))
a=http://127.0.0.1:$porta
b=http://127.0.0.1:$portb
export GATEHOUSE_TOKEN=bench-bootstrap-$(date +%s)-$RANDOM-0123456789abcdef
# shellcheck source=bench/lib.sh
. bench/lib.sh
cleanup() { serve_stop; pg_drop "$pgdb"; rm -rf "$tmp"; }
trap cleanup EXIT

if [ $((rounds * 3 * requests)) -gt $((50 * (reqpeople - 2))) ]; then
  echo "ROUNDS×3×REQUESTS must be at most 50×(REQ_PEOPLE-2): raise REQ_PEOPLE" >&2; exit 2
fi
go build -o "$tmp/hrcsv" ./bench/hrcsv
go build -o "$tmp/reqrate" ./bench/reqrate
build_rev "$rev" "$tmp/gh"
gh=$tmp/gh
"$tmp/hrcsv" -n "$reqpeople" >"$tmp/people.csv"
catalog_dir "$tmp/catalog" 50

pg_fresh "$pgdb"
db=$(pg_url "$pgdb")
serve_start "$gh" "$db" "$porta" "$tmp/serve-a.log"
pida=$last_pid
company "$gh" "$a" "$tmp/catalog" "$tmp/people.csv"
token=$(operator_token "$gh" "$a" "$tmp/people.csv")
settle "$pida"

offset=0
measure() { # LABEL ADDRS
  local out
  out=$("$tmp/reqrate" -addr "$2" -token "$token" -people "$tmp/people.csv" -n "$requests" -c "$concurrency" -offset "$offset")
  offset=$((offset + requests))
  printf '%-9s round %s  %s\n' "$1" "$r" "$out"
  printf '%s\t%s\n' "$1" "$(echo "$out" | sed -n 's/.* rate=\([0-9.]*\).*/\1/p')" >>"$tmp/results"
}

echo "replicas: $rev ($(git rev-parse --short "$rev")), $rounds rounds of $requests requests at concurrency $concurrency, PostgreSQL; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
  measure one "$a"
  serve_start "$gh" "$db" "$portb" "$tmp/serve-b.log"
  pidb=$last_pid
  settle "$pidb"; settle "$pida"
  if [ $((r % 2)) = 1 ]; then
    measure "A of two" "$a"; measure both "$a,$b"
  else
    measure both "$a,$b"; measure "A of two" "$a"
  fi
  serve_kill "$pidb"
done

echo
echo "requests/s, medians of $rounds rounds ($requests requests, concurrency $concurrency; $(nproc) CPUs, load at the end $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %H:%M') UTC)"
for m in one "A of two" both; do
  printf '%-9s %8s   (%s)\n' "$m" "$(awk -F'\t' -v m="$m" '$1 == m {print $2}' "$tmp/results" | median)" \
    "$(awk -F'\t' -v m="$m" '$1 == m {printf "%s ", $2}' "$tmp/results" | sed 's/ $//')"
done
