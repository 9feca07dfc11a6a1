#!/usr/bin/env bash
# `stopgap --version` prints scripts/version's answer as of configure time
# (git describe in a clone), and scripts/version falls back to the VERSION file
# `make deb` writes into a source tree without git, then to project().
# Env: STOPGAP_BIN (the binary), STOPGAP_SRC (the source tree).
set -euo pipefail
SRC=${STOPGAP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${STOPGAP_BIN:-$SRC/build/stopgap}
fail() { echo "FAIL: $*" >&2; exit 1; }

got=$("$BIN" --version)
want="stopgap $(sh "$SRC/scripts/version" "$SRC")"
# A tree that changed since configure may differ only in ".dirty".
[[ $got == "$want" || $got.dirty == "$want" || $got == "$want.dirty" ]] ||
  fail "--version says '$got', scripts/version says '$want'"
if git -C "$SRC" rev-parse HEAD >/dev/null 2>&1; then
  [[ $got == *"+git"*".g$(git -C "$SRC" rev-parse --short=7 HEAD)"* || $got == *"-g"* || $got == *"+"*".g"* ]] ||
    fail "--version '$got' does not name the commit"
fi

TMP=$(mktemp -d /tmp/stopgap-version.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cp "$SRC/CMakeLists.txt" "$TMP/"
[[ $(sh "$SRC/scripts/version" "$TMP") == "$(sed -n 's/^project(stopgap VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")" ]] ||
  fail "without git or VERSION: not the project() version"
echo "9.8.7+git1.gabcdef0" >"$TMP/VERSION"
[[ $(sh "$SRC/scripts/version" "$TMP") == "9.8.7+git1.gabcdef0" ]] || fail "the VERSION file is not used"
echo "PASS: $got"
