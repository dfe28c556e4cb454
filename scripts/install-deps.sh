#!/usr/bin/env bash
# Installs the Debian packages the build, tests and demo need: only those missing.
# clang and libclang-rt-dev (its libFuzzer and sanitizer runtimes; clang-14's on bookworm)
# build the fuzz targets `make test` runs. Arguments name further packages for one target,
# or a group: `postgresql` for bench/england_scale.sh's side-by-side (PostgreSQL 15 with
# pg_trgm, fuzzystrmatch and unaccent, and libpq for bench/pg_search_client); never needed
# by the build or `make test`.
set -euo pipefail
extra=()
for a in "$@"; do
  case "$a" in
    postgresql) extra+=(postgresql-15 postgresql-contrib libpq-dev) ;;
    *) extra+=("$a") ;;
  esac
done
packages=(
  build-essential cmake pkg-config
  librocksdb-dev libflatbuffers-dev flatbuffers-compiler libxxhash-dev liburing-dev
  libboost-dev libssl-dev libicu-dev libgtest-dev libgmock-dev libbenchmark-dev
  libtomlplusplus-dev libcli11-dev libfmt-dev libspdlog-dev nlohmann-json3-dev
  libargon2-dev libsodium-dev libjemalloc-dev jq openssl
  clang libclang-rt-dev
  "${extra[@]}"
)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing missing packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
