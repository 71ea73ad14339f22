#!/usr/bin/env bash
# First load of a company into an empty SCIM app (SCIMMY, a fresh one each run): N people,
# each in 10 groups (9 all-staff groups, one of 5 departments), against the floor of a plain
# client creating the same users (POST /Users with the body the connector sends, as many at
# once as the connector's default concurrency) and the groups (one POST /Groups per group with
# all its members). Gatehouse's figure is the reconcile that creates everyone after the HR
# import and the catalog (birthright roles): the run's own record, start to end, and the wall
# time from the catalog apply until `reconcile --wait` says converged. The app is checked
# afterwards. Target (issue 12): within 2x of the floor.
#   bench/first-load-scim.sh [N] [REV_BEFORE] [RUNS]    (as bench/first-load-ldap.sh)
# Needs node and `npm ci --prefix connector/scim/scimtest/testdata/peers`; the measurement is
# cmd/gatehouse/firstload_scim_bench_test.go.
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
  go test -count=1 -timeout 120m -run '^TestFirstLoadSCIMFigures$' -v ./cmd/gatehouse/ | grep -E '^first-load(-scim)?:|FAIL|^ok|Error|error'
