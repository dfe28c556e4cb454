#!/usr/bin/env bash
# `contactpoint load --answers` (ctest load_client_answers): recall over the wire equals
# recall in-process. The same query file goes through `contactpoint search --queries`
# against the database and through `contactpoint load --queries ... --answers` against a
# contactpointd serving that database (3 connections, record views mixed in); the answer
# lines must be identical, byte for byte (ids, scores, shielded children without their
# hidden fields), and so must bench/recall.sh's figures. Then bad inputs: a missing query
# file, a malformed query row, a malformed credentials file and a wrong password each
# give a clear message and a non-zero exit, and write no answers.
#   load_client_answers.sh CONTACTPOINT CONTACTPOINTD
source "$(dirname "$0")/load_env.sh"
recall=$(cd "$(dirname "$0")/../../bench" && pwd)/recall.sh
load_make_db load1 load2

# A shielded child among the answers, and a row the searcher refuses (a family name alone
# is not enough): both must come back over the wire exactly as they do locally.
"$cp_bin" search --db "$dir/db" --queries "$dir/queries.csv" > "$dir/before.jsonl" 2>/dev/null
shield_id=$(jq -r 'select(.status == "ok") | .results[0].child_id // empty' "$dir/before.jsonl" | head -n 1)
[ -n "$shield_id" ] || fail "no query found a child"
"$cp_bin" shield --db "$dir/db" "$shield_id" --by "Load test" --reason "shielded for the test" >/dev/null
printf 'q-family-only,,Smith,,,,,,,,,family_only\n' >> "$dir/queries.csv"
queries=$(($(wc -l < "$dir/queries.csv") - 1))
"$cp_bin" search --db "$dir/db" --queries "$dir/queries.csv" > "$dir/local.jsonl" 2>/dev/null
jq -s -e --argjson id "$shield_id" '[.[].results[] | select(.child_id == $id)]
  | length > 0 and all(.shielded and (.record | has("address") | not))' "$dir/local.jsonl" >/dev/null \
  || fail "the shielded child $shield_id is not among the local answers, or not without its address"
jq -s -e 'map(select(.query_id == "q-family-only")) | length == 1 and .[0].status == "invalid_criteria"' \
  "$dir/local.jsonl" >/dev/null || fail "q-family-only is not answered invalid_criteria locally"

load_start_daemon
"$cp_bin" load --server "127.0.0.1:$port" --tls-ca "$dir/cert.pem" --user load1 \
  --password-file "$dir/load1.pw" --totp-secret-file "$dir/load1.secret" \
  --queries "$dir/queries.csv" --answers "$dir/wire.jsonl" --connections 3 --json \
  > "$dir/load.out" 2> "$dir/load.err" || fail "contactpoint load --answers exited with $?"
[ "$(wc -l < "$dir/wire.jsonl")" = "$queries" ] || fail "expected $queries answer lines, got $(wc -l < "$dir/wire.jsonl")"
jq -e --argjson n "$queries" '.search.requests == $n and .errors == 0 and .view.requests > 0' \
  "$dir/load.out" >/dev/null || fail "expected $queries searches, some views and no errors"
jq -e '.search.invalid_criteria == 1' "$dir/load.out" >/dev/null || fail "expected one invalid_criteria answer"
cmp "$dir/local.jsonl" "$dir/wire.jsonl" || { diff "$dir/local.jsonl" "$dir/wire.jsonl" | head -20; fail "answers over the wire differ from local answers"; }
bash "$recall" "$dir/queries.csv" "$dir/local.jsonl" > "$dir/recall-local.out"
bash "$recall" "$dir/queries.csv" "$dir/wire.jsonl" > "$dir/recall-wire.out"
cmp "$dir/recall-local.out" "$dir/recall-wire.out" || fail "recall over the wire differs from local recall"
grep -q '^all: [1-9][0-9]*/'"$queries"'$' "$dir/recall-wire.out" || fail "recall.sh found nothing: $(cat "$dir/recall-wire.out")"
cat "$dir/recall-wire.out"

# '-' writes the answers to stdout and the report to stderr.
"$cp_bin" load --server "127.0.0.1:$port" --tls-ca "$dir/cert.pem" --credentials "$dir/load2.tsv" \
  --queries "$dir/queries.csv" --answers - --mix 0 > "$dir/stdout.jsonl" 2> "$dir/stdout.err" \
  || fail "--answers - exited with $?"
cmp "$dir/local.jsonl" "$dir/stdout.jsonl" || fail "answers on stdout differ from local answers"
grep -q '^summary: searches='"$queries"' views=0 ' "$dir/stdout.err" || fail "no report on stderr"

# Bad inputs: exit code, message, and no answers written.
expect_failure() {  # CODE PATTERN ARGS...
  local code=$1 pattern=$2 got=0
  shift 2
  rm -f "$dir/bad.jsonl"
  "$cp_bin" load --server "127.0.0.1:$port" --tls-ca "$dir/cert.pem" --answers "$dir/bad.jsonl" "$@" \
    > "$dir/bad.out" 2>&1 || got=$?
  [ "$got" = "$code" ] || fail "expected exit $code for: $*; got $got: $(cat "$dir/bad.out")"
  grep -q -- "$pattern" "$dir/bad.out" || fail "expected '$pattern' for: $*; got: $(cat "$dir/bad.out")"
  [ ! -s "$dir/bad.jsonl" ] || fail "answers written for: $*"
}
expect_failure 2 "cannot read the query file $dir/missing.csv" \
  --credentials "$dir/load1.tsv" --queries "$dir/missing.csv"
head -n 3 "$dir/queries.csv" > "$dir/malformed.csv"
printf 'q-bad-date,Olivia,Smith,2016-13-45,,,F,,,,,exact\n' >> "$dir/malformed.csv"
expect_failure 2 "row 3 (line 4, query_id 'q-bad-date'): date_of_birth" \
  --credentials "$dir/load1.tsv" --queries "$dir/malformed.csv"
printf 'load1 no tabs here\n' > "$dir/bad.tsv"
expect_failure 2 "bad.tsv line 1: not user<TAB>TOTP secret<TAB>password" \
  --credentials "$dir/bad.tsv" --queries "$dir/queries.csv"
printf 'load2\t%s\tnot the password\n' "$(cat "$dir/load2.secret")" > "$dir/wrong.tsv"
expect_failure 3 "login of load2 refused: bad_credentials" \
  --credentials "$dir/wrong.tsv" --queries "$dir/queries.csv"

load_stop_daemon
echo "load client answers test passed"
