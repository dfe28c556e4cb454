#!/usr/bin/env bash
# England's scale (12 million children) and a side-by-side with PostgreSQL 15.
# Runs by hand, not in CI (a 12M run takes many minutes and ~15 GB of disk).
#
#   bench/england_scale.sh [children] [work dir]        # default 12,000,000, /tmp/cp-england-N
#
# 1. contactpoint: `gen` (seed 1), `import` (the bulk loader: SST files + one ingest per
#    chunk) with its wall time, peak RSS and the database size, then `compact` and the size.
# 2. 10,000 queries drawn from the data (`gen-queries`, seed 2: half exact, half with
#    typos, nicknames, swapped names, date slips, phonetic spellings...), each with the key
#    of the child it should find.
# 3. contactpoint over the wire: bench/server_1m.sh (contactpointd, TLS 1.3, audit on,
#    `contactpoint load`) at CONNECTIONS
#    connections for DURATION seconds; recall from the same queries in-process with
#    `contactpoint search --limit CAP` (the server runs the same search code with the police
#    role's cap of 20).
# 4. PostgreSQL 15 (Debian's, installed through scripts/install-deps.sh): initdb in
#    WORK/pg, postgres on 127.0.0.1:PGPORT (its unix socket in WORK/pg too), the schema,
#    COPY of the same CSV, the indexes, ANALYZE (bench/pg/*.sql); a check that row-level
#    security hides a shielded child's location as contactpoint does; EXPLAIN ANALYZE of
#    one query of each kind as the ordinary role; then bench/pg_search_client runs the
#    same 10,000 queries over libpq at CONNECTIONS connections. postgres is stopped at exit.
# 5. A side-by-side table: throughput, p50/p99, recall at the same cap, and the ratios.
#
# Environment: SKIP_LOAD=1 reuses WORK's database; SKIP_SERVER=1, SKIP_PG=1 leave a side
# out; COMPACT=0 skips `compact` after the import; READ=auto|io_uring|read is the
# import's --read; CONNECTIONS (default 4), DURATION (default 20), CAP (default 20), PGPORT (default
# 54329), CHUNK (import --chunk, default the import's own). PG_QUERIES=N times PostgreSQL on
# the first N queries only (its untimed pass too): at 12M it answers a few searches a
# second, and the whole set twice takes over an hour and a half. Recall in the side-by-side
# table is then over those N queries for both.
set -euo pipefail
n=${1:-12000000}
work=${2:-/tmp/cp-england-$n}
build=${BUILD_DIR:-build/release}
bin=$build/tools/contactpoint
pgclient=$build/bench/pg_search_client
connections=${CONNECTIONS:-4}
duration=${DURATION:-20}
cap=${CAP:-20}
pg_queries=${PG_QUERIES:-10000}
pgport=${PGPORT:-54329}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
[ -x "$bin" ] || make -C "$repo" build
mkdir -p "$work"
work=$(cd "$work" && pwd)
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "== England scale: $n children in $work, git $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?'), load $(load)"

# ---------------------------------------------------------------- contactpoint: load
if [ "${SKIP_LOAD:-0}" != 1 ]; then
  if [ ! -f "$work/children.csv" ]; then
    echo "== generate $n children"
    /usr/bin/time -f "gen: %e s wall, max RSS %M KB" \
      "$bin" gen --children "$n" --seed 1 --as-of 2026-11-01 --out "$work/children.csv"
  fi
  rm -rf "$work/db" "$work/db.key"
  "$bin" init --db "$work/db" >/dev/null
  sync
  echo "== import (load $(load))"
  /usr/bin/time -f "import: %e s wall, %U s user, %S s sys, max RSS %M KB" -o "$work/import.time" \
    "$bin" import --db "$work/db" --source births ${CHUNK:+--chunk $CHUNK} ${READ:+--read $READ} \
      "$work/children.csv" \
    2> "$work/import.log" || { cat "$work/import.log"; exit 1; }
  tail -n 2 "$work/import.log"
  cat "$work/import.time"
  # CPU per child is the figure to compare across loads and sizes: on a shared machine the
  # wall time is the machine's, and a per-child cost that grows with N is a regression.
  awk -v n="$n" '{for (i = 1; i < NF - 1; i++) { if ($(i+1) == "s" && $(i+2) ~ /^user/) u = $i;
      if ($(i+1) == "s" && $(i+2) ~ /^sys/) s = $i } }
    END { printf "import CPU: %.1f s (user + sys), %.1f us per child\n", u + s, (u + s) / n * 1e6 }' \
    "$work/import.time"
  echo "database size after import: $(du -sb "$work/db" | cut -f1) bytes (load $(load))"
  if [ "${COMPACT:-1}" = 1 ]; then
    /usr/bin/time -f "compaction: %e s wall, max RSS %M KB" "$bin" compact --db "$work/db"
    echo "database size after compaction: $(du -sb "$work/db" | cut -f1) bytes"
  fi
