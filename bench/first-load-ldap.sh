#!/usr/bin/env bash
# First load of a company into an empty directory: N people, each in 10 groups (9 all-staff
# groups, one of 5 departments), against the floor of `ldapadd` loading the same entries (the
# accounts as the connector writes them, then the groups with their members) over one
# connection into a fresh slapd. Gatehouse's figure is the reconcile that creates everyone
# after the HR import and the catalog (birthright roles): the run's own record, start to end,
# and the wall time from the catalog apply until `reconcile --wait` says converged. Each run
# gets a fresh slapd and a fresh SQLite database; the directory is checked afterwards.
# Target (issue 12): within 2x of the floor.
#   bench/first-load-ldap.sh [N] [REV_BEFORE] [RUNS]
#     N           people (default 10000)
#     REV_BEFORE  the revision to compare with (default: git merge-base HEAD main); "-" for none
#     RUNS        runs of each binary, alternating (default 1); medians are printed
# Both binaries are built with bench/lib.sh build_rev (the "after" one from HEAD: commit first).
# Needs slapd and ldapadd (apt-get install slapd ldap-utils); the measurement is
# cmd/gatehouse/firstload_bench_test.go.
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-10000}
before=${2:-$(git merge-base HEAD main)}
runs=${3:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. bench/lib.sh
bins="after=$tmp/after"
build_rev HEAD "$tmp/after"
if [ "$before" != "-" ]; then
  build_rev "$before" "$tmp/before"
  bins="before=$tmp/before,$bins"
fi
GATEHOUSE_BENCH_FIRSTLOAD=1 GATEHOUSE_BENCH_USERS=$users GATEHOUSE_BENCH_RUNS=$runs GATEHOUSE_BENCH_BINS=$bins \
  go test -count=1 -timeout 120m -run '^TestFirstLoadLDAPFigures$' -v ./cmd/gatehouse/ | grep -E '^first-load(-ldap)?:|FAIL|^ok|Error|error'
