#!/usr/bin/env bash
# Integration test for Swift behind Keystone v3 (issue #18): a real Keystone
# (Debian's python3-keystone, SQLite, Fernet tokens that live 35 s) and the
# real Swift with its authtoken + keystoneauth middleware (no token cache:
# every request is checked with Keystone). `stopgap logship` is given only
# OS_AUTH_URL and a user: it must get a token, find Swift's URL in the
# token's catalog, upload, list and fetch; a wrong password must fail with a
# clear message; and an upload that lasts longer than its first token must
# renew it and finish with every byte intact.
# Needs: STOPGAP_BIN, STOPGAP_SRC (set by CTest). Exits non-zero on failure.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
BIN=${STOPGAP_BIN:?STOPGAP_BIN}
SRC=${STOPGAP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d /var/tmp/logship_keystone_it.XXXXXX)
cleanup() {
  "$SRC/scripts/services/swift.sh" stop "$T/swift" >/dev/null 2>&1 || true
  "$SRC/scripts/services/keystone.sh" stop "$T/keystone" >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT
TOKEN_TTL=35 "$SRC/scripts/services/keystone.sh" start "$T/keystone" >/dev/null
KEYSTONE_ENV=$T/keystone/env "$SRC/scripts/services/swift.sh" start "$T/swift" >/dev/null
# Only Keystone's credentials: no TempAuth, no storage URL.
unset ST_AUTH ST_USER ST_KEY
# shellcheck disable=SC1091
source "$T/keystone/env"
export STOPGAP_LOGSHIP_STATE=$T/state/logship.state

d=$T/src/var/log
mkdir -p "$d"
printf 'hello from web1\n' | gzip -c >"$d/app.log-20261101.gz"
out=$("$BIN" logship upload --to swift://klogs/p --hostname web1 "$d/app.log-20261101.gz" 2>&1) ||
  bad "upload with a Keystone token ($out)"
check "a Keystone token and the catalog's Swift URL upload a rotation" \
  grep -q "1 uploaded" <<<"$out"
check "ls finds it" grep -q "2026-11-01 .* web1 $d/app.log-20261101.gz" \
  <<<"$("$BIN" logship ls --from swift://klogs/p 2>&1)"
check "get fetches the same bytes" cmp "$d/app.log-20261101.gz" \
  <("$BIN" logship get --from swift://klogs/p --out - 2>/dev/null)

rc=0
out=$(OS_PASSWORD=wrong "$BIN" logship ls --from swift://klogs/p 2>&1) || rc=$?
check "a wrong password fails (rc $rc) and says where to look: $out" \
  grep -q "keystone .*HTTP 401 (check OS_USERNAME/OS_PASSWORD/OS_PROJECT_NAME)" <<<"$out"
check "... with a non-zero exit status" test "$rc" -ne 0

# 40 MB at 1 MB/s in 5 MB SLO segments: the upload outlives its first 35 s
# token, and Swift checks every segment's token with Keystone.
head -c 40000000 /dev/urandom >"$d/big.log-20261102.gz"
start=$(date +%s)
out=$("$BIN" logship upload --to swift://klogs/p --hostname web1 --multipart-threshold 6M \
  --part-size 5M --bwlimit 1M "$d/big.log-20261102.gz" 2>&1) || bad "long upload ($out)"
took=$(($(date +%s) - start))
check "the long upload finished, verified, after ${took}s (> the token's 35 s)" \
  test "$took" -gt 35 -a "$(grep -c '1 uploaded' <<<"$out")" -eq 1
check "... and its bytes are intact" cmp "$d/big.log-20261102.gz" \
  <("$BIN" logship get --from swift://klogs/p big.log --out - 2>/dev/null)

if ((fails > 0)); then
  echo "$fails check(s) failed"
  exit 1
fi
echo "all keystone checks passed"
