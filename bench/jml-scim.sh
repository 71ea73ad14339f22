#!/usr/bin/env bash
# A 1% change reconciled into a SCIM app, end to end: `gatehouse serve` (SQLite) with a SCIM
# system on a real SCIM server (SCIMMY) already holding 20,000 users in 50 groups; the HR feed
# and catalog match it; 1% of the people move department; the time from the import until
# `reconcile --wait` says converged.
#   bench/jml-scim.sh [USERS]    (default 20000)
# Needs node and `npm ci --prefix connector/scim/scimtest/testdata/peers`; the test is
# cmd/gatehouse/jml_scim_bench_test.go.
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-20000}
GATEHOUSE_BENCH_JML_SCIM=1 GATEHOUSE_BENCH_USERS=$users \
  go test -count=1 -timeout 30m -run '^TestJMLSCIMFigures$' -v ./cmd/gatehouse/ | grep -E '^jml-scim:|FAIL|^ok|Error|error'
