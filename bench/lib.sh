# Shared by bench/before-after.sh and bench/replicas.sh (sourced, not run): building a
# revision's binary, fresh databases, starting and stopping `gatehouse serve`, and the setup a
# request-rate run needs. Expects $tmp (a scratch directory) and $pgbase to be set.

# build_rev REV OUT: the gatehouse binary of git revision REV, built from `git archive` of it
# (no worktree is registered in the repository), with the toolchain of the current checkout.
# -trimpath keeps the scratch directory's path out of the build cache's keys: without it every
# build would compile every package again.
build_rev() {
  local rev=$1 out=$2 commit src
  commit=$(git rev-parse --verify "$rev^{commit}")
  if [ -x "$tmp/bin/$commit" ]; then cp "$tmp/bin/$commit" "$out"; return; fi
  src=$tmp/src-$commit
  mkdir -p "$src" "$tmp/bin"
  git archive "$commit" | tar -x -C "$src"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$tmp/bin/$commit" ./cmd/gatehouse)
  rm -rf "$src"
  cp "$tmp/bin/$commit" "$out"
}

# pg_fresh NAME / pg_drop NAME: an empty PostgreSQL database, and its removal.
pg_fresh() { PGOPTIONS=-cclient_min_messages=warning dropdb --if-exists --maintenance-db="$pgbase/postgres" "$1"; createdb --maintenance-db="$pgbase/postgres" "$1"; }
pg_drop() { PGOPTIONS=-cclient_min_messages=warning dropdb --if-exists --maintenance-db="$pgbase/postgres" "$1" 2>/dev/null || true; }
pg_url() { echo "$pgbase/$1?sslmode=disable"; }

# serve_start BIN DB PORT LOG: starts `BIN serve` in the background with the bootstrap token
# $GATEHOUSE_TOKEN and no scheduled reconcile (a full one at start would run beside what is
# measured; the ones changes trigger still run), and waits until it answers /readyz. Its pid is
# left in $last_pid and appended to $servers. $SERVE_ARGS, when set, are more flags of serve.
servers=""
last_pid=""
serve_start() {
  local bin=$1 db=$2 port=$3 log=$4 p
  GATEHOUSE_BOOTSTRAP_TOKEN=$GATEHOUSE_TOKEN "$bin" serve --db "$db" --addr "127.0.0.1:$port" \
    --reconcile-interval 0 ${SERVE_ARGS:-} 2>"$log" &
  p=$!
  servers="$servers $p"
  last_pid=$p
  for _ in $(seq 1 600); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return
    kill -0 "$p" 2>/dev/null || break
    sleep 0.1
  done
  echo "serve on port $port did not start:" >&2; tail "$log" >&2; return 1
}

# serve_kill PID: stops one server serve_start started (SIGTERM, then SIGKILL after 30 s: a
# reconcile left running at 100,000 people can outlast a graceful stop, and the database is
# thrown away anyway). serve_stop stops them all.
serve_kill() {
  local p=$1 rest=""
  kill "$p" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  for q in $servers; do [ "$q" = "$p" ] || rest="$rest $q"; done
  servers=$rest
}
serve_stop() {
  local p
  for p in $servers; do serve_kill "$p"; done
}

# settle PID: waits (at most 10 minutes) until the server uses under 5% of a CPU for 2 s in a
# row, so work it queued (the reconcile an HR import triggers) is not measured with what follows.
settle() {
  local pid=$1 a b quiet=0
  cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
  for _ in $(seq 1 600); do
    a=$(cpu); sleep 1; b=$(cpu)
    if [ $((b - a)) -lt 5 ]; then quiet=$((quiet + 1)); else quiet=0; fi
    [ $quiet -ge 2 ] && return
  done
}

# hr_post ADDR FILE: POST /api/v1/hr/imports of FILE with the bootstrap token, as
# `gatehouse hr import FILE` sends it, without the CLI's 2-minute client timeout (a 100,000-person
# import on a loaded machine can outlast it). Prints the wall seconds; fails unless applied with
# every row a joiner (the databases here start empty).
hr_post() {
  local addr=$1 file=$2 t0 t1 code rows
  t0=$(date +%s.%N)
  code=$(curl -sS -o "$tmp/import.json" -w '%{http_code}' --max-time 3600 -X POST \
    -H "Authorization: Bearer $GATEHOUSE_TOKEN" -H 'Content-Type: text/csv' \
    -H "X-HR-File: $(basename "$file")" --data-binary "@$file" "$addr/api/v1/hr/imports")
  t1=$(date +%s.%N)
  if [ "$code" != 201 ] || ! grep -q '"status": *"applied"' "$tmp/import.json"; then
    echo "HR import of $file: HTTP $code: $(head -c 600 "$tmp/import.json")" >&2; return 1
  fi
  rows=$(($(wc -l <"$file") - 1))
  if ! grep -Eq "\"joiners\": *$rows[,}]" "$tmp/import.json"; then
    echo "HR import of $file: not $rows joiners: $(grep -Eo '"summary": *\{[^}]*\}' "$tmp/import.json")" >&2; return 1
  fi
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f\n", b - a}'
}

# catalog_dir DIR ENTS: the benchmark catalog (bench/hrcsv -catalog: one manual system, an
# entitlement and a birthright role per department, all-staff, and ENTS requestable
# entitlements dir/req-00.. with the default approval chain, manager then owner), owned by
# bench-owner@example.com, whom catalog_setup creates.
catalog_dir() {
  local dir=$1 ents=$2
  mkdir -p "$dir"
  "$tmp/hrcsv" -catalog -owner bench-owner@example.com -requestable "$ents" >"$dir/10-catalog.yaml"
}

# catalog_setup BIN ADDR CATALOG: on a fresh server, the catalog's owner (the service identity
# bench-owner@example.com, which catalog_dir names) and the catalog, before any HR import, so the
# import itself grants the birthright access.
catalog_setup() {
  local bin=$1 addr=$2 catalog=$3
  GATEHOUSE_ADDR=$addr "$bin" identities create --email bench-owner@example.com --kind service \
    --department IT --reason bench >/dev/null
  GATEHOUSE_ADDR=$addr "$bin" catalog apply "$catalog" --yes --reason bench >/dev/null
}

# company BIN ADDR CATALOG PEOPLE: catalog_setup, then the people of PEOPLE (an HR snapshot).
company() {
  catalog_setup "$1" "$2" "$3"
  hr_post "$2" "$4" >/dev/null
}

# operator_token BIN ADDR PEOPLE: makes the last person of the feed PEOPLE (who manages nobody,
# see bench/reqrate) an operator and prints a token of theirs: the requester of the
# request-rate runs.
operator_token() {
  local bin=$1 addr=$2 email
  email=$(tail -n 1 "$3" | cut -d, -f2)
  GATEHOUSE_ADDR=$addr "$bin" identities roles "$email" --set operator --reason bench >/dev/null
  GATEHOUSE_ADDR=$addr "$bin" token create --for "$email" --description bench 2>/dev/null
}

# median: the median of the numbers on standard input (the lower middle of an even count).
median() { sort -n | awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]; else print "-"}'; }
