#!/usr/bin/env bash
# HR import → converged directory, end to end: `gatehouse serve` (SQLite) with an LDAP system on
# a real slapd, everyone in 10 groups. Prints the first import until converged, a 1% change
# (movers) until `reconcile --wait` says converged, and one leaver from the import to the last
# LDAP change seen in the directory (the server reconciles on the change by itself).
#   bench/jml-ldap.sh [USERS]    (default 2000)
# Needs slapd (apt-get install slapd); the test is cmd/gatehouse/jml_ldap_bench_test.go.
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-2000}
GATEHOUSE_BENCH_JML=1 GATEHOUSE_BENCH_USERS=$users \
  go test -count=1 -timeout 30m -run '^TestJMLLDAPFigures$' -v ./cmd/gatehouse/ | grep -E '^jml-ldap:|FAIL|^ok'
