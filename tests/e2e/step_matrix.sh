#!/usr/bin/env bash
# The step-kind matrix (issue 11): each diagnostics step kind (run, collect
# system, collect tcp, collect process with stacks of the multi-threaded
# example guru-service, guru) x each entry point (`stopgap run -c FILE ID`,
# and `stopgap serve` with an alert through HTTP), on one catalog. Every cell's
# step must be `ok` with its files in the bundle, and both entry points must
# give the same outcome per kind: a kind cannot work in one and not the other.
# Env: STOPGAP_BIN, STOPGAP_SRC, STOPGAP_BUILD, GURU_SERVICE (set by CTest).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

TMP=$(mktemp -d /tmp/stopgap-matrix.XXXXXX)
SERVE_LOG=$TMP/serve.log
SERVE_PID="" GURU_PID=""
cleanup() {
  [[ -n $SERVE_PID ]] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
  [[ -n $GURU_PID ]] && kill "$GURU_PID" 2>/dev/null
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
  return 0
}
trap cleanup EXIT

start_guru "$TMP/guru"
PID_FILE=$TMP/guru/guru.pid
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
EXPIRES=$(date -u -d '+20 days' +%F)
KINDS=(run system tcp process guru)
declare -A STEP=(
  [run]="- run: [uname, -a]"
  [system]="- collect: [system]"
  [tcp]="- collect: [tcp]"
  [process]="- {collect: [process], pidfile: \"$PID_FILE\", stacks: true, timeout: 20s}"
  [guru]="- guru: {pidfile: \"$PID_FILE\", signal: USR2, report: \"$TMP/guru/reports/guru-service_gurumeditation_*\", timeout: 10s}"
)
# The bundle file each kind must leave (a regex over the manifest's file list).
declare -A FILE=(
  [run]='^diagnostics-00\.stdout$'
  [system]='^system/summary\.txt$'
  [tcp]='^tcp/counters\.txt$'
  [process]="^process-$GURU_PID/stacks\\.txt$"
  [guru]='^guru/guru-service_gurumeditation_'
)
{
  cat <<YAML
server: {listen: "127.0.0.1:$PORT", token_file: "$TMP/token"}
ledger: "sqlite://$TMP/ledger.db"
bundles: "$TMP/bundles"
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d}
workarounds:
YAML
  for k in "${KINDS[@]}"; do
    cat <<YAML
  - id: m-$k
    issue: "acme/infra#$((${#k} + 100))"
    cause: in-house
    diagnosed: false
    expires: $EXPIRES
    match: {alertname: Matrix_$k}
    diagnostics:
      ${STEP[$k]}
    action:
      - run: ["true"]
YAML
  done
} >"$TMP/stopgap.yaml"
"$BIN" check -c "$TMP/stopgap.yaml" >"$TMP/check.out" 2>&1 || fail "check: $(cat "$TMP/check.out")"

# cell ENTRY KIND BUNDLE_DIR: the diagnostics step's outcome (printed), with
# its file checked in the bundle's manifest.
cell() {
  $PY - "$3" "${FILE[$2]}" "$GURU_PID" "$2" <<'PY'
import json, os, re, sys
bdir, pattern, pid, kind = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
m = json.load(open(os.path.join(bdir, "manifest.json")))
steps = m.get("steps") or m.get("collectors") or []
diag = [s for s in steps if s.get("phase", "diagnostics") == "diagnostics"]
assert diag, "no diagnostics step in the manifest"
s = diag[0]
outcome = s.get("outcome") or ("ok" if s.get("ok") else "failed")
files = [f for f in s.get("files", []) if re.search(pattern, f)]
if outcome == "ok":
    assert files, "no file matching %s among %s" % (pattern, s.get("files"))
    path = os.path.join(bdir, files[0])
    assert os.path.getsize(path) > 0, "%s is empty" % files[0]
    if kind == "process":
        tids = set(re.findall(r"^Thread (\d+) ", open(path).read(), re.M))
        want = set(os.listdir("/proc/%d/task" % pid))
        assert tids == want, "stacks of %s, target threads %s" % (sorted(tids), sorted(want))
print(outcome, files[0] if files else "-")
PY
}

declare -A OUT
step "stopgap run -c FILE ID, one per kind"
for k in "${KINDS[@]}"; do
  rc=0
  "$BIN" run -c "$TMP/stopgap.yaml" "m-$k" >"$TMP/run-$k.out" 2>&1 || rc=$?
  [[ $rc == 0 ]] || fail "stopgap run m-$k exited $rc: $(cat "$TMP/run-$k.out")"
  grep -Eq "^  diagnostics\[0\] .* -> ok([ ,]|$)" "$TMP/run-$k.out" || fail "run m-$k: $(cat "$TMP/run-$k.out")"
  bundle=$(sed -n 's/^  bundle: //p' "$TMP/run-$k.out")
  [[ -d $bundle ]] || fail "run m-$k: no bundle directory: $(cat "$TMP/run-$k.out")"
  OUT[run/$k]=$(cell run "$k" "$bundle") || fail "run m-$k: bundle $bundle"
  found "run   $k: ${OUT[run/$k]}"
done

step "stopgap serve, one alert through HTTP per kind"
start_serve "$TMP/stopgap.yaml" "$SERVE_LOG" "$URL"
AUTH=(-H "Authorization: Bearer $(cat "$TMP/token")")
declare -A EXEC
for k in "${KINDS[@]}"; do
  EXEC[$k]=$(curl -fsS "${AUTH[@]}" -d "{\"name\":\"Matrix_$k\",\"labels\":{\"cell\":\"$k\"}}" \
    "$URL/api/v1/alerts" | json 'd["executions"][0]')
done
finished() {
  [[ $(curl -fsS "${AUTH[@]}" "$URL/api/v1/executions/$1" | json 'd["state"]') =~ ^(succeeded|failed|interrupted)$ ]]
}
for k in "${KINDS[@]}"; do
  wait_for 60 finished "${EXEC[$k]}" || fail "serve m-$k: execution ${EXEC[$k]} did not finish"
  curl -fsS "${AUTH[@]}" "$URL/api/v1/executions/${EXEC[$k]}" >"$TMP/exec-$k.json"
  api_outcome=$(json '[s["outcome"] for s in d["steps"] if s["phase"]=="diagnostics"][0]' <"$TMP/exec-$k.json")
  [[ $api_outcome == ok ]] || fail "serve m-$k: API outcome $api_outcome: $(cat "$TMP/exec-$k.json")"
  OUT[serve/$k]=$(cell serve "$k" "$(json 'd["bundle_dir"]' <"$TMP/exec-$k.json")") || fail "serve m-$k: bundle"
  found "serve $k: ${OUT[serve/$k]}"
done
stop_serve

step "the matrix"
printf '    %-8s %-6s %-6s\n' kind run serve
bad=0
for k in "${KINDS[@]}"; do
  r=${OUT[run/$k]%% *} s=${OUT[serve/$k]%% *}
  printf '    %-8s %-6s %-6s\n' "$k" "$r" "$s"
  [[ $r == ok && $s == ok ]] || bad=1
done
((bad == 0)) || fail "a cell is not ok (or run and serve differ)"
echo "PASS: step matrix (${#KINDS[@]} kinds x run, serve) in $(($(date +%s) - T0)) s"
