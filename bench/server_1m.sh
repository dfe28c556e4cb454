#!/usr/bin/env bash
# The query server under load at N children (default 1,000,000): contactpointd over TLS 1.3
# on loopback with a self-signed certificate, the audit trail on (it always is), and
# `contactpoint load` at 1, 4 and 16 connections. Runs by hand, not in CI (minutes, GBs).
#   bench/server_1m.sh [children] [work dir]
# Environment: FROM=DIR copies DIR/db, DIR/db.key and DIR/queries.csv from a finished
# bench/run_1m.sh (its database is not touched); DURATION=seconds per run (default 20);
# CONNECTIONS="1 4 16"; MIX=share of record views among requests (default 0: searches
# only, as docs/performance.md measured them); PERF=1 records `perf record -g` of the
# daemon during the last run into WORK/perf.data, PERF=stat counts its instructions,
# cycles, page faults and context switches during each run (steadier than CPU seconds on
# a shared machine: divide by the requests of warm-up and run); WORKERS=N and IO_THREADS=N set the
# daemon's [server] workers and io_threads (default: the daemon's own defaults); SLOW_MS=N
# sets [log] slow_request_ms, so that WORK/daemon.log lists each request that took N ms or
# more beside RocksDB's flush, compaction and stall lines (default: the daemon's 1000).
#
# The daemon's configuration is written to WORK/contactpointd.toml: rate limits raised and
# `[bench] unmetered_daily_quota = true` (allowed on loopback only), so that one user may
# search thousands of times a second; everything else is the production default.
set -euo pipefail
. "$(dirname "$0")/daemon_port.sh"
n=${1:-1000000}
work=${2:-/tmp/cp-server-$n}
build=${BUILD_DIR:-build/release}
bin=$build/tools/contactpoint
daemon=$build/server/contactpointd
duration=${DURATION:-20}
connections=${CONNECTIONS:-1 4 16}
mix=${MIX:-0}
[ -x "$bin" ] && [ -x "$daemon" ] || make build
mkdir -p "$work"
work=$(cd "$work" && pwd)

if [ ! -d "$work/db" ]; then
  if [ -n "${FROM:-}" ]; then
    echo "== copy the database of $FROM"
    cp -r "$FROM/db" "$FROM/db.key" "$work/"
    [ -f "$FROM/queries.csv" ] && cp "$FROM/queries.csv" "$work/"
  else
    echo "== generate and import $n children"
    [ -f "$work/children.csv" ] || "$bin" gen --children "$n" --seed 1 --as-of 2026-11-01 --out "$work/children.csv"
    "$bin" init --db "$work/db" >/dev/null
    "$bin" import --db "$work/db" --source births "$work/children.csv"
    "$bin" compact --db "$work/db"
  fi
fi
# Write the copied or imported database out before the daemon starts: left in the page
# cache, it is written back some 30 s later (vm.dirty_expire_centisecs), and the audit
# trail's syncs queue behind that writeback (docs/performance.md: searches of 200-860 ms at
# the start of the second run, none once the copy was synced).
sync
if [ ! -f "$work/queries.csv" ]; then
  "$bin" gen-queries --children-csv "$work/children.csv" --count 10000 --seed 2 --fuzzy-share 0.5 --out "$work/queries.csv"
fi

