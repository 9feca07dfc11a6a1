# Scaffolding shared by the logship integration tests against the real Swift
# (swift_it, archive_it): paths, a scratch directory with a single-node Swift
# started in it (its env sourced: swift and S3 credentials and URLs), cleanup
# on exit (Swift stopped, extra_pids killed, the directory removed), and the
# ok/bad/check reporting that counts failures in $fails.
#   . "$(dirname "$0")/lib.sh"; logship_it_init NAME
# Sourced, not run; bash only.
BIN=${STOPGAP_BIN:?STOPGAP_BIN}
SRC=${STOPGAP_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SWIFT_SH=$SRC/scripts/services/swift.sh
extra_pids=()  # background helpers a test starts (killed on exit)

logship_it_cleanup() {
  for p in "${extra_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "$SWIFT_SH" stop "$T/swift" >/dev/null 2>&1 || true
  [[ ${KEEP_TMP:-0} == 1 ]] && echo "kept $T" && return 0
  rm -rf "$T"
}

fails=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

# logship_it_init NAME: $T (not tmpfs: Swift needs user xattrs), Swift
# started in $T/swift, its env sourced, the logship state under $T/state.
logship_it_init() {
  T=$(mktemp -d "${LOGSHIP_IT_DIR:-/var/tmp}/$1.XXXXXX")
  trap logship_it_cleanup EXIT
  "$SWIFT_SH" start "$T/swift" >/dev/null
  # shellcheck disable=SC1091
  source "$T/swift/env"
  export STOPGAP_LOGSHIP_STATE=$T/state/logship.state
}
