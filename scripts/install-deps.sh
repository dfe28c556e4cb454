#!/usr/bin/env bash
# Installs the Debian packages the build, tests and demo need: only those missing.
# Arguments name further packages for one target. clang and libclang-rt-dev (its libFuzzer
# and sanitizer runtimes; clang-14's on bookworm) build the fuzz targets `make test` runs.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  librocksdb-dev libflatbuffers-dev flatbuffers-compiler libxxhash-dev liburing-dev
  libboost-dev libssl-dev libicu-dev libgtest-dev libgmock-dev libbenchmark-dev
  libtomlplusplus-dev libcli11-dev libfmt-dev libspdlog-dev nlohmann-json3-dev
  libargon2-dev libsodium-dev jq openssl
  clang libclang-rt-dev
  "$@"
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
