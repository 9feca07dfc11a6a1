# Shared helpers of the end-to-end tests in tests/e2e (sourced, not run).
# Each test sets TMP and SERVE_LOG before using fail(); polling is bounded by
# a deadline in seconds, never a fixed long sleep.

SRC=${STOPGAP_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BIN=${STOPGAP_BIN:-$SRC/build/stopgap}
GURU_SERVICE=${GURU_SERVICE:-${STOPGAP_BUILD:-$SRC/build}/examples/guru-service/guru-service}
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3
T0=$(date +%s)

step() { echo "--- $* ($(($(date +%s) - T0)) s)"; }
found() { echo "    ok: $*"; }
fail() {
  echo "FAIL: $*" >&2
  if [[ -n ${SERVE_LOG:-} && -f ${SERVE_LOG:-} ]]; then
    echo "--- tail of $SERVE_LOG" >&2
    tail -40 "$SERVE_LOG" >&2 || true
  fi
  exit 1
}
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
free_udp_port() {
  $PY -c 'import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# json EXPR: evaluates a Python expression over the JSON document on stdin (as `d`).
json() { $PY -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# wait_for SECONDS COMMAND...: runs COMMAND every 0.2 s until it succeeds;
# returns 1 at the deadline.
wait_for() {
  local deadline=$(($(date +%s) + $1))
  shift
  while true; do
    "$@" && return 0
    (($(date +%s) >= deadline)) && return 1
    sleep 0.2
  done
}

# start_serve CATALOG LOG URL: starts `stopgap serve` (sets SERVE_PID) and waits
# until /healthz answers.
start_serve() {
  "$BIN" serve -c "$1" --log-format json >>"$2" 2>&1 &
  SERVE_PID=$!
  local i
  for i in $(seq 1 150); do
    curl -fsS "$3/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$SERVE_PID" 2>/dev/null || fail "stopgap serve exited at start"
    sleep 0.1
  done
  fail "stopgap serve not healthy at $3 within 15 s"
}

# stop_serve: SIGTERM, must exit 0 within 40 s.
stop_serve() {
  [[ -n ${SERVE_PID:-} ]] || return 0
  kill -TERM "$SERVE_PID"
  local rc=0
  wait "$SERVE_PID" || rc=$?
  SERVE_PID=""
  [[ $rc == 0 ]] || fail "stopgap serve exited $rc on SIGTERM"
}

# start_guru DIR: the example multi-threaded guru service (sets GURU_PID);
# its pidfile is DIR/guru.pid and its reports go to DIR/reports.
start_guru() {
  mkdir -p "$1/reports"
  [[ -x $GURU_SERVICE ]] || fail "no guru-service binary at $GURU_SERVICE (build target guru-service)"
  "$GURU_SERVICE" --report-dir "$1/reports" --pidfile "$1/guru.pid" --workers 4 >"$1/guru.log" 2>&1 &
  GURU_PID=$!
  wait_for 10 test -s "$1/guru.pid" || fail "guru-service wrote no pidfile"
  [[ $(cat "$1/guru.pid") == "$GURU_PID" ]] || fail "guru-service pidfile holds $(cat "$1/guru.pid")"
}

# check_bundle EXEC_JSON_FILE TARGET_PID: the execution's bundle (from the API's
# bundle_dir) has a manifest that names every collector and holds the stack of
# every thread of TARGET_PID. The manifest is read loosely (its "collectors",
# "steps" and "stacks" keys, whichever are there) so a small schema change
# does not break the test. Prints what it found.
check_bundle() {
  $PY - "$1" "$2" <<'PY'
import json, os, re, sys
e = json.load(open(sys.argv[1]))
pid = int(sys.argv[2])
bdir = e["bundle_dir"]
m = json.load(open(os.path.join(bdir, "manifest.json")))
names, files = set(), set()
def walk(x):
    if isinstance(x, dict):
        for k in ("name", "kind"):
            if isinstance(x.get(k), str): names.add(x[k])
        if x.get("kind") == "collect" and isinstance(x.get("argv"), list):
            for a in x["argv"]:  # "collect: system, tcp" / "collect: process pidfile=… stacks"
                if isinstance(a, str):
                    for t in re.split(r"[,\s]+", a.split(":", 1)[-1]):
                        if "=" in t: break
                        if t: names.add(t)
        if isinstance(x.get("collectors"), list):
            names.update(c for c in x["collectors"] if isinstance(c, str))
        if isinstance(x.get("files"), list):
            files.update(f for f in x["files"] if isinstance(f, str))
        for v in x.values(): walk(v)
    elif isinstance(x, list):
        for v in x: walk(v)
walk(m)
for f in list(files):
    assert os.path.exists(os.path.join(bdir, f)), "manifest lists %s, not in the bundle" % f
want = {"system", "tcp", "process", "guru", "run"}
missing = want - names
assert not missing, "manifest does not name collectors %s (names: %s)" % (missing, sorted(names))
def has(pattern):
    return [f for f in files if re.search(pattern, f)]
dirs = set(re.sub(r"-\d+$", "", f.split("/")[0]) for f in files if "/" in f)
assert want - {"run"} <= dirs, "no files of collectors %s (dirs %s)" % (want - {"run"} - dirs, sorted(dirs))
assert has(r"summary\.txt$") and has(r"meminfo\.txt$"), "no system files: %s" % sorted(files)
assert has(r"sockets\.txt$") and has(r"counters\.txt$"), "no tcp files: %s" % sorted(files)
assert has(r"threads\.txt$"), "no process files: %s" % sorted(files)
guru = has(r"gurumeditation")
assert guru, "no guru report in the manifest: %s" % sorted(files)
stacks = has(r"process-%d/stacks\.txt$" % pid)
assert stacks, "no stacks.txt of pid %d: %s" % (pid, sorted(files))
text = open(os.path.join(bdir, stacks[0])).read()
tids = set(int(t) for t in re.findall(r"^Thread (\d+) ", text, re.M))
want_tids = set(int(t) for t in os.listdir("/proc/%d/task" % pid))
assert tids == want_tids, "stacks of threads %s, the target has %s" % (sorted(tids), sorted(want_tids))
blocks = text.split("\nThread ")[1:]
assert all(re.search(r"^#0 ", b, re.M) for b in blocks), "a thread without frames"
assert "WorkerLoop" in text, "worker stacks not symbolized"
report = open(os.path.join(bdir, guru[0])).read()
assert "guru-service" in report, "guru report does not name the service"
print("    ok: manifest names %s; %d files; stacks of all %d threads of pid %d; guru %s"
      % (sorted(names & want), len(files), len(tids), pid, guru[0]))
PY
}

# The loopback fault proxy (tests/faults/fault_proxy.py), shared by the fault
# tests and the cluster tests.
# start_fault_proxy DIR UPSTREAM_PORT [--tcp]: the fault proxy in front of
# 127.0.0.1:UPSTREAM_PORT, its control, counters and port files in DIR; sets
# PROXY_PORT and adds its pid to FAULT_PROXY_PIDS (stop_fault_proxies).
FAULT_PROXY_PIDS=()
start_fault_proxy() {
  local dir=$1 up=$2
  shift 2
  mkdir -p "$dir"
  echo '{}' >"$dir/control.json"
  $PY "$SRC/tests/faults/fault_proxy.py" "$up" "$dir/port" "$dir/control.json" \
    "$dir/counters.json" "$@" </dev/null >"$dir/proxy.log" 2>&1 &
  FAULT_PROXY_PIDS+=($!)
  wait_for 10 test -s "$dir/port" || fail "the fault proxy did not start (see $dir/proxy.log)"
  PROXY_PORT=$(cat "$dir/port")
}
stop_fault_proxies() {
  local p
  for p in "${FAULT_PROXY_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  FAULT_PROXY_PIDS=()
}
# proxy_ctl DIR JSON: replaces the proxy's control (atomically).
proxy_ctl() { echo "$2" >"$1/control.json.new" && mv "$1/control.json.new" "$1/control.json"; }
# proxy_count DIR [KEY]: one counter (default: the sum of the injected faults).
proxy_count() {
  $PY - "$1/counters.json" "${2:-}" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
k = sys.argv[2]
print(c.get(k, 0) if k else sum(v for n, v in c.items() if n.startswith("fault.")))
PY
}
