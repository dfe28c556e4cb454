#!/usr/bin/env bash
# `make run`: builds a demo database of 100,000 generated children (once) and shows what
# the engine does: exact and fuzzy searches, the result cap, refused criteria, and
# shielding; then the query server: a development TLS certificate, a demo organisation and
# user (password + TOTP), contactpointd in the background, searches over the wire, and a
# graceful drain on SIGTERM. Everything it makes stays in the demo directory.
set -euo pipefail
build_dir=${1:-build/release}
cp_bin="$build_dir/tools/contactpoint"
demo=${DEMO_DIR:-demo}
db="$demo/db"
children="$demo/children.csv"

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; }
run() { step "$1" "contactpoint ${*:2}"; "$cp_bin" "${@:2}" || echo "(exit code $?)"; }

mkdir -p "$demo"
# A demo database this build cannot open (made before encryption at rest, or by an older
# schema) is made again: it holds only generated children.
if [ -d "$db" ] && ! "$cp_bin" get --db "$db" 1 >/dev/null 2>&1; then
  echo "the demo database in $db was made by an older build; making it again"
  rm -rf "$db" "$db.key" "$demo/demo-user.password" "$demo/demo-user.totp-secret"
fi
if [ ! -d "$db" ]; then
  step "generate 100,000 children" "contactpoint gen --children 100000 --seed 42 --out $children"
  "$cp_bin" gen --children 100000 --seed 42 --out "$children"
  "$cp_bin" init --db "$db"
  step "import them" "contactpoint import --db $db --source births $children --compact"
  "$cp_bin" import --db "$db" --source births "$children" --compact
fi

# A child to look for: the first one in the database.
json=$("$cp_bin" get --db "$db" 1 --json)
field() { jq -r ".record.$1" <<<"$json"; }
given=$(field given_name); family=$(field family_name); dob=$(field date_of_birth)
gender=$(field gender); postcode=$(field postcode); nhs=$(field nhs_number)
typo_family="${family:0:1}${family:2:1}${family:1:1}${family:3}"
swapped_dob="${dob:0:4}-${dob:8:2}-${dob:5:2}"

run "exact search" search --db "$db" --given "$given" --family "$family" --dob "$dob"
run "a typo in the family name ($typo_family)" search --db "$db" --given "$given" --family "$typo_family" --dob "$dob"
run "given and family names swapped" search --db "$db" --given "$family" --family "$given" --dob "$dob"
if [ "${dob:8:2}" -le 12 ]; then
  run "day and month swapped ($swapped_dob)" search --db "$db" --given "$given" --family "$family" --dob "$swapped_dob"
fi
run "an initial and a date-of-birth range" search --db "$db" --given "${given:0:1}" --family "$family" --dob-from "${dob:0:4}-01-01" --dob-to "$((${dob:0:4} + 1))-12-31"
run "by NHS number alone, as JSON" search --db "$db" --nhs-number "$nhs" --json
run "family name + date of birth + gender + postcode" search --db "$db" --family "$family" --dob "$dob" --gender "$gender" --postcode "$postcode"
run "too broad: refused before any index is touched" search --db "$db" --family "$family"
run "a common name over two years, cap set to 5: too many matches, refine (no records)" search --db "$db" --given J --family Smith --dob-from 2015-01-01 --dob-to 2016-12-31 --limit 5

# Feeds: health sends the same child with a typo, a swapped date and a new address, and one
# child the index does not hold yet.
feed_dob=$dob
if [ "${dob:8:2}" -le 12 ]; then feed_dob=$swapped_dob; fi
health="$demo/health_batch1.csv"
printf 'source_key,given_name,family_name,date_of_birth,gender,address,postcode,gp_practice\n%s\n%s\n' \
  "h-1,$given,$typo_family,$feed_dob,$gender,\"9 Demo Road, Leeds\",LS9 9ZZ,Demo Surgery" \
  "h-2,Ada,Lovelace,2015-12-10,F,\"1 Analytical Way, London\",N1 9GU,Demo Surgery" > "$health"
run "a second source: health's batch 1 (matched, linked, one new child)" feed apply --db "$db" --source health --batch 1 "$health"
run "the same batch again changes nothing" feed apply --db "$db" --source health --batch 1 "$health"
run "a gap in the sequence is refused" feed apply --db "$db" --source health --batch 3 "$health"
run "why did health's record link? (weights per field, no location shown)" explain --db "$db" --source health --key h-1
run "the best view: births for the date of birth, health for the GP and the newest address" get --db "$db" 1

run "shield the child" shield --db "$db" 1 --by la_demo --reason "demo: fleeing violence"
run "found by name, location hidden" search --db "$db" --given "$given" --family "$family" --dob "$dob"
run "never found by postcode" search --db "$db" --family "$family" --dob "$dob" --gender "$gender" --postcode "$postcode"
refuge="$demo/la_demo_batch1.csv"
printf 'source_key,given_name,family_name,date_of_birth,gender,address,postcode\n%s\n' \
  "la-1,$given,$family,$dob,$gender,\"Refuge House, Bradford\",BD7 1AA" > "$refuge"
run "a local authority feeds the shielded child's refuge address: it links to the shielded child, no duplicate" feed apply --db "$db" --source la_demo --batch 1 "$refuge"
run "still shielded, the refuge address shown nowhere" get --db "$db" 1
run "every source's feed" feed status --db "$db"
run "lift the shield again" unshield --db "$db" 1 --by la_demo --reason "demo over"
run "Double Metaphone codes" phonetic Smith Schmidt Siobhan Catherine Kathryn

