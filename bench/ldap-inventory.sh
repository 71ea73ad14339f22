#!/usr/bin/env bash
# Full LDAP inventory read + diff through the connector, against a plain ldapsearch dump of the
# same entries and attributes (the floor), both on the same slapd in the same run.
# Target (issue 3): 20,000 users, 2,000 groups, 200,000 memberships within 1.5× of ldapsearch.
#   bench/ldap-inventory.sh [USERS] [RUNS]    (default 20000 users, 10 groups each; 5 runs)
# Needs slapd and ldapsearch (apt-get install slapd ldap-utils). The directory is generated as
# LDIF and loaded offline with slapadd (connector/ldap/ldaptest) before slapd starts.
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-20000}
runs=${2:-5}
out=$(GATEHOUSE_BENCH_USERS=$users go test -run '^$' -bench '^BenchmarkInventory$' -benchtime "${runs}x" -benchmem -v ./connector/ldap/)
echo "$out" | grep -E 'slapadd|ns/op' | sed 's/^ *//'
echo "$out" | awk '
  /BenchmarkInventory\/connector/  { c = $3 }
  /BenchmarkInventory\/ldapsearch/ { l = $3 }
  END {
    if (c == "" || l == "") { print "missing figures"; exit 1 }
    r = c / l
    printf "connector %.0f ms, ldapsearch %.0f ms: %.2fx the floor (target <= 1.5x)\n", c / 1e6, l / 1e6, r
    exit (r <= 1.5 ? 0 : 1)
  }'
