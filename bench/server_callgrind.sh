#!/usr/bin/env bash
# Instructions per search in contactpointd, which the machine's load does not change (a
# steadier A/B than CPU seconds on a shared machine). Needs a work directory prepared by
# bench/server_1m.sh (its database, certificate, credentials and contactpointd.toml).
#   bench/server_callgrind.sh WORK LABEL [searches]     # e.g. /tmp/cp-server-enc before
# Runs the daemon under valgrind --tool=callgrind, sends 10,000 warm-up searches on 8
# connections (one user), zeroes the counts (callgrind_control -z), sends `searches`
# (default 2,000) more, dumps (callgrind_control -d) and prints the totals and the
# inclusive cost of the main parts. Output in WORK/callgrind-LABEL/. About 4 minutes.
set -euo pipefail
. "$(dirname "$0")/daemon_port.sh"
work=${1:?work directory of bench/server_1m.sh}
label=${2:?label}
searches=${3:-2000}
build=${BUILD_DIR:-build/release}
daemon=$build/server/contactpointd
client=$build/tools/contactpoint
out=$work/callgrind-$label
rm -rf "$out" && mkdir -p "$out"
head -n 1 "$work/credentials.tsv" > "$out/cred.tsv"
chmod 600 "$out/cred.tsv"
valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" \
  "$daemon" --config "$work/contactpointd.toml" 2> "$out/daemon.log" &
vpid=$!
trap 'kill -TERM $vpid 2>/dev/null || true' EXIT
port=$(wait_for_port "$out/daemon.log" "$vpid" 1200 0.25) || { echo "contactpointd did not start under valgrind"; exit 1; }
load() {
  "$client" load --server "127.0.0.1:$port" --tls-ca "$work/cert.pem" --credentials "$out/cred.tsv" \
    --queries "$work/queries.csv" --connections 8 --mix 0 --requests "$1" --timeout-ms 600000 \
    --reason "callgrind" | grep -E "^summary"
}
load 10000
callgrind_control -z "$vpid" > /dev/null
load "$searches"
callgrind_control -d "$vpid" > /dev/null
kill -TERM "$vpid"
wait "$vpid" || true
trap - EXIT
dump=$(ls "$out"/callgrind.out.* | head -1)
callgrind_annotate --inclusive=yes "$dump" 2> /dev/null > "$out/inclusive.txt"
grep -E "PROGRAM TOTALS|RequestHandler::Login|RequestHandler::Search|Searcher::Search|AuditLog::Impl::CommitLoop|ssl::detail::engine::perform" \
  "$out/inclusive.txt" | cut -c1-120
echo "per search: (total - Login) / $searches; the whole profile: $out/inclusive.txt"
