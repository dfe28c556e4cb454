#!/usr/bin/env bash
# Feed apply throughput into a database that already holds N children (default 1,000,000):
# unchanged, updated and new records measured separately, each as its own batch.
#
#   bench/feed_1m.sh [N] [DIR]       # needs `make build`; about 4 GB of disk at 1M
#
# The N children are generated (seed 1) and bulk-imported as source `births`. Then:
#   unchanged  the first 100,000 of them sent again by `births` (batch 1)
#   updated    the next 20,000 with a new address (batch 2)
#   new        20,000 children of another seed from `health` (batch 1): matched, mostly new
#
# SHIELD_EVERY=K shields every K-th child (ids K, 2K, ...) after the import: matching reads
# shielded children whatever they rank, so their share changes what a new record costs
# (docs/performance.md). Unset or 0: none shielded.
set -euo pipefail
N=${1:-1000000}
DIR=${2:-/tmp/cp-feed-bench}
BIN=${BIN:-build/release/tools/contactpoint}
[ -x "$BIN" ] || { echo "build first: make build" >&2; exit 1; }
rm -rf "$DIR" && mkdir -p "$DIR"
DB="$DIR/db"

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%d records in %.2f s: %.0f records/s", n, b - a, n / (b - a) }'; }

"$BIN" gen --children "$N" --seed 1 --as-of 2026-11-01 --out "$DIR/children.csv"
"$BIN" init --db "$DB" > /dev/null
"$BIN" import --db "$DB" --source births --compact "$DIR/children.csv" 2>&1 | tail -2
SHIELD_EVERY=${SHIELD_EVERY:-0}
if [ "$SHIELD_EVERY" -gt 0 ]; then
  seq "$SHIELD_EVERY" "$SHIELD_EVERY" "$N" | xargs "$BIN" shield --db "$DB" --by bench --reason "feed bench" | wc -l |
    awk -v k="$SHIELD_EVERY" '{ printf "shielded %d children (1 in %d)\n", $1, k }'
fi

# The database as imported, kept for bench/feed_ab.sh (which applies to fresh copies).
rm -rf "$DIR/imported" "$DIR/imported.key"
cp -r "$DB" "$DIR/imported" && cp "$DB.key" "$DIR/imported.key"

head -n 100001 "$DIR/children.csv" > "$DIR/unchanged.csv"
# Updated: rows 100,001..120,000 with a new address (the first quoted field; gen quotes
# every address, and no other field of its holds a quote).
{ head -n 1 "$DIR/children.csv"; sed -n '100002,120001p' "$DIR/children.csv" |
    sed -E 's/"[^"]*"/"99 Moved Road, Leeds"/'; } > "$DIR/updated.csv"
"$BIN" gen --children 20000 --seed 99 --as-of 2026-11-01 --out "$DIR/new.csv"
sed -i 's/^gen-/new-/' "$DIR/new.csv"

# Each apply under /usr/bin/time: CPU time (user + sys) is the steadier figure on a shared
# machine. FEED_ARGS passes options through (e.g. "--threads 1"). An apply's figures include
# flushing its own writes when the store closes; none pays for replaying the previous
# apply's write-ahead log (before 2026-11-29 each did: RocksDB does not flush on close).
apply() {
  local label=$1 n=$2; shift 2
  local t0 t1
  t0=$(now)
  /usr/bin/time -f "%U %S" -o "$DIR/time.txt" "$BIN" feed apply --db "$DB" ${FEED_ARGS:-} "$@"
  t1=$(now)
  echo "$label $(rate "$n" "$t0" "$t1"); CPU $(awk '{ printf "%.2f s", $1 + $2 }' "$DIR/time.txt"); load $(cut -d' ' -f1 /proc/loadavg)"
}
apply "unchanged:" 100000 --source births --batch 1 "$DIR/unchanged.csv"
apply "updated:  " 20000 --source births --batch 2 "$DIR/updated.csv"
apply "new:      " 20000 --source health --batch 1 "$DIR/new.csv"