if [ ! -f "$work/cert.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
fi

# One user per connection of every run, so that no run reuses another's TOTP codes.
total=0
for c in $connections; do total=$((total + c)); done
if [ ! -f "$work/credentials.tsv" ] || [ "$(wc -l < "$work/credentials.tsv")" -lt "$total" ]; then
  echo "== organisation and $total users (password + TOTP)"
  "$bin" account org-add --db "$work/db" --org bench --name "Load test" >/dev/null 2>&1 || true
  "$bin" account range-add --db "$work/db" --org bench 127.0.0.0/8 >/dev/null 2>&1 || true
  : > "$work/credentials.tsv.new"
  chmod 600 "$work/credentials.tsv.new"
  for i in $(seq 1 "$total"); do
    u=$(printf 'bench%02d.%s' "$i" "$(date +%s)")
    pw="load test password $RANDOM$RANDOM"
    secret=$(printf '%s\n' "$pw" | "$bin" account user-add --db "$work/db" --user "$u" --org bench \
               --role police | sed -n 's/^TOTP secret[^:]*: //p')
    printf '%s\t%s\t%s\n' "$u" "$secret" "$pw" >> "$work/credentials.tsv.new"
  done
  mv "$work/credentials.tsv.new" "$work/credentials.tsv"
fi

cat > "$work/contactpointd.toml" <<TOML
[server]
listen_address = "127.0.0.1"
port = 0
${WORKERS:+workers = $WORKERS}
${IO_THREADS:+io_threads = $IO_THREADS}
[tls]
certificate = "$work/cert.pem"
private_key = "$work/key.pem"
[database]
dir = "$work/db"
cache_mb = 2048
[limits]
rate_per_second = 1000000.0
rate_burst = 1000000.0
[bench]
unmetered_daily_quota = true
# No lifecycle run at start-up: it would scan every child beside the measured load.
[retention]
enabled = false
${SLOW_MS:+[log]}
${SLOW_MS:+slow_request_ms = $SLOW_MS}
TOML

echo "== start contactpointd"
"$daemon" --config "$work/contactpointd.toml" 2> "$work/daemon.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
port=$(wait_for_port "$work/daemon.log" "$pid" 600 0.1) || { echo "contactpointd did not start"; exit 1; }
echo "serving on port $port (pid $pid), git $(git rev-parse --short HEAD 2>/dev/null || echo '?')"

ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
first=1
last=${connections##* }
for c in $connections; do
  tail -n +"$first" "$work/credentials.tsv" | head -n "$c" > "$work/credentials-$c.tsv"
  chmod 600 "$work/credentials-$c.tsv"
  first=$((first + c))
  echo
  echo "== $c connection(s), ${duration} s after 3 s of warm-up; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  perf_pid=
  if [ "${PERF:-0}" = 1 ] && [ "$c" = "$last" ]; then
    perf record -g -o "$work/perf.data" -p "$pid" -- sleep $((duration + 3)) 2> "$work/perf.log" &
    perf_pid=$!
  elif [ "${PERF:-0}" = stat ]; then
    perf stat -e instructions,cycles,page-faults,context-switches -o "$work/perf-stat-$c.txt" \
      -p "$pid" -- sleep $((duration + 3)) 2> /dev/null &
    perf_pid=$!
  fi
  before=$(cpu)
  "$bin" load --server "127.0.0.1:$port" --tls-ca "$work/cert.pem" --credentials "$work/credentials-$c.tsv" \
    --queries "$work/queries.csv" --connections "$c" --warmup 3 --duration "$duration" --mix "$mix" \
    --reason "load test at $n children" || echo "(contactpoint load exit code $?)"
  after=$(cpu)
  [ -n "$perf_pid" ] && wait "$perf_pid"
  if [ "${PERF:-0}" = stat ]; then
    grep -E "instructions|cycles|page-faults|context-switches" "$work/perf-stat-$c.txt" | sed 's/^/  daemon /'
  fi
  echo "server CPU (user + sys, warm-up included): $(awk -v t="$((after - before))" -v h="$ticks" 'BEGIN{printf "%.2f s", t/h}'); load after: $(cut -d' ' -f1-3 /proc/loadavg)"
done

echo
echo "== stop (SIGTERM) and drain"
kill -TERM "$pid"
wait "$pid" || echo "(contactpointd exit code $?)"
trap - EXIT
tail -n 3 "$work/daemon.log"
echo "audit trail: $(du -sh "$work/db" | cut -f1) database"
