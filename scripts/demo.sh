#!/usr/bin/env bash
# `make run`: builds a demo database of 100,000 generated children (once) and shows what
# the engine does: exact and fuzzy searches, the result cap, refused criteria, and
# shielding.
set -euo pipefail
build_dir=${1:-build/release}
cp_bin="$build_dir/tools/contactpoint"
demo=${DEMO_DIR:-demo}
db="$demo/db"
children="$demo/children.csv"

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; }
run() { step "$1" "contactpoint ${*:2}"; "$cp_bin" "${@:2}" || echo "(exit code $?)"; }

mkdir -p "$demo"
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
echo
echo "The demo database is in $db (key file $db.key). Try: $cp_bin search --help"
