#!/usr/bin/env bash
# Prints the current TOTP code (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps) of a base32
# secret, as an authenticator app would: for development logins (`make run`'s demo user).
# Reads the secret from the file named by the first argument, or from stdin, so that it
# never shows in a process list. Needs coreutils and the openssl command.
#   scripts/totp.sh SECRET_FILE      or      scripts/totp.sh < SECRET_FILE
set -euo pipefail
secret=$(tr -d ' \n=' < "${1:-/dev/stdin}" | tr 'a-z' 'A-Z')
while [ $(( ${#secret} % 8 )) -ne 0 ]; do secret+="="; done
key=$(printf '%s' "$secret" | base32 -d | od -An -v -tx1 | tr -d ' \n')
step=$(( ${TOTP_NOW:-$(date +%s)} / 30 ))  # TOTP_NOW: a Unix time (the RFC's test vectors)
counter=$(printf '%016x' "$step" | sed 's/../\\x&/g')
mac=$(printf "$counter" | openssl dgst -sha1 -mac HMAC -macopt "hexkey:$key" | sed 's/.*= *//')
offset=$(( 16#${mac:39:1} * 2 ))
value=$(( (16#${mac:$offset:8} & 0x7fffffff) % 1000000 ))
printf '%06d\n' "$value"