fi
if [ ! -f "$work/queries.csv" ]; then
  "$bin" gen-queries --children-csv "$work/children.csv" --count 10000 --seed 2 \
    --fuzzy-share 0.5 --out "$work/queries.csv"
fi

# Recall: the expected child among the results, by noise type, and overall.
recall() {
  jq -s -r --rawfile q "${queries_for_recall:-$work/queries.csv}" '
    ($q | split("\n") | .[1:] | map(select(length > 0) | split(",")) ) as $rows
    | [range(0; length) as $i | {noise: $rows[$i][-1], expected: $rows[$i][-2],
        hit: ([.[$i].results[].sources[].key] | index($rows[$i][-2]) != null)}]
    | (group_by(.noise) | map("  \(.[0].noise): \(map(select(.hit)) | length)/\(length)") | .[]),
      "  all: \(map(select(.hit)) | length)/\(length)"' "$1"
}
hits() { recall "$1" | sed -n 's/^  all: \([0-9]*\)\/.*/\1/p'; }
# The first N queries, and the first N answers of a file of answers in query order.
head_queries() { head -n $(($1 + 1)) "$work/queries.csv"; }

# ---------------------------------------------------------------- contactpoint: searches
cp_tp= cp_p50= cp_p99= cp_hits= cp_too=
if [ "${SKIP_SERVER:-0}" != 1 ]; then
  echo "== contactpoint recall (in-process, cap $cap)"
  "$bin" search --db "$work/db" --queries "$work/queries.csv" --limit "$cap" --threads 2 \
    --cache-mb 2048 > "$work/cp-answers.jsonl" 2> "$work/cp-search.log"
  recall "$work/cp-answers.jsonl"
  cp_hits=$(hits "$work/cp-answers.jsonl")
  cp_too=$(grep -c '"too_many_matches"' "$work/cp-answers.jsonl" || true)
  echo "== contactpointd over TLS with audit, $connections connections, ${duration} s (load $(load))"
  CONNECTIONS="$connections" DURATION="$duration" BUILD_DIR="$build" \
    bash "$here/server_1m.sh" "$n" "$work" | tee "$work/server.log"
  # The load client's line: "search  COUNT  RATE/s  p50 US  p99 US  p99.9 US  max US us ...".
  read -r cp_tp cp_p50 cp_p99 < <(awk '$1 == "search" && $4 == "p50" && $6 == "p99" {
      t = $3; sub(/\/s$/, "", t); line = t " " $5 " " $7 } END { print line }' "$work/server.log")
fi

# ---------------------------------------------------------------- PostgreSQL 15
pg_tp= pg_p50= pg_p99= pg_hits= pg_too=
if [ "${SKIP_PG:-0}" != 1 ]; then
  bash "$repo/scripts/install-deps.sh" postgresql
  [ -x "$pgclient" ] || cmake --build "$build" -j2 --target pg_search_client
  pgbin=/usr/lib/postgresql/15/bin
  pgdir=$work/pg
  # postgres refuses to run as root: the cluster belongs to the `postgres` user the
  # package created, and so does everything it must read (the CSVs are world-readable).
  as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  rm -rf "$pgdir"
  mkdir -p "$pgdir"
  [ "$(id -u)" = 0 ] && chown postgres "$pgdir"
  chmod 755 "$work"
  as_pg "$pgbin/initdb" -D "$pgdir/data" --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  # Memory comparable to contactpointd's (a 2 GB block cache): shared_buffers 2 GB.
  cat >> "$pgdir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pgport
