#!/usr/bin/env bash
# A 90/10 read/write mix of the public API against `gatehouse serve`, on SQLite and PostgreSQL:
#   bench/mixed-load.sh [REV ...]        (default: HEAD; two or more: interleaved, see ROUNDS)
# Settings (environment):
#   PEOPLE=20000        people in the company (HR import)
#   CONNS=32            connections, each sending one request after another (bench/mixload)
#   DURATION=60s        how long each run drives the server
#   READS=0.9           share of reads
#   ROUNDS=1            rounds; round 1 runs the revisions in the order given, round 2 reversed, …
#   ENGINES="sqlite postgres"
#   GATEHOUSE_BENCH_PG=postgres://postgres@127.0.0.1:5432  (must allow createdb/dropdb)
#
# Each revision is built from `git archive REV` (bench/lib.sh build_rev: a commit, a branch,
# HEAD). Every run starts from nothing, as a new user would: a fresh database, `gatehouse serve`
# (no scheduled reconcile), the catalog of bench/hrcsv -catalog (one system `dir` with a manual
# connector — its reconciles write tasks for people and call nothing, so they stay cheap — an
# entitlement and a birthright role per department and all-staff) plus 50 requestable
# entitlements dir/req-NN (approval: manager, owner), then PEOPLE people by HR import (two
# birthright grants each), then the last person of the feed made an operator with a token. The
# server is left to go idle (the reconcile the import queued), then bench/mixload drives it for
# DURATION over CONNS connections: reads of identity pages (department filter), identity
# search, one identity, a person's grants, pending requests, the system's entitlements and
# /api/v1/me; writes of access requests, direct grants and revokes of those grants, each write
# triggering a reconcile of `dir` as in production.
#
# Prints one line per run, then per revision and engine the median of each figure, and the
# PostgreSQL/SQLite ratio of the rates. Besides the rate and latencies (bench/mixload), each run
# reports the CPU the gatehouse process spent per request answered (server_cpu_ms_per_req,
# from /proc: user + system; PostgreSQL's own CPU is not in it): on a machine shared with other
# work the rate says how much CPU the run got, this says what a request costs.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- HEAD
people=${PEOPLE:-20000}
conns=${CONNS:-32}
duration=${DURATION:-60s}
reads=${READS:-0.9}
rounds=${ROUNDS:-1}
engines=${ENGINES:-sqlite postgres}
pgbase=${GATEHOUSE_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
tmp=$(mktemp -d)
pgdb=gh_bench_mix_$$
port=$((20000 + RANDOM % 20000))
addr=http://127.0.0.1:$port
export GATEHOUSE_TOKEN=bench-bootstrap-$(date +%s)-$RANDOM-0123456789abcdef
# shellcheck source=bench/lib.sh
. bench/lib.sh
cleanup() { serve_stop; pg_drop "$pgdb"; rm -rf "$tmp"; }
trap cleanup EXIT

go build -o "$tmp/hrcsv" ./bench/hrcsv
go build -o "$tmp/mixload" ./bench/mixload
revs=()
for rev in "$@"; do revs+=("$(git rev-parse --short "$rev^{commit}")"); done # fixed now: HEAD may move while this runs
for i in "${!revs[@]}"; do
  echo "building ${revs[$i]}" >&2
  build_rev "${revs[$i]}" "$tmp/gh-$i"
done
"$tmp/hrcsv" -n "$people" >"$tmp/people.csv"
catalog_dir "$tmp/catalog" 50

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
fresh_db() {
  if [ "$1" = postgres ]; then pg_fresh "$pgdb"; pg_url "$pgdb"; else rm -f "$tmp"/mix.db*; echo "sqlite:$tmp/mix.db"; fi
}

# run I ENGINE: one measurement of revision I on ENGINE.
run() {
  local i=$1 engine=$2 gh=$tmp/gh-$1 token out
  serve_start "$gh" "$(fresh_db "$engine")" "$port" "$tmp/serve.log"
  company "$gh" "$addr" "$tmp/catalog" "$tmp/people.csv"
  token=$(operator_token "$gh" "$addr" "$tmp/people.csv")
  settle "$last_pid"
  cpu0=$(cpu_ticks "$last_pid")
  out=$("$tmp/mixload" -addr "$addr" -token "$token" -people "$tmp/people.csv" -c "$conns" -d "$duration" -reads "$reads" 2>"$tmp/mixload.err") ||
    { cat "$tmp/mixload.err" >&2; echo "$out" >&2; serve_stop; return 1; }
  cpu1=$(cpu_ticks "$last_pid")
  serve_stop
  # The server's own CPU per request answered (user + system, of the process only: not
  # PostgreSQL's, not the client's): what bounds the rate on an idle machine.
  out="$out server_cpu_ms_per_req=$(echo "$out" | awk -v t="$((cpu1 - cpu0))" -v hz="$(getconf CLK_TCK)" '{for (i = 1; i <= NF; i++) if ($i ~ /^requests=/) n = substr($i, 10)} END {printf "%.2f", t * 1000 / hz / n}')"
  sed 's/^/    /' "$tmp/mixload.err" >&2
  printf '%s\t%s\t%s\n' "$i" "$engine" "$out" >>"$tmp/results"
  printf '%-10s %-8s round %s  %s\n' "${revs[$i]}" "$engine" "$r" "$out"
}

echo "mixed-load: ${#revs[@]} revision(s), $rounds round(s), $people people, $conns connections, $duration, reads $reads, engines: $engines; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for r in $(seq 1 "$rounds"); do
  order=$(seq 0 $((${#revs[@]} - 1)))
  [ $((r % 2)) = 1 ] || order=$(echo "$order" | tac)
  for i in $order; do
    for engine in $engines; do run "$i" "$engine"; done
  done
done

field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
echo
echo "medians of $rounds round(s); $(nproc) CPUs, load at the end $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %H:%M') UTC"
printf '%-10s %-9s %9s %9s %9s %9s %9s %7s %9s\n' revision engine 'req/s' 'read p50' 'read p99' 'write p50' 'write p99' errors 'cpu ms/r'
for i in "${!revs[@]}"; do
  for engine in $engines; do
    rows=$(awk -F'\t' -v i="$i" -v e="$engine" '$1 == i && $2 == e {print $3}' "$tmp/results")
    printf '%-10s %-9s' "${revs[$i]}" "$engine"
    for f in rate read_p50_ms read_p99_ms write_p50_ms write_p99_ms errors server_cpu_ms_per_req; do
      printf ' %9s' "$(echo "$rows" | field "$f" | median)"
    done
    echo
  done
  s=$(awk -F'\t' -v i="$i" '$1 == i && $2 == "sqlite" {print $3}' "$tmp/results" | field rate | median)
  p=$(awk -F'\t' -v i="$i" '$1 == i && $2 == "postgres" {print $3}' "$tmp/results" | field rate | median)
  if [ "$s" != - ] && [ "$p" != - ]; then
    echo "$(git rev-parse --short "${revs[$i]}"): PostgreSQL/SQLite rate $(awk -v a="$p" -v b="$s" 'BEGIN {printf "%.2f", a / b}')"
  fi
done
echo "(latencies in ms; rate = requests answered / wall seconds, reads and writes together; cpu ms/r = CPU"
echo " of the gatehouse process per request answered: without PostgreSQL's own and the client's)"
