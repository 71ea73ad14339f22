#!/usr/bin/env bash
# How an HR import scales with the company, through the real binary:
#   bench/import-scale.sh [SIZES] [REV]
# SIZES is a comma-separated list of company sizes (default 10000,100000); REV a git revision to
# measure (default: this checkout). Settings (environment):
#   ENGINES="sqlite postgres"
#   GATEHOUSE_BENCH_PG=postgres://postgres@127.0.0.1:5432  (must allow createdb/dropdb)
# The server takes files up to 1 GiB (serve --hr-max-mib 1024): a million people is ~130 MiB.
#
# For each size and engine, on a fresh database and a fresh `gatehouse serve`:
#   import    the catalog of bench/hrcsv -catalog, then the wall time of POST /api/v1/hr/imports
#             of N people (N identities, 2×N birthright grants, 3×N audit events, in one
#             transaction), and the server's peak resident memory (VmHWM) after it;
#   next day  the same company a day later (1% movers, 0.5% leavers: bench/hrcsv -move 0.01
#             -leave 0.005): the wall time of its dry run and of its import, and the peak RSS;
#   rss now   the server's resident memory once the import is over (what it keeps);
#   db size   the SQLite file (with its WAL) or pg_database_size;
#   page p99  200 filtered pages of identities (department and a name prefix, 50 a page).
# The leaver guard is raised for the next day (0.5% leavers is within its default anyway).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${1:-10000,100000}
rev=${2:-}
engines=${ENGINES:-sqlite postgres}
pgbase=${GATEHOUSE_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
tmp=$(mktemp -d)
pgdb=gh_bench_scale_$$
port=$((20000 + RANDOM % 20000))
addr=http://127.0.0.1:$port
export GATEHOUSE_TOKEN=bench-bootstrap-$(date +%s)-$RANDOM-0123456789abcdef
# shellcheck source=bench/lib.sh
. bench/lib.sh
export SERVE_ARGS="--hr-max-mib 1024"
cleanup() { serve_stop; pg_drop "$pgdb"; rm -rf "$tmp"; }
trap cleanup EXIT

go build -o "$tmp/hrcsv" ./bench/hrcsv
if [ -n "$rev" ]; then build_rev "$rev" "$tmp/gatehouse"; else CGO_ENABLED=0 go build -o "$tmp/gatehouse" ./cmd/gatehouse; fi
catalog_dir "$tmp/catalog" 0

mb() { awk -v k="$1" 'BEGIN {printf "%d", k / 1024}'; }
status_kb() { awk -v f="$2" '$1 == f":" {print $2}' "/proc/$1/status"; }

# post FILE QUERY: the wall seconds of one import request; fails unless it answers 200 or 201.
post() {
  local file=$1 query=$2 t0 t1 code
  t0=$(date +%s.%N)
  code=$(curl -sS -o "$tmp/answer.json" -w '%{http_code}' --max-time 7200 -X POST \
    -H "Authorization: Bearer $GATEHOUSE_TOKEN" -H 'Content-Type: text/csv' \
    -H "X-HR-File: $(basename "$file")" --data-binary "@$file" "$addr/api/v1/hr/imports$query")
  t1=$(date +%s.%N)
  case $code in 200|201) ;; *) echo "import of $file$query: HTTP $code: $(head -c 600 "$tmp/answer.json")" >&2; return 1 ;; esac
  if [ -z "$query" ] && ! grep -q '"status": *"applied"' "$tmp/answer.json"; then
    echo "import of $file: not applied: $(head -c 600 "$tmp/answer.json")" >&2; return 1
  fi
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}'
}

page_p99() {
  local url="$addr/api/v1/identities?department=Finance&q=a&limit=50" times
  for _ in $(seq 1 20); do curl -fsS -H "Authorization: Bearer $GATEHOUSE_TOKEN" "$url" >/dev/null; done
  times=$(for _ in $(seq 1 200); do curl -fsS -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $GATEHOUSE_TOKEN" "$url"; done | sort -n)
  echo "$times" | sed -n '198p' | awk '{printf "%.1f", $1 * 1000}'
}

printf '%-8s %-9s %9s %9s %10s %10s %9s %9s %9s %9s\n' engine people import_s peak_MB next_dry_s next_app_s next_MB rss_MB db_MB page_p99ms
for n in ${sizes//,/ }; do
  "$tmp/hrcsv" -n "$n" >"$tmp/day1.csv"
  "$tmp/hrcsv" -n "$n" -move 0.01 -leave 0.005 >"$tmp/day2.csv"
  for engine in $engines; do
    case $engine in
      sqlite) rm -f "$tmp"/scale.db*; db=sqlite:$tmp/scale.db ;;
      postgres) pg_fresh "$pgdb"; db=$(pg_url "$pgdb") ;;
      *) echo "unknown engine $engine" >&2; exit 2 ;;
    esac
    serve_start "$tmp/gatehouse" "$db" "$port" "$tmp/serve.log"
    pid=$last_pid
    catalog_setup "$tmp/gatehouse" "$addr" "$tmp/catalog"
    t_import=$(post "$tmp/day1.csv" "")
    peak1=$(status_kb "$pid" VmHWM)
    settle "$pid"
    t_dry=$(post "$tmp/day2.csv" "?dry_run=true")
    t_next=$(post "$tmp/day2.csv" "")
    peak2=$(status_kb "$pid" VmHWM)
    settle "$pid"
    rss=$(status_kb "$pid" VmRSS)
    case $engine in
      sqlite) size=$(du -ck "$tmp"/scale.db* | tail -n1 | cut -f1) ;;
      postgres) size=$(($(psql "$(pg_url "$pgdb")" -tAc "SELECT pg_database_size(current_database())") / 1024)) ;;
    esac
    p99=$(page_p99)
    printf '%-8s %-9s %9s %9s %10s %10s %9s %9s %9s %9s\n' "$engine" "$n" "$t_import" "$(mb "$peak1")" "$t_dry" "$t_next" \
      "$(mb "$peak2")" "$(mb "$rss")" "$(mb "$size")" "$p99"
    serve_kill "$pid"
    [ "$engine" = postgres ] && pg_drop "$pgdb"
  done
done
