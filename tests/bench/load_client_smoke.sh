#!/usr/bin/env bash
# Smoke test of `contactpoint load` (ctest load_client_smoke): 600 measured requests on 4
# connections by two users, searches and record views mixed (the default one view per four
# searches): more than the police role's daily quota of 200 each, so the bench
# configuration ([bench] unmetered_daily_quota, high [limits]) is exercised too (without
# it 200 come back quota_exceeded). Passes when every request is answered (ok, too many
# matches) and none fails; no timing is asserted.
#   load_client_smoke.sh CONTACTPOINT CONTACTPOINTD
source "$(dirname "$0")/load_env.sh"
load_make_db load1 load2
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

load_stop_daemon
echo "load client smoke test passed"
