#!/usr/bin/env bash
# Adversarial test of the paths stopgap writes and the stores it reads, with
# the real binary (issue #12 items 5-7, docs/security/files-and-stores.md):
#  - symlink races: a symlink planted in the target directory (at the names
#    stopgap used to write: predictable temp and staging names, .part files,
#    an existing bundle directory, the guru report temp file, the state file's
#    temp; names derived from a pid are planted for the next 2000 pids)
#    pointing at a victim file or directory: the victim must not change;
#  - pidfiles: a pidfile that is a symlink to a 0600 secret is refused and the
#    secret appears nowhere (stderr, ledger, manifest); `check` refuses
#    `signal: 9` with file:line;
#  - hostile stores: a Python server on 127.0.0.1 posing as Swift and S3 for
#    `logship ls/get` (traversal keys, bad JSON and XML, huge bodies,
#    non-numeric sizes): exit 1 or 2 with a clear message, nothing written
#    outside --out.
# Prints a table: case, tried, refused, written outside (must be 0).
set -euo pipefail
BIN=${STOPGAP_BIN:?STOPGAP_BIN is not set}
BUILD=${STOPGAP_BUILD:?STOPGAP_BUILD is not set}
SRC=${STOPGAP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
GURU_SERVICE=${GURU_SERVICE:-$BUILD/examples/guru-service/guru-service}
W=$(mktemp -d /tmp/stopgap-sec-files-XXXXXX)
SERVER_PID="" SVC_PID=""
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null || true
  [[ -n $SVC_PID ]] && kill "$SVC_PID" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
FAILS=0
ROWS=()
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
# row NAME TRIED REFUSED OUTSIDE
row() { ROWS+=("$(printf '%-46s %5s %7s %15s' "$1" "$2" "$3" "$4")"); }

# A victim: a 0600 file another user would want overwritten, and a directory.
VICTIM=$W/victim
printf 'precious\n' >"$VICTIM" && chmod 600 "$VICTIM"
VDIR=$W/victim-dir
mkdir -p "$VDIR"
victim_ok() { [[ $(cat "$VICTIM") == precious && -z $(ls -A "$VDIR") ]]; }
# plant TARGET PATTERN...: symlinks to TARGET at each PATTERN with {} replaced
# by each of the next 2000 pids (the names the old code derived from its pid),
# made by one process so that planting does not use up the pids it predicts.
# Prints how many were planted.
plant() {
  python3 - "$@" <<'PY'
import os, sys
target, patterns = sys.argv[1], sys.argv[2:]
last = int(open("/proc/sys/kernel/ns_last_pid").read())
n = 0
for pid in range(last + 1, last + 2001):
    for p in patterns:
        os.symlink(target, p.replace("{}", str(pid)))
        n += 1
print(n)
PY
}
# row for a symlink-race case: refused = planted when the victim is intact.
race_row() { if victim_ok; then row "$1" "$2" "$2" 0; else row "$1" "$2" 0 1; fi; }

# ---------------------------------------------------------------------------
# 1. diag --out X.tar.zst: X.tar.zst itself, X.tar.zst.tmp.<pid> and the
#    staging directory .stopgap-diag-<pid> planted as symlinks.
D=$W/diag && mkdir -p "$D"
ln -s "$VICTIM" "$D/b.tar.zst"
planted=$(($(plant "$VICTIM" "$D/b.tar.zst.tmp.{}") + $(plant "$VDIR" "$D/.stopgap-diag-{}") + 1))
set +e; "$BIN" diag --collect system --out "$D/b.tar.zst" >"$W/out" 2>"$W/err"; rc=$?; set -e
[[ $rc == 0 ]] || fail "diag --out tar.zst: exit $rc: $(cat "$W/err")"
[[ -f $D/b.tar.zst && ! -L $D/b.tar.zst ]] || fail "diag: the archive did not replace the planted symlink"
victim_ok || fail "diag --out tar.zst wrote through a planted symlink"
race_row "diag --out X.tar.zst (tmp, staging, X)" "$planted"

# 2. diag --out DIR: bundle directory under DIR is new (never an existing one).
set +e; "$BIN" diag --collect system --out "$D/dir" >"$W/out" 2>"$W/err"; rc=$?; set -e
[[ $rc == 0 ]] || fail "diag --out DIR: exit $rc"
b=$(sed -n 's/^bundle: //p' "$W/out")
[[ $(stat -c %a "$b") == 700 && $(stat -c %a "$b/manifest.json") == 600 ]] || fail "bundle modes"

# 3. stopgap run: bundles/<id> already exists with symlinks inside (a recreated
#    ledger, or another user's plant): a fresh directory is used instead.
R=$W/run && mkdir -p "$R/state/bundles/1"
for f in manifest.json diagnostics-00.stdout diagnostics-00.stderr action-00.stdout \
  action-00.stderr .manifest.json.tmp; do
  ln -s "$VICTIM" "$R/state/bundles/1/$f"
done
cat >"$R/catalog.yaml" <<YAML
ledger: sqlite://$R/state/ledger.db
bundles: $R/state/bundles
workarounds:
  - id: w
    issue: acme/infra#1
    cause: hardware
    diagnosed: true
    root_cause: "test"
    diagnostics:
      - run: [echo, evidence]
    action:
      - run: [echo, acted]
YAML
set +e; "$BIN" run -c "$R/catalog.yaml" w >"$W/out" 2>"$W/err"; rc=$?; set -e
[[ $rc == 0 ]] || fail "run with a planted bundle dir: exit $rc: $(cat "$W/out" "$W/err")"
victim_ok || fail "run wrote through a symlink in an existing bundle directory"
ls -d "$R"/state/bundles/1-* >/dev/null 2>&1 || fail "run did not take a fresh bundle directory"
race_row "run: existing bundles/<id> with symlinks" 6

# 4. logship upload --state S to file://: S.tmp.<pid> and the store's
#    <key>.part.<pid> planted; archived copy 0600.
L=$W/logship && mkdir -p "$L/logs" "$L/archive/web1$L/logs"
printf 'log\n' >"$L/logs/app.log-20261125"
planted=$(plant "$VICTIM" "$L/state.tmp.{}" "$L/archive/web1$L/logs/app.log-20261125.part.{}")
set +e
"$BIN" logship upload --to "file://$L/archive" --state "$L/state" --hostname web1 \
  "$L/logs/app.log-20261125" >"$W/out" 2>"$W/err"
rc=$?
set -e
[[ $rc == 0 ]] || fail "logship upload: exit $rc: $(cat "$W/err")"
victim_ok || fail "logship upload wrote through a planted temp symlink"
[[ $(stat -c %a "$L/archive/web1$L/logs/app.log-20261125") == 600 ]] || fail "archived copy not 0600"
[[ $(stat -c %a "$L/state") == 600 ]] || fail "state file not 0600"
race_row "logship upload: state tmp, store .part" "$planted"

# 5. logship get --out: <name>.part and the host directory planted.
G=$W/get && mkdir -p "$G/out"
mkdir -p "$G/out/web1"
ln -s "$VICTIM" "$G/out/web1/app.log-20261125.part"
set +e; "$BIN" logship get --from "file://$L/archive" --out "$G/out" >"$W/out" 2>"$W/err"; rc=$?; set -e
[[ $rc == 0 ]] || fail "logship get: exit $rc: $(cat "$W/err")"
victim_ok || fail "logship get wrote through a planted .part symlink"
[[ -f $G/out/web1/app.log-20261125 && $(cat "$G/out/web1/app.log-20261125") == log ]] ||
  fail "logship get did not fetch"
[[ $(stat -c %a "$G/out/web1/app.log-20261125") == 600 ]] || fail "fetched copy not 0600"
G2=$W/get2 && mkdir -p "$G2/out"
ln -s "$VDIR" "$G2/out/web1"
set +e; "$BIN" logship get --from "file://$L/archive" --out "$G2/out" >"$W/out" 2>"$W/err"; rc=$?; set -e
[[ $rc == 1 ]] || fail "logship get into a symlinked host dir: exit $rc, want 1"
grep -q "symlink" "$W/err" || fail "logship get: unclear message: $(cat "$W/err")"
victim_ok || fail "logship get wrote into a symlinked host directory"
race_row "logship get: .part and host dir symlinks" 2

# 6. Guru: the report temp file in a shared report dir, and pidfiles.
if [[ -x $GURU_SERVICE ]]; then
  Q=$W/guru && mkdir -p "$Q/reports"
  "$GURU_SERVICE" --report-dir "$Q/reports" --pidfile "$Q/svc.pid" --workers 2 >"$Q/svc.out" &
  SVC_PID=$!
  for _ in $(seq 100); do grep -q ready "$Q/svc.out" 2>/dev/null && break; sleep 0.05; done
  now=$(date -u +%s)
  planted=0
  for t in $(seq $((now - 1)) $((now + 20))); do
    ln -s "$VICTIM" "$Q/reports/.guru-service_gurumeditation_$(date -u -d "@$t" +%Y%m%d%H%M%S).tmp"
    planted=$((planted + 1))
  done
  printf 'TOPSECRET-hunter2\n' >"$Q/secret" && chmod 600 "$Q/secret"
  ln -s "$Q/secret" "$Q/link.pid"
  cat >"$Q/catalog.yaml" <<YAML
ledger: sqlite://$Q/state/ledger.db
bundles: $Q/state/bundles
workarounds:
  - id: g
    issue: acme/infra#2
    cause: hardware
    diagnosed: true
    root_cause: "test"
    diagnostics:
      - guru: {pidfile: $Q/svc.pid, signal: USR2, report: "$Q/reports/guru-service_gurumeditation_*", timeout: 5s}
    action:
      - run: [echo, acted]
  - id: leak
    issue: acme/infra#3
    cause: hardware
    diagnosed: true
    root_cause: "test"
    diagnostics:
      - guru: {pidfile: $Q/link.pid, signal: USR2, report: "$Q/reports/x-*", timeout: 1s}
      - collect: process
        pidfile: $Q/link.pid
    action:
      - run: [echo, acted]
YAML
  set +e; "$BIN" run -c "$Q/catalog.yaml" g >"$W/out" 2>"$W/err"; rc=$?; set -e
  [[ $rc == 0 ]] || fail "guru run: exit $rc: $(cat "$W/out" "$W/err")"
  victim_ok || fail "the guru report was written through a planted temp symlink"
  ls "$Q"/state/bundles/*/guru/guru-service_gurumeditation_* >/dev/null 2>&1 || fail "no guru report in the bundle"
  race_row "guru report temp file (libstopgap_guru)" "$planted"
  set +e; "$BIN" run -c "$Q/catalog.yaml" leak >"$W/out" 2>"$W/err"; set -e
  "$BIN" report -c "$Q/catalog.yaml" --format json >"$W/report.json" 2>/dev/null || true
  leaked=0
  if grep -rqa hunter2 "$W/out" "$W/err" "$W/report.json" "$Q/state"; then leaked=1; fi
  [[ $leaked == 0 ]] || fail "a symlinked pidfile leaked the secret it points to"
  row "pidfile symlink to a 0600 secret (2 steps)" 2 "$((2 - 2 * leaked))" "$leaked (leaked)"
  kill "$SVC_PID" 2>/dev/null || true
  wait "$SVC_PID" 2>/dev/null || true
  SVC_PID=""
else
  echo "note: $GURU_SERVICE not built; guru cases skipped"
fi

# 7. check: a guru step's signal is a named, non-lethal one.
C=$W/check && mkdir -p "$C"
refused=0
for sig in 9 KILL TERM SIGINT; do
  cat >"$C/c.yaml" <<YAML
workarounds:
  - id: s
    issue: acme/infra#4
    cause: hardware
    diagnosed: true
    root_cause: "test"
    diagnostics:
      - guru: {pid: 1, signal: $sig, report: "/tmp/x-*"}
    action:
      - run: ["true"]
YAML
  set +e; "$BIN" check -c "$C/c.yaml" >"$W/out" 2>"$W/err"; rc=$?; set -e
  if [[ $rc == 2 ]] && grep -q "c.yaml:8: error:.*signal" "$W/err"; then
    refused=$((refused + 1))
  else
    fail "check accepted signal $sig (exit $rc): $(cat "$W/err")"
  fi
done
row "check: guru signal 9/KILL/TERM/SIGINT" 4 "$refused" 0

# ---------------------------------------------------------------------------
# 8. Hostile stores.
python3 "$SRC/tests/security/hostile_store.py" --seconds 240 >"$W/server.out" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q '^port ' "$W/server.out" 2>/dev/null && break; sleep 0.05; done
PORT=$(sed -n 's/^port //p' "$W/server.out")
[[ -n $PORT ]] || { echo "FAIL: hostile store did not start" >&2; exit 1; }
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export ST_AUTH="http://127.0.0.1:$PORT/auth/v1.0" ST_USER=test:tester ST_KEY=testing

# Every file under $W except the case's --out tree, before and after.
snapshot() { find "$W" -path "$1" -prune -o \( -type f -o -type l \) -print | sort; }
# store_case NAME KIND SCENARIO CMD WANT_RC PATTERN
store_case() {
  local name=$1 kind=$2 scenario=$3 cmd=$4 want=$5 pattern=$6 url flags=()
  local out=$W/store-$kind-$scenario-$cmd/out
  mkdir -p "$out"
  if [[ $kind == swift ]]; then
    url="swift://$scenario"
  else
    url="s3://$scenario"
    flags=(--endpoint "http://127.0.0.1:$PORT" --path-style)
  fi
  snapshot "$out" >"$W/before"
  local args=("$BIN" logship "$cmd" --from "$url" "${flags[@]}")
  [[ $cmd == get ]] && args+=(--out "$out" --quiet)
  set +e; timeout 120 "${args[@]}" >"$W/out" 2>"$W/err"; local rc=$?; set -e
  snapshot "$out" >"$W/after"
  local outside
  outside=$(comm -13 "$W/before" "$W/after" | grep -vc "^$W/\(out\|err\|before\|after\|server.out\)$" || true)
  local ok=1
  if [[ $rc != "$want" ]]; then ok=0; fail "$name: exit $rc, want $want: $(head -c 400 "$W/err")"; fi
  if [[ -n $pattern ]] && ! grep -Eq "$pattern" "$W/err"; then ok=0; fail "$name: unclear message: $(head -c 400 "$W/err")"; fi
  [[ $outside == 0 ]] || fail "$name: $outside file(s) written outside --out: $(comm -13 "$W/before" "$W/after")"
  STORE_OK=$ok STORE_OUTSIDE=$outside
}

for kind in swift s3; do
  # Traversal: each bad key refused by name, the good one fetched, exit 1.
  store_case "$kind get traversal keys" $kind traversal get 1 "not fetched"
  nbad=$(grep -c "not fetched" "$W/err" || true)
  want_bad=9
  [[ $kind == s3 ]] && want_bad=8  # no NUL through XML
  # Keys with a leading '/' are not log objects (no host): listed nowhere, written nowhere.
  want_bad=$((want_bad - 1))
  [[ $nbad -ge $want_bad ]] || fail "$kind traversal: $nbad keys refused, want $want_bad: $(cat "$W/err")"
  [[ -f $W/store-$kind-traversal-get/out/web1/app.log-20261125.gz ]] ||
    fail "$kind traversal: the good key was not fetched"
  row "$kind get: traversal keys (+1 good, fetched)" "$want_bad" "$nbad" "$STORE_OUTSIDE"
  store_case "$kind ls: malformed listing" $kind badjson ls 1 "listing|XML|JSON"
  row "$kind ls: malformed listing" 1 "$STORE_OK" "$STORE_OUTSIDE"
  store_case "$kind get: malformed listing" $kind badjson get 1 "listing|XML|JSON"
  row "$kind get: malformed listing" 1 "$STORE_OK" "$STORE_OUTSIDE"
  store_case "$kind ls: wrong document shape" $kind wrongshape ls 1 "listing|ListBucketResult|array"
  row "$kind ls: wrong document shape" 1 "$STORE_OK" "$STORE_OUTSIDE"
  store_case "$kind ls: 80 MiB listing" $kind huge ls 1 "larger than"
  row "$kind ls: 80 MiB listing body (cap 64 MiB)" 1 "$STORE_OK" "$STORE_OUTSIDE"
done
store_case "s3 ls: non-numeric sizes" s3 badsize ls 1 "bad Contents"
row "s3 ls: non-numeric / overflowing <Size>" 1 "$STORE_OK" "$STORE_OUTSIDE"
# Swift sizes that are not unsigned integers are read as 0 (swift_json.h); the
# listing still works and nothing is written anywhere.
set +e; "$BIN" logship ls --from swift://badsize >"$W/out" 2>"$W/err"; rc=$?; set -e
[[ $rc == 0 ]] || fail "swift ls badsize: exit $rc: $(cat "$W/err")"
row "swift ls: \"bytes\": \"abc\" / -5 (read as 0)" 2 "0 (ok)" 0
store_case "swift ls: bytes 1e400" swift overflow ls 1 "listing"
row "swift ls: \"bytes\": 1e400" 1 "$STORE_OK" "$STORE_OUTSIDE"
# A huge object streams to its file under --out (never held in memory).
store_case "swift get: 80 MiB object" swift hugeobject get 0 ""
[[ $(stat -c %s "$W/store-swift-hugeobject-get/out/web1/app.log-20261125.gz") == $((80 << 20)) ]] ||
  fail "huge object not written in full under --out"
row "swift get: 80 MiB object (streamed to --out)" 1 "0 (ok)" "$STORE_OUTSIDE"
ST_USER=test:badexpiry store_case "swift ls: bad X-Auth-Token-Expires" swift badexpiry ls 0 ""
row "swift auth: X-Auth-Token-Expires overflow" 1 "0 (ok)" "$STORE_OUTSIDE"

victim_ok || fail "the victim changed"

printf '\n%-46s %5s %7s %15s\n' "case" "tried" "refused" "written outside"
for r in "${ROWS[@]}"; do echo "$r"; done
if [[ $FAILS -gt 0 ]]; then
  echo "FAIL: $FAILS check(s) failed" >&2
  exit 1
fi
echo PASS
