#!/usr/bin/env bash
# Smoke test of `contactpoint load` (ctest load_client_smoke): 600 measured requests on 4
# connections by two users, searches and record views mixed (the default one view per four
# searches): more than the police role's daily quota of 200 each, so the bench
# configuration ([bench] unmetered_daily_quota, high [limits]) is exercised too (without
# it 200 come back quota_exceeded). Passes when every request is answered (ok, too many
# matches) and none fails; no timing is asserted.
#   load_client_smoke.sh CONTACTPOINT CONTACTPOINTD
source "$(dirname "$0")/load_env.sh"
load_make_db load1 load2 load3
cat "$dir/load1.tsv" "$dir/load2.tsv" > "$dir/credentials.tsv"
chmod 600 "$dir/credentials.tsv"
load_start_daemon

"$cp_bin" load --server "127.0.0.1:$port" --tls-ca "$dir/cert.pem" \
  --credentials "$dir/credentials.tsv" --queries "$dir/queries.csv" \
  --connections 4 --requests 600 --reason "load client smoke test" --json > "$dir/load.out" 2>&1 \
  || fail "contactpoint load exited with $?"
cat "$dir/load.out"
jq -e '.total.requests == 600' "$dir/load.out" >/dev/null || fail "expected 600 requests"
jq -e '.errors == 0' "$dir/load.out" >/dev/null || fail "expected no errors"
jq -e '.search.ok > 0 and .view.ok > 0' "$dir/load.out" >/dev/null || fail "expected ok searches and views"
jq -e '.search.requests + .view.requests == .total.requests' "$dir/load.out" >/dev/null \
  || fail "per-type requests do not add up to the total"
jq -e '.total.p50_us > 0 and .total.p50_us <= .total.p99_us and .total.p99_us <= .total.p999_us' \
  "$dir/load.out" >/dev/null || fail "percentiles out of order"
grep -q "LOAD-TEST CONFIGURATION" "$dir/daemon.log" || fail "the daemon did not log its load-test configuration"

# The text report keeps its one line for scripts (bench/server_1m.sh).
"$cp_bin" load --server "127.0.0.1:$port" --tls-ca "$dir/cert.pem" \
  --credentials "$dir/credentials.tsv" --queries "$dir/queries.csv" \
  --connections 2 --requests 50 --mix 0 > "$dir/text.out" 2>&1 || fail "text run exited with $?"
grep -q '^summary: searches=50 views=0 ok=[0-9]* too_many_matches=[0-9]* errors=0$' "$dir/text.out" \
  || fail "no summary line for 50 searches without views"

# Two client threads share four connections (connection i on thread i % 2).
"$cp_bin" load --server "127.0.0.1:$port" --tls-ca "$dir/cert.pem" \
  --credentials "$dir/credentials.tsv" --queries "$dir/queries.csv" \
  --connections 4 --threads 2 --requests 200 --json > "$dir/threads.out" 2>&1 \
  || fail "two-thread run exited with $?"
jq -e '.total.requests == 200 and .errors == 0' "$dir/threads.out" >/dev/null \
  || fail "two-thread run: expected 200 requests and no errors"

# A server that stops answering: each call has --timeout-ms, the watchdog closes the
# connection, the failure is counted as transport, and the run still ends on time. Its own
# user: load1 and load2 have used this TOTP step's codes, and the client would wait for
# the next step before sending anything.
chmod 600 "$dir/load3.tsv"
timeout 60 "$cp_bin" load --server "127.0.0.1:$port" --tls-ca "$dir/cert.pem" \
  --credentials "$dir/load3.tsv" --queries "$dir/queries.csv" \
  --connections 2 --duration 8 --timeout-ms 300 --json > "$dir/stall.out" 2>&1 &
load_pid=$!
sleep 3
kill -STOP "$daemon_pid"
sleep 2
kill -CONT "$daemon_pid"
rc=0
wait "$load_pid" || rc=$?
[ "$rc" != 124 ] || fail "the load client hung after the server stalled"
[ "$rc" != 0 ] || fail "a run with transport errors exited 0"
cat "$dir/stall.out"
jq -e '.total.requests > 0' "$dir/stall.out" >/dev/null || fail "stall run: nothing answered"
jq -e '(.search.errors.transport // 0) + (.view.errors.transport // 0) > 0' \
  "$dir/stall.out" >/dev/null || fail "stall run: the timed-out calls were not counted as transport errors"

load_stop_daemon
echo "load client smoke test passed"
