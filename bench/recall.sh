#!/usr/bin/env bash
# Recall of a set of answers: whether each query's expected child (its expected_source_key
# among a result's source keys) was found, by noise type and over all. Reads a query file
# from `contactpoint gen-queries` and the JSON lines answering it, from `contactpoint
# search --queries` (in-process) or `contactpoint load --answers` (over the wire); lines
# are matched to queries by query_id, so their order does not matter.
#   bench/recall.sh QUERIES.csv ANSWERS.jsonl
# Prints "NOISE: found/total" per noise type (sorted), then "all: found/total", then
# "too_many_matches: N". Needs jq. The CSV is split on commas: gen-queries writes no
# quoted fields.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 QUERIES.csv ANSWERS.jsonl" >&2; exit 2; }
jq -s -r --rawfile q "$1" '
  ($q | split("\n") | map(select(length > 0) | split(","))) as $rows
  | ($rows[0] | index("query_id")) as $id
  | ($rows[0] | index("expected_source_key")) as $key
  | ($rows[0] | index("noise")) as $noise
  | if $id == null or $key == null or $noise == null then
      error("the query file has no query_id, expected_source_key or noise column") else . end
  | (map({(.query_id): .}) | add // {}) as $answers
  | [$rows[1:][] | {noise: .[$noise], expected: .[$key],
      answer: $answers[.[$id]]}]
  | if any(.answer == null) then error("a query has no answer line") else . end
  | map(.expected as $e | . + {hit: ($e != "" and ([.answer.results[].sources[].key] | index($e) != null))}) as $all
  | ($all | group_by(.noise) | map("\(.[0].noise): \(map(select(.hit)) | length)/\(length)") | .[]),
    "all: \($all | map(select(.hit)) | length)/\($all | length)",
    "too_many_matches: \($all | map(select(.answer.status == "too_many_matches")) | length)"' "$2"
