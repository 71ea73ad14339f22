#!/usr/bin/env bash
# `gatehouse hr export` and `hr import --delta` against a company of N people (default 100,000),
# through the real binary and a real `gatehouse serve`, beside floors measured in the same run.
#   bench/hr-export-delta.sh [ENGINE] [PEOPLE] [ROUNDS]    (sqlite|postgres, 100000, 3)
# PostgreSQL: GATEHOUSE_BENCH_PG (default postgres://postgres@127.0.0.1:5432) must let us
# create and drop the databases gh_bench_export and gh_bench_export_base.
#
# 1. Export: wall time and peak RSS (/usr/bin/time) of `hr export -o FILE`, interleaved with
#    the floor, a CSV of the same columns straight from the database (the sqlite3 CLI or psql
#    \copy). The server is restarted on the stored company first, so its peak RSS (VmHWM) is
#    the export's, not the import's; the same is done for a 10,000-person company to compare.
# 2. Delta: 100 changed rows (30 joiners, ~50 movers, ~20 leavers) as `hr import --delta`
#    against the same change as a full snapshot, dry run and apply. Every apply starts from a
#    copy of the stored company; the four runs of a round are interleaved.
# Needs sqlite3 (or psql/createdb/dropdb) and /usr/bin/time. Prints one line per measurement
# and medians at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
engine=${1:-sqlite}
n=${2:-100000}
rounds=${3:-3}
small=10000
pgbase=${GATEHOUSE_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
tmp=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
export GATEHOUSE_ADDR=http://127.0.0.1:$port
export GATEHOUSE_TOKEN=bench-bootstrap-$(date +%s)-$RANDOM-0123456789abcdef
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  if [ "$engine" = postgres ]; then
    dropdb --if-exists --maintenance-db="$pgbase/postgres" gh_bench_export 2>/dev/null || true
    dropdb --if-exists --maintenance-db="$pgbase/postgres" gh_bench_export_base 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
go build -o "$tmp/gatehouse" ./cmd/gatehouse
gh=$tmp/gatehouse
log() { echo "$*" | tee -a "$tmp/results"; }

db() { if [ "$engine" = postgres ]; then echo "$pgbase/gh_bench_export?sslmode=disable"; else echo "sqlite:$tmp/bench.db"; fi; }
start() {
  # No scheduled reconcile: a full one of 100,000 people at start would run beside what is
  # measured. The reconcile an apply triggers still runs (after the CLI has its answer).
  GATEHOUSE_BOOTSTRAP_TOKEN=$GATEHOUSE_TOKEN "$gh" serve --db "$(db)" --addr "127.0.0.1:$port" \
    --reconcile-interval 0 2>"$tmp/serve.log" &
  pid=$!
  for _ in $(seq 1 300); do curl -fsS "$GATEHOUSE_ADDR/readyz" >/dev/null 2>&1 && return; sleep 0.1; done
  echo "serve did not start" >&2; tail "$tmp/serve.log" >&2; exit 1
}
# reconciled: wait for the reconcile an import triggered, so the saved company has none pending.
reconciled() {
  for _ in $(seq 1 600); do grep -q -e 'msg=reconciled' -e 'reconcile failed' "$tmp/serve.log" && return; sleep 0.2; done
  echo "no reconcile after the import" >&2; exit 1
}
# settle: let a started server finish what it does at start (a reconcile job left queued would
# run now, block the first request behind it and take ~900 MB at 100,000 people), that is wait
# until it uses under 5% of a CPU for 2 s; then forget its peak RSS so far (clear_refs 5 resets
# VmHWM), so the peak reported is what the measured commands cost.
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
settle() {
  local a b quiet=0
  for _ in $(seq 1 600); do
    a=$(cpu); sleep 1; b=$(cpu)
    if [ $((b - a)) -lt 5 ]; then quiet=$((quiet + 1)); else quiet=0; fi
    [ $quiet -ge 2 ] && break
  done
  echo 5 >"/proc/$pid/clear_refs"
  grep -h 'msg=reconciled' "$tmp/serve.log" | sed 's/^/  at start: /' >&2 || true
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }
kb() { awk "/^$1:/{print \$2}" "/proc/$pid/status"; }
# fresh empties the database; save keeps it as the base company; restore goes back to it.
fresh() {
  if [ "$engine" = postgres ]; then
    dropdb --if-exists --maintenance-db="$pgbase/postgres" gh_bench_export; createdb --maintenance-db="$pgbase/postgres" gh_bench_export
  else rm -f "$tmp"/bench.db*; fi
}
save() {
  if [ "$engine" = postgres ]; then
    dropdb --if-exists --maintenance-db="$pgbase/postgres" gh_bench_export_base
    createdb --maintenance-db="$pgbase/postgres" -T gh_bench_export gh_bench_export_base
  else mkdir -p "$tmp/base"; rm -f "$tmp"/base/*; cp "$tmp"/bench.db* "$tmp/base/"; fi
}
restore() {
  if [ "$engine" = postgres ]; then
    dropdb --if-exists --maintenance-db="$pgbase/postgres" gh_bench_export
    createdb --maintenance-db="$pgbase/postgres" -T gh_bench_export_base gh_bench_export
  else rm -f "$tmp"/bench.db*; cp "$tmp"/base/* "$tmp/"; fi
}
# timed LABEL CMD...: wall seconds and peak RSS (KB) of one command, appended to results.
timed() {
  local label=$1; shift
  /usr/bin/time -f '%e %M' -o "$tmp/time" "$@" >"$tmp/out" 2>&1 || { cat "$tmp/out" >&2; exit 1; }
  read -r s m <"$tmp/time"
  log "$label wall_s=$s rss_mb=$((m / 1024))"
}
cols="employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date"
floor() {
  if [ "$engine" = postgres ]; then
    psql -q -d "$pgbase/gh_bench_export" -c "\\copy (SELECT $cols, attributes::jsonb->>'cost_center' AS cost_center FROM identities WHERE kind = 'person' AND employee_id <> '' ORDER BY id) TO '$tmp/floor.csv' CSV HEADER"
  else
    sqlite3 -csv -header "$tmp/bench.db" "SELECT $cols, json_extract(attributes, '$.cost_center') AS cost_center FROM identities WHERE kind = 'person' AND employee_id <> '' ORDER BY id" >"$tmp/floor.csv"
  fi
}
export -f floor; export engine pgbase tmp cols

go run ./bench/hrcsv -catalog -owner bench-owner@example.com >"$tmp/catalog.yaml"
# company SIZE: a fresh database holding SIZE people (catalog applied, snapshot imported), saved.
company() {
  fresh; start
  "$gh" identities create --email bench-owner@example.com --kind service --department IT --reason bench >/dev/null
  "$gh" catalog apply "$tmp/catalog.yaml" --yes >/dev/null
  go run ./bench/hrcsv -n "$1" >"$tmp/hr-$1.csv"
  # The setup import goes by curl: on a loaded machine it can outlast the CLI's 2-minute limit.
  timed "setup import of $1 people ($engine)" curl -fsS -X POST -H "Authorization: Bearer $GATEHOUSE_TOKEN" \
    -H 'Content-Type: text/csv' -H "X-HR-File: hr-$1.csv" --data-binary "@$tmp/hr-$1.csv" "$GATEHOUSE_ADDR/api/v1/hr/imports"
  reconciled; sleep 3; stop; save  # the job queue records the job done a moment after
}
# exports SIZE: ROUNDS exports interleaved with the floor on a freshly started server.
exports() {
  restore; start; settle
  log "export $1 people ($engine): server RSS at start $(($(kb VmRSS) / 1024)) MB"
  for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) = 1 ]; then
      timed "export $1 $engine gatehouse" "$gh" hr export -o "$tmp/export.csv"; timed "export $1 $engine floor" bash -c floor
    else
      timed "export $1 $engine floor" bash -c floor; timed "export $1 $engine gatehouse" "$gh" hr export -o "$tmp/export.csv"
    fi
  done
  log "export $1 people ($engine): server RSS after $(($(kb VmRSS) / 1024)) MB, peak while exporting $(($(kb VmHWM) / 1024)) MB; rows: export $(($(wc -l <"$tmp/export.csv") - 1)), floor $(($(wc -l <"$tmp/floor.csv") - 1))"
  stop
}

company "$small"; exports "$small"
company "$n"; exports "$n"

# The change: 30 joiners, movers and leavers drawn by the generator; the delta file is the rows
# of the next snapshot that differ from the stored one.
go run ./bench/hrcsv -n $((n + 30)) -move 0.0005 -leave 0.0002 >"$tmp/next.csv"
{ head -1 "$tmp/next.csv"; diff <(tail -n +2 "$tmp/hr-$n.csv") <(tail -n +2 "$tmp/next.csv") | sed -n 's/^> //p' || true; } >"$tmp/delta.csv"
log "delta file: $(($(wc -l <"$tmp/delta.csv") - 1)) rows ($(grep -c ',terminated,' "$tmp/delta.csv" || true) leavers, $(awk -F, -v n="$n" 'NR>1 && substr($1,2)+0 >= n' "$tmp/delta.csv" | wc -l) joiners)"
for r in $(seq 1 "$rounds"); do
  restore; start; settle
  if [ $((r % 2)) = 1 ]; then
    timed "import $engine delta dry-run" "$gh" hr import "$tmp/delta.csv" --delta --dry-run
    timed "import $engine full dry-run" "$gh" hr import "$tmp/next.csv" --dry-run
    timed "import $engine delta apply" "$gh" hr import "$tmp/delta.csv" --delta
    stop; restore; start; settle
    timed "import $engine full apply" "$gh" hr import "$tmp/next.csv"
  else
    timed "import $engine full dry-run" "$gh" hr import "$tmp/next.csv" --dry-run
    timed "import $engine delta dry-run" "$gh" hr import "$tmp/delta.csv" --delta --dry-run
    timed "import $engine full apply" "$gh" hr import "$tmp/next.csv"
    stop; restore; start; settle
    timed "import $engine delta apply" "$gh" hr import "$tmp/delta.csv" --delta
  fi
  stop
done
# The last apply was of one of the two files: both say the same change (checked by the dry run
# of the other against it: nothing to do).
start; reconciled; timed "check: the other file after the last apply" "$gh" hr import "$tmp/next.csv" --dry-run; grep -iE 'summary|no change|unchanged' "$tmp/out" | head -3 || true; stop

echo "--- medians of $rounds rounds ($engine, $(nproc) CPUs, $(date -u +%F))"
grep -E ' wall_s=' "$tmp/results" | grep -v -e setup -e check | sed 's/ wall_s=/\t/; s/ rss_mb=/\t/' |
  awk -F'\t' '{w[$1]=w[$1]" "$2; m[$1]=m[$1]" "$3} END {for (k in w) print k "\t" w[k] "\t" m[k]}' | sort |
  while IFS=$'\t' read -r k ws ms; do
    printf '%-40s wall median %6ss  client peak RSS median %5s MB  (walls:%s)\n' "$k" \
      "$(echo $ws | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" \
      "$(echo $ms | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" "$ws"
  done
grep -E '^export .*RSS|^delta file' "$tmp/results"
