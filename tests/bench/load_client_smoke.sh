#!/usr/bin/env bash
# Smoke test of bench/load_client (ctest load_client_smoke): a contactpointd over TLS on an
# ephemeral loopback port, a database of 300 generated children, and 600 searches on 4
# connections by two users: more than the police role's daily quota of 200 each, so the
# bench configuration ([bench] unmetered_daily_quota, high [limits]) is exercised too
# (without it 200 come back quota_exceeded). Passes when every search is answered (ok or
# too many matches) and none fails; no timing is asserted.
#   load_client_smoke.sh CONTACTPOINT CONTACTPOINTD LOAD_CLIENT
set -euo pipefail
cp_bin=$1 daemon_bin=$2 load_bin=$3
dir=$(mktemp -d /tmp/cp_load_smoke_XXXXXX)
daemon_pid=
cleanup() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then kill -TERM "$daemon_pid"; wait "$daemon_pid" || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$dir"/daemon.log "$dir"/load.out; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done; exit 1; }

"$cp_bin" gen --children 300 --seed 7 --as-of 2026-11-01 --out "$dir/children.csv" >/dev/null
"$cp_bin" init --db "$dir/db" >/dev/null
"$cp_bin" import --db "$dir/db" --source births "$dir/children.csv" >/dev/null
"$cp_bin" gen-queries --children-csv "$dir/children.csv" --count 60 --seed 3 --out "$dir/queries.csv" >/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null

"$cp_bin" account org-add --db "$dir/db" --org load_test --name "Load test" >/dev/null
"$cp_bin" account range-add --db "$dir/db" --org load_test 127.0.0.0/8 >/dev/null
: > "$dir/credentials.tsv"
chmod 600 "$dir/credentials.tsv"
for u in load1 load2; do
  printf 'smoke-test password %s\n' "$u" > "$dir/$u.pw"
  out=$("$cp_bin" account user-add --db "$dir/db" --user "$u" --org load_test --role police \
          --password-file "$dir/$u.pw")
  secret=$(sed -n 's/^TOTP secret[^:]*: //p' <<<"$out")
  [ -n "$secret" ] || fail "no TOTP secret in: $out"
  printf '%s\t%s\tsmoke-test password %s\n' "$u" "$secret" "$u" >> "$dir/credentials.tsv"
done

cat > "$dir/contactpointd.toml" <<TOML
[server]
listen_address = "127.0.0.1"
port = 0
workers = 2
io_threads = 1
[tls]
certificate = "$dir/cert.pem"
private_key = "$dir/key.pem"
[database]
dir = "$dir/db"
cache_mb = 8
[limits]
rate_per_second = 1000000.0
rate_burst = 1000000.0
[bench]
unmetered_daily_quota = true
TOML
"$daemon_bin" --config "$dir/contactpointd.toml" 2> "$dir/daemon.log" &
daemon_pid=$!
port=
for _ in $(seq 1 600); do
  port=$(sed -n 's/.*serving on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/daemon.log")
  [ -n "$port" ] && break
  kill -0 "$daemon_pid" 2>/dev/null || fail "contactpointd exited"
  sleep 0.1
done
[ -n "$port" ] || fail "contactpointd did not start serving"

"$load_bin" --server "127.0.0.1:$port" --ca-file "$dir/cert.pem" \
  --credentials "$dir/credentials.tsv" --queries "$dir/queries.csv" \
  --connections 4 --count 600 --reason "load client smoke test" > "$dir/load.out" 2>&1 \
  || fail "load_client exited with $?"
cat "$dir/load.out"
summary=$(grep '^summary: ' "$dir/load.out") || fail "no summary line"
searches=$(sed -n 's/.*searches=\([0-9]*\).*/\1/p' <<<"$summary")
ok=$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$summary")
errors=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$summary")
[ "$searches" = 600 ] || fail "expected 600 searches, got '$searches'"
[ "$errors" = 0 ] || fail "expected no errors, got '$errors'"
[ "$ok" -gt 0 ] || fail "expected some ok answers, got '$ok'"
grep -q "LOAD-TEST CONFIGURATION" "$dir/daemon.log" || fail "the daemon did not log its load-test configuration"

kill -TERM "$daemon_pid"
wait "$daemon_pid" || fail "contactpointd did not stop cleanly"
daemon_pid=
"$cp_bin" audit verify --db "$dir/db" >/dev/null || fail "the audit trail does not verify"
echo "load_client smoke test passed: $summary"