unix_socket_directories = '$pgdir'
shared_buffers = 2GB
effective_cache_size = 8GB
work_mem = 16MB
maintenance_work_mem = 1GB
max_parallel_maintenance_workers = 1
max_parallel_workers_per_gather = 0
wal_level = minimal
max_wal_senders = 0
max_wal_size = 8GB
jit = off
CONF
  as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/postgres.log" -w start >/dev/null
  trap 'as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m fast -w stop >/dev/null 2>&1 || true' EXIT
  psql_su() { as_pg psql -X -q -h "$pgdir" -p "$pgport" -d cp "$@"; }
  as_pg "$pgbin/createdb" -h "$pgdir" -p "$pgport" cp
  psql_su -v ON_ERROR_STOP=1 -f "$here/pg/schema.sql"
  psql_su -v ON_ERROR_STOP=1 -f "$here/pg/search.sql"
  cp "$repo/data/nicknames/names.csv" "$pgdir/nicknames.csv"
  cp "$repo/data/uk_names/firstname_uk_variant.csv" "$pgdir/variants.csv"
  chmod 644 "$pgdir"/*.csv
  echo "== PostgreSQL: COPY and derive columns (load $(load))"
  t0=$(date +%s.%N)
  psql_su -v csv="$work/children.csv" -v nicknames="$pgdir/nicknames.csv" \
    -v variants="$pgdir/variants.csv" -f "$here/pg/load.sql" | grep -E '^(Time|COPY|INSERT)' || true
  t1=$(date +%s.%N)
  echo "== PostgreSQL: indexes and ANALYZE"
  psql_su -f "$here/pg/indexes.sql" | grep -E '^Time' || true
  t2=$(date +%s.%N)
  pg_load=$(awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN{printf "load %.1f s, indexes %.1f s, total %.1f s", b-a, c-b, c-a}')
  pg_size=$(psql_su -At -c "SELECT pg_database_size('cp')")
  echo "PostgreSQL $pg_load; database $pg_size bytes"

  echo "== PostgreSQL: row-level security hides a shielded child's location"
  read -r sid skey sgiven sfamily sdob sgender spc < <(psql_su -At -F ' ' -c "
    SELECT c.id, c.source_key, c.given_name, replace(c.family_name, ' ', '-'), c.date_of_birth, c.gender, replace(l.postcode, ' ', '')
    FROM child c JOIN child_location l ON l.child_id = c.id
    WHERE l.postcode IS NOT NULL AND c.gender <> 'U' AND strpos(c.given_name, ' ') = 0 ORDER BY c.id LIMIT 1")
  psql_su -c "UPDATE child SET shielded = true WHERE id = $sid; UPDATE child_location SET shielded = true WHERE child_id = $sid"
  as_practitioner() { psql -X -q -At -h "$pgdir" -p "$pgport" -d cp -U practitioner -c "$1"; }
  seen=$(as_practitioner "SELECT count(*) FROM child_location WHERE child_id = $sid")
  by_place=$(as_practitioner "SELECT count(*) FROM cp_search('$sgiven', '$sfamily', '$sdob', NULL, NULL, '$sgender', '${spc:0:-3} ${spc: -3}', '', '', $cap) WHERE source_key = '$skey'")
  by_name=$(as_practitioner "SELECT count(*) FILTER (WHERE address IS NULL AND postcode IS NULL AND school IS NULL), count(*) FROM cp_search('$sgiven', '$sfamily', '$sdob', NULL, NULL, '', '', '', '', $cap) WHERE source_key = '$skey'")
  elevated=$(psql -X -q -At -h "$pgdir" -p "$pgport" -d cp -U shielding_manager -c "SELECT count(*) FROM child_location WHERE child_id = $sid")
  psql_su -c "UPDATE child SET shielded = false WHERE id = $sid; UPDATE child_location SET shielded = false WHERE child_id = $sid"
  echo "shielded child: location rows seen by practitioner $seen (want 0), by shielding_manager $elevated (want 1);"
  echo "  found by family+dob+gender+postcode $by_place (want 0); by names+dob, hidden|found: $by_name (want 1|1)"
  if [ "$seen" != 0 ] || [ "$elevated" != 1 ] || [ "$by_place" != 0 ] || [ "$by_name" != "1|1" ]; then
    echo "row-level security does not shield as contactpoint does: stopping"; exit 1
  fi

  echo "== PostgreSQL: EXPLAIN ANALYZE of cp_search's statement, as practitioner (auto_explain)"
  # One query of each kind from the set: which indexes the planner uses under RLS.
  : > "$work/pg-explain.txt"
  for noise in exact typo dob_range double_barrel_part; do
    row=$(awk -F, -v n="$noise" 'NR > 1 && $NF == n && $3 != "" && $8 == "" { print; exit }' "$work/queries.csv")
    [ -n "$row" ] || continue
    IFS=, read -r _ qg qf qd qfrom qto qgen _ _ _ _ _ <<< "$row"
    lit() { [ -n "$1" ] && echo "'$1'" || echo NULL; }
    echo "-- $noise: given '$qg', family '$qf', dob $(lit "$qd"), range $(lit "$qfrom")..$(lit "$qto")" >> "$work/pg-explain.txt"
    psql_su -c "LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on;
      SET auto_explain.log_nested_statements = on; SET auto_explain.log_level = notice; SET client_min_messages = notice;
      SET ROLE practitioner;
      SELECT count(*) FROM cp_search('$qg', '$qf', $(lit "$qd"), $(lit "$qfrom"), $(lit "$qto"), '$qgen', '', '', '', $cap);" \
      >> "$work/pg-explain.txt" 2>&1 || true
  done
  prow=$(awk -F, 'NR > 1 && $8 != "" { print; exit }' "$work/queries.csv")
  if [ -n "$prow" ]; then
    IFS=, read -r _ qg qf qd _ _ qgen qpc _ _ _ _ <<< "$prow"
    echo "-- place: given '$qg', family '$qf', dob '$qd', gender '$qgen', postcode '$qpc'" >> "$work/pg-explain.txt"
    psql_su -c "LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on;
      SET auto_explain.log_nested_statements = on; SET auto_explain.log_level = notice; SET ROLE practitioner;
      SELECT count(*) FROM cp_search('$qg', '$qf', '$qd', NULL, NULL, '$qgen', '$qpc', '', '', $cap);" \
      >> "$work/pg-explain.txt" 2>&1 || true
  fi
  echo "indexes in the plans (WORK/pg-explain.txt):"
  grep -v 'never executed' "$work/pg-explain.txt" |
    grep -oE '(Index|Index Only|Bitmap Index) Scan( Backward)? (using [a-z_]+ )?on [a-z_]+|Seq Scan on [a-z_]+' |
    sort | uniq -c | sed 's/^/  /'

  pg_set=$work/queries.csv
  if [ "$pg_queries" -lt 10000 ]; then
    pg_set=$work/queries-$pg_queries.csv
    head_queries "$pg_queries" > "$pg_set"
  fi
  echo "== PostgreSQL over libpq, $connections connections, $pg_queries queries (an untimed pass, then the set; load $(load))"
  "$pgclient" --conninfo "host=127.0.0.1 port=$pgport dbname=cp user=practitioner" \
    --queries "$pg_set" --connections "$connections" --cap "$cap" --warmup \
    --answers "$work/pg-answers.jsonl" | tee "$work/pg-client.log"
  echo "load after: $(load)"
  queries_for_recall=$pg_set recall "$work/pg-answers.jsonl"
  pg_hits=$(queries_for_recall=$pg_set hits "$work/pg-answers.jsonl")
  pg_too=$(grep -c '"too_many_matches"' "$work/pg-answers.jsonl" || true)
  pg_tp=$(sed -n 's/^throughput \([0-9]*\) searches\/s/\1/p' "$work/pg-client.log")
  pg_p50=$(sed -n 's/^latency us: p50 \([0-9]*\) .*/\1/p' "$work/pg-client.log")
  pg_p99=$(sed -n 's/^latency us: .* p99 \([0-9]*\) .*/\1/p' "$work/pg-client.log")
