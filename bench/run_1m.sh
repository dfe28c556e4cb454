#!/usr/bin/env bash
# The issue's figures at 1M children: import rate, database size, in-process search
# latency for a mix of exact and fuzzy queries. Runs by hand, not in CI (minutes, GBs).
#   bench/run_1m.sh [children] [work dir]
# CP_BENCH_UNENCRYPTED=1: the database without file encryption at rest, to measure what
# encryption costs (docs/performance.md); never for real data.
set -euo pipefail
n=${1:-1000000}
work=${2:-/tmp/cp-bench-$n}
build=${BUILD_DIR:-build/release}
bin=$build/tools/contactpoint
[ -x "$bin" ] || make build
enc=()
[ "${CP_BENCH_UNENCRYPTED:-}" = 1 ] && enc=(--unencrypted-files)
mkdir -p "$work"
echo "== generate $n children"
[ -f "$work/children.csv" ] || /usr/bin/time -f "gen: %e s, max RSS %M KB" "$bin" gen --children "$n" --seed 1 --as-of 2026-11-01 --out "$work/children.csv"
rm -rf "$work/db" "$work/db.key"
"$bin" init --db "$work/db" "${enc[@]}" >/dev/null
echo "== import (rows/s on the line below)"
/usr/bin/time -f "import: %e s wall, max RSS %M KB" "$bin" import --db "$work/db" "${enc[@]}" --source births "$work/children.csv"
echo "== database size after import: $(du -sb "$work/db" | cut -f1) bytes"
/usr/bin/time -f "compaction: %e s wall, max RSS %M KB" "$bin" compact --db "$work/db" "${enc[@]}"
echo "== database size: $(du -sb "$work/db" | cut -f1) bytes ($(du -sh "$work/db" | cut -f1))"
echo "== queries: 10,000, half exact, half fuzzy"
"$bin" gen-queries --children-csv "$work/children.csv" --count 10000 --seed 2 --fuzzy-share 0.5 --out "$work/queries.csv"
# --warmup runs the set once untimed: the figures are a warm cache, as in a running server.
for t in 1 2; do
  echo "== batch search, $t thread(s), warm"
  "$bin" search --db "$work/db" "${enc[@]}" --queries "$work/queries.csv" --threads "$t" --warmup \
    --cache-mb 2048 > "$work/answers-$t.jsonl"
done
echo "== recall (expected child in the results)"
bash "$(dirname "$0")/recall.sh" "$work/queries.csv" "$work/answers-1.jsonl"
echo "== Google Benchmark (in-process, one thread)"
CP_BENCH_DB="$work/db" CP_BENCH_QUERIES="$work/queries.csv" $build/bench/search_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
