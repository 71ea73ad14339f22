#!/usr/bin/env bash
# The test command of the README: every package, with the race detector, on SQLite and on
# PostgreSQL (GATEHOUSE_TEST_POSTGRES, default postgres://postgres@127.0.0.1:5432/test).
# Under CI=true a missing PostgreSQL or Chromium fails the run instead of skipping.
set -euo pipefail
cd "$(dirname "$0")"
go test -race -count=1 -timeout 20m "$@" ./...
