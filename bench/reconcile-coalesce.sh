#!/usr/bin/env bash
# A burst of grant writes against a real directory: how many reconciles queue up, and how long
# after the last write the directory holds exactly the granted memberships. Two revisions in
# one run, through the real binary:
#   bench/reconcile-coalesce.sh [PEOPLE] [sqlite|postgres] [REV_BEFORE] [REV_AFTER]
# PEOPLE (default 20000; the issue's figure is 100000) are imported by HR; the engine defaults
# to sqlite; REV_BEFORE defaults to `git merge-base HEAD main` (the revision before reconcile
# jobs coalesced), REV_AFTER to HEAD.
# Settings (environment):
#   WRITES=10000    grant writes (creates and revokes of one LDAP group), spread evenly over
#   DURATION=20     seconds, 8 in flight at once, on 3,000 people (fewer when PEOPLE are;
#                   bench/coalesce)
#   WAIT=10m        longest wait for the directory after the last write
#   DRAIN=2m        longest wait for the reconcile queue to drain after the last write
#   GATEHOUSE_BENCH_PG=postgres://postgres@127.0.0.1:5432  (must allow createdb/dropdb)
# Needs slapd (apt-get install slapd).
#
# For each revision: a fresh slapd and database, `gatehouse serve` (no scheduled reconcile), a
# catalog with one LDAP system on that slapd and one group entitlement, PEOPLE people imported
# (nobody holds the group yet), then the writes through POST /api/v1/grants and
# POST /api/v1/grants/{id}/revoke. Printed per revision:
#   write_s                 the time the writes took (the target is DURATION)
#   peak_pending            the most reconcile jobs waiting to run (River's river_job rows of
#                           kind reconcile_system available, scheduled or retryable), sampled
#                           every second from the first write until converged
#   pending_at_last_write   the same, at the last write's answer
#   converged_s             from the last write's answer until slapd's group holds exactly
#                           the people whose grant is in force ("timeout" after WAIT)
#   drained_s               from the last write's answer until no reconcile job is pending or
#                           running ("timeout" after DRAIN, with the number left)
#   jobs                    reconcile jobs the writes created
set -euo pipefail
cd "$(dirname "$0")/.."
people=${1:-20000}
engine=${2:-sqlite}
before=${3:-$(git merge-base HEAD main)}
after=${4:-HEAD}
writes=${WRITES:-10000}
seconds=${DURATION:-20}
wait=${WAIT:-10m}
drain=${DRAIN:-2m}
pool=$((people < 3000 ? people / 8 * 8 : 3000))
pgbase=${GATEHOUSE_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
case $engine in sqlite | postgres) ;; *) echo "usage: $0 [PEOPLE] [sqlite|postgres] [REV_BEFORE] [REV_AFTER]" >&2; exit 2 ;; esac
tmp=$(mktemp -d)
pgdb=gh_bench_rc_$$
port=$((20000 + RANDOM % 20000))
addr=http://127.0.0.1:$port
export GATEHOUSE_TOKEN=bench-bootstrap-$(date +%s)-$RANDOM-0123456789abcdef
# shellcheck source=bench/lib.sh
. bench/lib.sh
slapd_pid=""
slapd_stop() {
  if [ -n "$slapd_pid" ]; then kill "$slapd_pid" 2>/dev/null || true; wait "$slapd_pid" 2>/dev/null || true; slapd_pid=""; fi
}
cleanup() { serve_stop; slapd_stop; pg_drop "$pgdb"; rm -rf "$tmp"; }
trap cleanup EXIT

go build -o "$tmp/hrcsv" ./bench/hrcsv
go build -o "$tmp/coalesce" ./bench/coalesce
echo "building before=$(git rev-parse --short "$before") and after=$(git rev-parse --short "$after")" >&2
build_rev "$before" "$tmp/gh-before"
build_rev "$after" "$tmp/gh-after"
"$tmp/hrcsv" -n "$people" >"$tmp/hr.csv"

# slapd_start: a fresh slapd; its settings in $LDAP_URL, $LDAP_BIND_DN, …
slapd_start() {
  local dir=$tmp/slapd-$RANDOM
  mkdir -p "$dir"
  "$tmp/coalesce" slapd -dir "$dir" 2>"$tmp/slapd.log" &
  slapd_pid=$!
  for _ in $(seq 1 300); do [ -s "$dir/settings.env" ] && break; sleep 0.1; done
  [ -s "$dir/settings.env" ] || { echo "slapd did not start:" >&2; cat "$tmp/slapd.log" >&2; return 1; }
  # shellcheck disable=SC1091
  . "$dir/settings.env"
  SERVE_ARGS="--secrets-dir $dir" # where the bind password file is
}

catalog() {
  mkdir -p "$tmp/catalog"
  cat >"$tmp/catalog/catalog.yaml" <<EOF
systems:
  - id: ldap
    name: Directory
    owner: bench-owner@example.com
    tier: critical
    connector: {type: ldap, url: "$LDAP_URL", bind_dn: "$LDAP_BIND_DN", bind_password_file: "$LDAP_BIND_PASSWORD_FILE",
                users_dn: "$LDAP_USERS_DN", groups_dn: "$LDAP_GROUPS_DN", disabled_dn: "$LDAP_DISABLED_DN",
                flavor: openldap, timeout: 5s}
entitlements:
  - {id: ldap/bench, system: ldap, name: Bench, kind: group, risk: standard, external_id: "cn=bench,$LDAP_GROUPS_DN"}
EOF
}

run_rev() { # LABEL
  local gh=$tmp/gh-$1 db out
  slapd_start
  catalog
  if [ "$engine" = postgres ]; then pg_fresh "$pgdb"; db=$(pg_url "$pgdb"); else rm -f "$tmp"/rc.db*; db=sqlite:$tmp/rc.db; fi
  serve_start "$gh" "$db" "$port" "$tmp/serve-$1.log"
  catalog_setup "$gh" "$addr" "$tmp/catalog"
  hr_post "$addr" "$tmp/hr.csv" >/dev/null
  settle "$last_pid"
  out=$("$tmp/coalesce" load -addr "$addr" -db "$db" -ldap-url "$LDAP_URL" -people "$tmp/hr.csv" \
    -pool "$pool" -n "$writes" -seconds "$seconds" -wait "$wait" -drain "$drain")
  serve_stop
  slapd_stop
  printf '%-7s %-8s people=%s %s\n' "$1" "$engine" "$people" "$out"
}

run_rev before
run_rev after
