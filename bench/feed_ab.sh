#!/usr/bin/env bash
# Two builds' feed apply side by side: the unchanged, updated and new batches of
# bench/feed_1m.sh, applied by each binary in turn to a fresh copy of the same import,
# ROUNDS times. On a shared machine the speed moves by a third from minute to minute;
# alternating runs is how two builds are compared (docs/performance.md).
#
#   bench/feed_1m.sh 1000000 DIR                          # once: the import and the batches
#   bench/feed_ab.sh DIR BIN_A BIN_B [ROUNDS]            # default 3 rounds
#   DIR_B=DIR2 bench/feed_ab.sh DIR BIN_A BIN_B          # B on its own import (DIR2)
#
# Prints one line per batch: binary, records/s over the process's whole run (opening and
# closing the store included, as feed_1m.sh), CPU (user + sys) and the counts.
set -euo pipefail
DIR=${1:?usage: bench/feed_ab.sh DIR BIN_A BIN_B [ROUNDS]}
A=${2:?binary A}
B=${3:?binary B}
ROUNDS=${4:-3}
[ -d "$DIR/imported" ] || { echo "no $DIR/imported: run bench/feed_1m.sh N $DIR first" >&2; exit 1; }
RUN="$DIR/ab-run"
# DIR_B: B's own import (another feed_1m.sh directory, made by B), for a change to what an
# import writes (options, compression, index entries); the batches are DIR's either way.
DIR_B=${DIR_B:-$DIR}
[ -d "$DIR_B/imported" ] || { echo "no $DIR_B/imported" >&2; exit 1; }

one() {
  local bin=$1 label=$2 n=$3; shift 3
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$DIR/ab-time.txt" "$bin" feed apply --db "$RUN" "$@" > "$DIR/ab-out.txt"
  t1=$(date +%s.%N)
  awk -v b="$(basename "$bin")" -v l="$label" -v n="$n" -v a="$t0" -v z="$t1" \
    -v cpu="$(awk '{ printf "%.2f", $1 + $2 }' "$DIR/ab-time.txt")" -v counts="$(tail -1 "$DIR/ab-out.txt")" \
    'BEGIN { printf "%-12s %-9s %8.0f records/s  %6.2f s  CPU %6.2f s  %s\n", b, l, n / (z - a), z - a, cpu, counts }'
}

for round in $(seq 1 "$ROUNDS"); do
  echo "round $round ($(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1 /proc/loadavg))"
  for bin in "$A" "$B"; do
    from=$DIR
    [ "$bin" = "$B" ] && from=$DIR_B
    rm -rf "$RUN" "$RUN.key"
    cp -r "$from/imported" "$RUN" && cp "$from/imported.key" "$RUN.key"
    sync
    one "$bin" unchanged 100000 --source births --batch 1 "$DIR/unchanged.csv"
    one "$bin" updated 20000 --source births --batch 2 "$DIR/updated.csv"
    one "$bin" new 20000 --source health --batch 1 "$DIR/new.csv"
  done
done
rm -rf "$RUN" "$RUN.key"