# ---- The query server ---------------------------------------------------------------------
daemon_bin="$build_dir/server/contactpointd"
port=${DEMO_PORT:-7443}
tls="$demo/tls"
cert="$tls/server.crt"
password_file="$demo/demo-user.password"
secret_file="$demo/demo-user.totp-secret"
session_file="$demo/demo-session"
config="$demo/contactpointd.toml"
daemon_log="$demo/contactpointd.log"
user=demo.worker

# A development certificate for 127.0.0.1 and localhost, made again when it has expired.
mkdir -p "$tls"
if ! openssl x509 -checkend 3600 -noout -in "$cert" >/dev/null 2>&1; then
  step "a development TLS certificate (self-signed, 30 days, never for production)" \
    "openssl req -x509 -newkey ec ... -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
    -keyout "$tls/server.key" -out "$cert" 2>/dev/null
  chmod 600 "$tls/server.key"
fi

# The demo organisation, its loopback range and one user, made once; the password and the
# TOTP secret are kept (mode 0600) in the demo directory so that later runs log in again.
if [ ! -s "$secret_file" ]; then
  run "a demo organisation" account org-add --db "$db" --org demo_la --name "Demo Borough Council"
  run "its registered addresses: loopback" account range-add --db "$db" --org demo_la 127.0.0.0/8
  (umask 077 && printf 'demo password %s\n' "$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')" > "$password_file")
  step "a demo user (la_social_care); the TOTP secret is printed once" \
    "contactpoint account user-add --db $db --user $user --org demo_la --role la_social_care --password-file $password_file"
  added=$("$cp_bin" account user-add --db "$db" --user "$user" --org demo_la --role la_social_care \
            --password-file "$password_file")
  echo "$added"
  (umask 077 && sed -n 's/^TOTP secret[^:]*: //p' <<<"$added" > "$secret_file")
fi
code=$(bash "$(dirname "$0")/totp.sh" "$secret_file")
printf '\n\033[1m== the demo user\033[0m\n'
echo "user:          $user (organisation demo_la, role la_social_care)"
echo "password:      in $password_file"
echo "TOTP secret:   $(cat "$secret_file")   (an authenticator app takes it; or: scripts/totp.sh $secret_file)"
echo "current code:  $code   (each code is accepted once: the demo's login below uses it)"

# Shield the child again for the server part (the database is the daemon's while it runs).
run "shield child 1 again, to look at it over the wire" shield --db "$db" 1 --by la_demo --reason "demo: the server part"

# Absolute paths, so that the daemon can be started again from any directory.
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
cat > "$config" <<TOML
# contactpointd for \`make run\` (written by scripts/demo.sh): TLS 1.3 on loopback with the
# development certificate. Every key: docs/contactpointd.toml.example.
[server]
listen_address = "127.0.0.1"
port = $port
drain_timeout_ms = 5000
[tls]
certificate = "$(abs "$cert")"
private_key = "$(abs "$tls/server.key")"
[database]
dir = "$(abs "$db")"
TOML
step "start contactpointd in the background (log: $daemon_log)" "contactpointd --config $config &"
"$daemon_bin" --config "$config" 2> "$daemon_log" &
daemon_pid=$!
trap 'kill -TERM $daemon_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  grep -q "serving on" "$daemon_log" && break
  kill -0 "$daemon_pid" 2>/dev/null || break
  sleep 0.1
done
cat "$daemon_log"
if ! grep -q "serving on" "$daemon_log"; then
  echo "contactpointd did not start (is port $port taken? DEMO_PORT=N make run picks another)"
  exit 1
fi

client=(client --server "127.0.0.1:$port" --tls-ca "$cert" --session-file "$session_file")
run "is it serving? (no login needed)" "${client[@]}" health
run "log in: password, then the TOTP code" "${client[@]}" login --user "$user" --password-file "$password_file" --totp "$code"
run "search over TLS: the shielded child is found by name, its location is not sent" \
  "${client[@]}" search --given "$given" --family "$family" --dob "$dob" --reason "demo: a referral from a school"
step "the record over the wire, as JSON: no address, postcode, contact or service in it at all" \
  "contactpoint ${client[*]} get 1 --reason \"demo: checking a referral\" --json"
"$cp_bin" "${client[@]}" get 1 --reason "demo: checking a referral" --json > "$demo/get-1.json" || echo "(exit code $?)"
cat "$demo/get-1.json"
echo "hidden fields present in the response: $(jq '.record | has("address") or has("postcode") or has("parent_name") or has("parent_phone") or has("services")' "$demo/get-1.json")"
run "a search without a stated reason is refused" "${client[@]}" search --given "$given" --family "$family" --dob "$dob" --reason " "
run "log out" "${client[@]}" logout

step "stop it: SIGTERM, in-flight requests finish, then it exits" "kill -TERM $daemon_pid"
kill -TERM "$daemon_pid"
wait "$daemon_pid" && echo "contactpointd exited with code 0" || echo "contactpointd exited with code $?"
trap - EXIT
echo "--- $daemon_log"
cat "$daemon_log"
run "lift the shield again" unshield --db "$db" 1 --by la_demo --reason "demo over"
run "every request above is in the hash-chained audit trail" audit query --db "$db" --user "$user"

echo
echo "The demo database is in $db (key file $db.key). Try: $cp_bin search --help"
echo "Start the query server again, in the foreground (Ctrl-C drains it):"
echo "  $(abs "$daemon_bin") --config $(abs "$config")"
