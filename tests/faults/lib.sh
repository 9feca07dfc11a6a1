# Shared helpers of the fault-injection tests in tests/faults (sourced, not
# run): a catalog whose action counts its runs in marker files, starting and
# killing `stopgap serve`, the load generator and the ledger checker
# (faults.py). Every wait is bounded; every test cleans up in its trap.
# SRC, BIN, PY, T0, fail, free_port, json, wait_for, stop_serve and the fault
# proxy's helpers come from tests/e2e/lib.sh; start_serve here takes extra serve arguments instead.
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
BUILD=${STOPGAP_BUILD:-$SRC/build}
FAULTS="$PY $SRC/tests/faults/faults.py"
SERVE_PID=""

say() { step "$@"; }

# faults_scratch NAME: the scratch directory $TMP (/tmp/stopgap-NAME.XXXXXX)
# with $MARKERS made and $SERVE_LOG named, and the EXIT trap faults_cleanup:
# the fault proxies and serve stopped, then the test's own faults_on_exit if
# it defines one (its load, services, mounts), then $TMP removed (KEEP_TMP=1
# keeps it).
faults_scratch() {
  TMP=$(mktemp -d "/tmp/stopgap-$1.XXXXXX")
  SERVE_LOG=$TMP/serve.log
  MARKERS=$TMP/markers
  mkdir -p "$MARKERS"
  trap faults_cleanup EXIT
}
faults_cleanup() {
  stop_fault_proxies
  kill9_serve
  if declare -F faults_on_exit >/dev/null; then faults_on_exit || true; fi
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}

# faults_serve_scratch NAME [ACTION_SLEEP]: faults_scratch NAME, then $PORT,
# $URL and the catalog $TMP/stopgap.yaml (write_catalog, state in $TMP/state).
faults_serve_scratch() {
  faults_scratch "$1"
  mkdir -p "$TMP/state"
  PORT=$(free_port)
  URL=http://127.0.0.1:$PORT
  write_catalog "$TMP/stopgap.yaml" "$PORT" "$TMP/state" "${2:-0.05}"
}

# load ARGS...: faults.py load against $URL at $LOAD_RATE alerts/s (200), a
# $LOAD_MATCH share (0.2) of them acting, acknowledged ids into $TMP/acked.
load() {
  $FAULTS load "$URL" "$TMP/token" "$TMP/acked" --rate "${LOAD_RATE:-200}" \
    --match "${LOAD_MATCH:-0.2}" "$@"
}
# field JSON EXPR: EXPR (e.g. '["acked"]') of the JSON document JSON.
field() { $PY -c "import json,sys; print(json.loads(sys.argv[1])$2)" "$1"; }

# fsync_shim: the path of the LD_PRELOAD shim that fails fsync (fsync_fail.c);
# fails the test when it is not built.
fsync_shim() {
  local shim=${FSYNC_SHIM:-$BUILD/tests/faults/fsync_fail.so}
  [[ -f $shim ]] || fail "no shim at $shim (build target fsync_fail)"
  echo "$shim"
}

# write_catalog FILE PORT STATE_DIR [ACTION_SLEEP [COOLDOWN [ALERTNAME]]]:
# ledger and bundles under STATE_DIR, markers in $MARKERS; alerts named
# ALERTNAME (FaultLoad) act (diagnostics, then an action that writes
# $MARKERS/<id>.<pid> and sleeps ACTION_SLEEP seconds), at most once per
# COOLDOWN (0s).
write_catalog() {
  local file=$1 port=$2 state=$3 sleep_s=${4:-0.05} cooldown=${5:-0s} name=${6:-FaultLoad}
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
    match: {alertname: $name}
    diagnostics:
      - run: [sh, -c, 'echo "diagnostics of \$STOPGAP_EXECUTION_ID"']
    action:
      - run: [sh, -c, 'touch "\$0/\$STOPGAP_EXECUTION_ID.\$\$"; sleep $sleep_s', "$MARKERS"]
    limits: {cooldown: $cooldown, concurrency: 8}
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

# start_fault_proxy, proxy_ctl, proxy_count, stop_fault_proxies: tests/e2e/lib.sh.