fi

# ---------------------------------------------------------------- side by side
echo
echo "== side by side at $n children, $connections connections, cap $cap (load $(load))"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
printf '%-34s %16s %16s %10s\n' "" "contactpoint" "PostgreSQL 15" "cp / pg"
printf '%-34s %16s %16s %10s\n' "throughput (searches/s)" "${cp_tp:--}" "${pg_tp:--}" "$(ratio "$cp_tp" "$pg_tp")"
printf '%-34s %16s %16s %10s\n' "p50 latency (us)" "${cp_p50:--}" "${pg_p50:--}" "$(ratio "$cp_p50" "$pg_p50")"
printf '%-34s %16s %16s %10s\n' "p99 latency (us)" "${cp_p99:--}" "${pg_p99:--}" "$(ratio "$cp_p99" "$pg_p99")"
# Recall over the queries both sides answered: all 10,000, or the first PG_QUERIES.
if [ "$pg_queries" -lt 10000 ] && [ -f "$work/cp-answers.jsonl" ]; then
  head -n "$pg_queries" "$work/cp-answers.jsonl" > "$work/cp-answers-$pg_queries.jsonl"
  cp_hits=$(queries_for_recall=$work/queries-$pg_queries.csv hits "$work/cp-answers-$pg_queries.jsonl")
  cp_too=$(grep -c '"too_many_matches"' "$work/cp-answers-$pg_queries.jsonl" || true)
fi
printf '%-34s %16s %16s %10s\n' "recall (expected child found)" "${cp_hits:--}/$pg_queries" "${pg_hits:--}/$pg_queries" "$(ratio "$cp_hits" "$pg_hits")"
printf '%-34s %16s %16s %10s\n' "too many matches (of $pg_queries)" "${cp_too:--}" "${pg_too:--}" ""
echo "contactpoint: over TLS 1.3 with the audit trail on; PostgreSQL: plain TCP on loopback, no audit."
