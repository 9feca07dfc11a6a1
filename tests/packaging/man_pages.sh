#!/usr/bin/env bash
# The generated man pages (stopgap man, at build time) cover the CLI: a page
# per visible subcommand, every flag `--help` prints for a command (and for
# logship's subcommands) is in its page, and groff reads every page without a
# warning. Shell completion (stopgap completion) offers the same subcommands
# and flags, and workaround ids from the catalog.
# Env: STOPGAP_BIN, STOPGAP_BUILD.
set -euo pipefail
SRC=${STOPGAP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${STOPGAP_BUILD:-$SRC/build}
BIN=${STOPGAP_BIN:-$BUILD/stopgap}
MAN=$BUILD/generated-docs/man
COMP=$BUILD/generated-docs/completion
TMP=$(mktemp -d /tmp/stopgap-man.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# flags_of CMD...: the flags `stopgap CMD... --help` lists.
flags_of() { "$BIN" "$@" --help | grep -E '^\s+-' | grep -oE '(^|[ ,])--?[A-Za-z][A-Za-z0-9-]*' | tr -d ' ,' | sort -u; }
subs_of() { "$BIN" "$@" --help | awk '/^Subcommands:/ {on=1; next} on && /^  [a-z]/ {print $1}'; }
page_text() { sed 's/\\-/-/g' "$1"; }

n=0
check_page() {  # check_page PAGE CMD...
  local page=$1; shift
  [[ -f $page ]] || fail "no man page $page for 'stopgap $*'"
  page_text "$page" >"$TMP/page"
  for f in $(flags_of "$@"); do
    grep -qF -- "$f" "$TMP/page" || fail "$(basename "$page") lacks $f (from 'stopgap $* --help')"
    n=$((n + 1))
  done
}
check_page "$MAN/stopgap.1"
for s in $(subs_of); do
  page=$(ls "$MAN"/stopgap-"$s".[18] 2>/dev/null | head -1)
  check_page "${page:-$MAN/stopgap-$s.1}" "$s"
  grep -q "stopgap\\\\-$s" "$MAN/stopgap.1" || fail "stopgap.1 does not list $s"
  for ss in $(subs_of "$s"); do check_page "$page" "$s" "$ss"; done
done
[[ -f $MAN/stopgap-serve.8 && -f $MAN/stopgap.yaml.5 ]] || fail "no stopgap-serve(8) or stopgap.yaml(5)"
grep -q 'max_ttl' "$MAN/stopgap.yaml.5" || fail "stopgap.yaml(5) lacks the catalog reference"
for p in "$MAN"/*; do
  w=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$p" 2>&1 || true)  # as lintian reads them
  [[ -z $w ]] || fail "groff warns on $(basename "$p"): $w"
done

# Completion: bash, driven the way bash drives it.
complete_bash() {  # complete_bash WORD...: the candidates for the last word
  ( PATH=$(dirname "$BIN"):$PATH
    source "$COMP/stopgap"
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
    _stopgap; printf '%s\n' "${COMPREPLY[@]}" )
}
[[ $(complete_bash stopgap ser) == serve ]] || fail "bash: 'stopgap ser' does not complete to serve"
complete_bash stopgap serve --ca | grep -qx -- --catalog || fail "bash: no --catalog for serve"
complete_bash stopgap logship sw | grep -qx sweep || fail "bash: no logship sweep"
complete_bash stopgap logship sweep --k | grep -qx -- --keep-days || fail "bash: no sweep --keep-days"
"$BIN" init "$TMP/cfg" >/dev/null
[[ $(complete_bash stopgap run -c "$TMP/cfg/stopgap.yaml" ex) == example-service-restart ]] ||
  fail "bash: no workaround id from the catalog"
complete_bash stopgap run -c "$TMP/cfg/stopga" | grep -qx "$TMP/cfg/stopgap.yaml" ||
  fail "bash: -c does not complete a file name"
bash -n "$COMP/stopgap" || fail "bash completion has a syntax error"
if grep -q -- '-l help -r' "$COMP/stopgap.fish"; then fail "fish: --help takes a value"; fi
grep -q -- '-l catalog -r' "$COMP/stopgap.fish" || fail "fish: --catalog takes no value"
for s in $(subs_of); do
  grep -qw "$s" "$COMP/_stopgap" || fail "zsh completion lacks $s"
  grep -q -- "-a $s " "$COMP/stopgap.fish" || fail "fish completion lacks $s"
done
grep -q -- '-l keep-days' "$COMP/stopgap.fish" || fail "fish completion lacks sweep --keep-days"
echo "PASS: $n flags from --help found in the man pages; completion offers subcommands, flags, ids"
