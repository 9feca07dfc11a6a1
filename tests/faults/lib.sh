# Shared helpers of the fault-injection tests in tests/faults (sourced, not
# run): a catalog whose action counts its runs in marker files, starting and
# killing `stopgap serve`, the load generator and the ledger checker
# (faults.py). Every wait is bounded; every test cleans up in its trap.
# SRC, BIN, PY, T0, fail, free_port, json, wait_for and stop_serve come from
# tests/e2e/lib.sh; start_serve here takes extra serve arguments instead.
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
BUILD=${STOPGAP_BUILD:-$SRC/build}
FAULTS="$PY $SRC/tests/faults/faults.py"
SERVE_PID=""

say() { step "$@"; }

# write_catalog FILE PORT STATE_DIR [ACTION_SLEEP]: ledger and bundles under
# STATE_DIR, markers in $MARKERS; alerts named FaultLoad act (diagnostics, then
# an action that writes $MARKERS/<id>.<pid> and sleeps ACTION_SLEEP seconds).
write_catalog() {
  local file=$1 port=$2 state=$3 sleep_s=${4:-0.05}
  cat >"$file" <<YAML
server: {listen: "127.0.0.1:$port", token_file: "$TMP/token"}
ledger: "sqlite://$state/ledger.db"
bundles: "$state/bundles"
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 1000000}
workarounds:
  - id: fault-load
    issue: acme/infra#15
    cause: in-house
    diagnosed: false
    expires: $(date -u -d '+20 days' +%F)
    match: {alertname: FaultLoad}
    diagnostics:
      - run: [sh, -c, 'echo "diagnostics of \$STOPGAP_EXECUTION_ID"']
    action:
      - run: [sh, -c, 'touch "\$0/\$STOPGAP_EXECUTION_ID.\$\$"; sleep $sleep_s', "$MARKERS"]
    limits: {cooldown: 0s, concurrency: 8}
YAML
}

# start_serve CATALOG [EXTRA ARGS...]: starts serve in the background (sets
# SERVE_PID) with its log in $SERVE_LOG; waits for /healthz (10 s).
start_serve() {
  local catalog=$1
  shift
  "$BIN" serve -c "$catalog" --log-format json "$@" >>"$SERVE_LOG" 2>&1 &
  SERVE_PID=$!
  local i
  for i in $(seq 1 200); do
    curl -fsS "$URL/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$SERVE_PID" 2>/dev/null || fail "stopgap serve exited at start"
    sleep 0.05
  done
  fail "stopgap serve not healthy within 10 s"
}

kill9_serve() {
  [[ -n $SERVE_PID ]] || return 0
  kill -KILL "$SERVE_PID" 2>/dev/null || true
  wait "$SERVE_PID" 2>/dev/null || true
  SERVE_PID=""
}

# ms_now: milliseconds since the epoch.
ms_now() { date +%s%3N; }
