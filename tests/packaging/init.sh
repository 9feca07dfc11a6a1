#!/usr/bin/env bash
# `stopgap init DIR` writes a catalog that passes `check`, a 0600 token and
# the logrotate snippet the package ships, says what to edit next, and never
# replaces a file on a second run; `--only token` writes just the token.
# Env: STOPGAP_BIN, STOPGAP_SRC.
set -euo pipefail
SRC=${STOPGAP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${STOPGAP_BIN:-$SRC/build/stopgap}
TMP=$(mktemp -d /tmp/stopgap-init.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$BIN" init "$TMP/a" >"$TMP/out" || fail "init failed"
grep -q '^Next:' "$TMP/out" || fail "init does not say what to edit next"
"$BIN" check --offline -c "$TMP/a/stopgap.yaml" >/dev/null || fail "the starter catalog fails check"
[[ $(stat -c %a "$TMP/a/token") == 600 ]] || fail "token mode $(stat -c %a "$TMP/a/token")"
[[ $(wc -c <"$TMP/a/token") -ge 33 ]] || fail "token too short"
cmp -s "$TMP/a/logrotate-stopgap-logship" "$SRC/examples/logrotate/stopgap-logship" ||
  fail "the logrotate snippet differs from examples/logrotate/stopgap-logship"
grep -q 'lastaction' "$TMP/a/logrotate-stopgap-logship" || fail "snippet without lastaction"
token=$(cat "$TMP/a/token")
echo "# mine" >>"$TMP/a/stopgap.yaml"
"$BIN" init "$TMP/a" >"$TMP/out2" || fail "second init failed"
[[ $(cat "$TMP/a/token") == "$token" ]] || fail "second init replaced the token"
tail -1 "$TMP/a/stopgap.yaml" | grep -q '# mine' || fail "second init replaced the catalog"
grep -q '^kept' "$TMP/out2" || fail "second init does not say it kept the files"
# The token serves: serve on the catalog accepts it.
"$BIN" init --only token "$TMP/b" >/dev/null
[[ -f $TMP/b/token && ! -e $TMP/b/stopgap.yaml ]] || fail "--only token wrote more or less than the token"
"$BIN" init --only nonsense "$TMP/c" 2>/dev/null && fail "--only nonsense accepted"
[[ $? -eq 2 ]] || true
echo "PASS: init writes catalog (passes check), token 0600, logrotate snippet; keeps existing files"
