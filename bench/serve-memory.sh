#!/usr/bin/env bash
# Resident memory and list latency of `gatehouse serve` holding many identities.
# Target (issue 2): 100,000 identities under 200 MB RSS; a filtered page under 50 ms.
#   bench/serve-memory.sh [IDENTITIES] [DB]      (default 100000, a temp SQLite file)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
tmp=$(mktemp -d)
db=${2:-sqlite:$tmp/bench.db}
port=$((20000 + RANDOM % 20000))
# serve refuses a bootstrap token under 32 characters.
token=bench-bootstrap-$(date +%s)-$RANDOM-0123456789abcdef
go build -o "$tmp/gatehouse" ./cmd/gatehouse
go run ./bench/seed --db "$db" --identities "$n"
GATEHOUSE_BOOTSTRAP_TOKEN=$token "$tmp/gatehouse" serve --db "$db" --addr "127.0.0.1:$port" 2>"$tmp/serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1 600); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 $pid 2>/dev/null || { echo "gatehouse serve did not start:" >&2; tail "$tmp/serve.log" >&2; exit 1; }
  sleep 0.1
done
url="http://127.0.0.1:$port/api/v1/identities?department=Finance&q=first1&limit=50"
# Warm up, then time 200 requests one after another, as a person paging would.
for _ in $(seq 1 20); do curl -fsS -H "Authorization: Bearer $token" "$url" >/dev/null; done
times=$(for _ in $(seq 1 200); do curl -fsS -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $token" "$url"; done | sort -n)
p50=$(echo "$times" | sed -n '100p'); p99=$(echo "$times" | sed -n '198p')
# Walk every page of the whole list, to load the server the way an export would.
cursor=""; pages=0
while :; do
  body=$(curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/identities?limit=1000${cursor:+&cursor=$cursor}")
  pages=$((pages+1))
  cursor=$(printf '%s' "$body" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("next_cursor",""))')
  [ -n "$cursor" ] || break
done
rss=$(awk '/VmRSS/{print $2}' /proc/$pid/status); hwm=$(awk '/VmHWM/{print $2}' /proc/$pid/status)
echo "identities: $n   filtered page: p50 ${p50}s p99 ${p99}s   full listing: $pages pages"
echo "gatehouse serve RSS now: $((rss/1024)) MB, peak: $((hwm/1024)) MB"
