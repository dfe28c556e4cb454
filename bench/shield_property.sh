#!/usr/bin/env bash
# The shielding property test (tests/tools/feed_shield_property_test.cc) at scale: N
# children (default 20,000), a tenth shielded, then each shielded child's record (and as
# many unshielded ones) fed again from another source with realistic noise. It fails if any
# record of a shielded child is readable as an unshielded child, and prints how many
# linked and how many wait in review. About 5 minutes at 20,000 on 2 cores; `make test`
# runs it at 1,500.
#
#   bench/shield_property.sh [N]      # needs `make build`
set -euo pipefail
N=${1:-20000}
BIN=${BIN:-build/release/tests/tools_tests}
[ -x "$BIN" ] || { echo "build first: make build" >&2; exit 1; }
CP_PROPERTY_CHILDREN="$N" "$BIN" --gtest_filter='FeedShieldPropertyTest.*'
