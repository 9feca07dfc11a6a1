#!/usr/bin/env bash
# Integration test of `stopgap check | run | report` with the real binary:
# exit codes, file:line messages, dry runs that write nothing, limits, and a
# `stopgap run` killed with SIGKILL during its action reading `interrupted`
# afterwards (and never re-run by itself). Also checks examples/stopgap.yaml.
set -euo pipefail
BIN=${STOPGAP_BIN:?STOPGAP_BIN is not set}
SRC=${STOPGAP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d /tmp/stopgap-cli-test-XXXXXX)
ACTION_PID_FILE=$T/action.pid
cleanup() {
  if [[ -f $ACTION_PID_FILE ]]; then kill -9 "$(cat "$ACTION_PID_FILE")" 2>/dev/null || true; fi
  if [[ -n ${RUN_PID:-} ]]; then kill -9 "$RUN_PID" 2>/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT
cd "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_rc() {  # expect_rc WANT CMD...
  local want=$1; shift
  set +e; "$@" >"$T/out" 2>"$T/err"; local rc=$?; set -e
  [[ $rc == "$want" ]] || { cat "$T/out" "$T/err" >&2; fail "'$*' exited $rc, want $want"; }
}
TODAY=$(date -u +%F)
in_days() { date -u -d "+$1 days" +%F; }

cat > catalog.yaml <<YAML
ledger: sqlite://$T/state/ledger.db
bundles: $T/state/bundles
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 100}
workarounds:
  - id: good
    issue: acme/infra#1
    cause: in-house
    diagnosed: false
    expires: $(in_days 20)
    diagnostics:
      - run: [echo, evidence]
    action:
      - run: [touch, "{{labels.file}}"]
    verify:
      - run: [test, -f, "{{labels.file}}"]
    limits: {cooldown: 1h}
    labels: {file: {pattern: "/[A-Za-z0-9._/-]{1,200}"}}
  - id: bad-verify
    issue: OPS-2
    cause: vendor
    diagnosed: true
    root_cause: "known"
    expires: $(in_days 60)
    diagnostics:
      - run: [true]
    action:
      - run: [true]
    verify:
      - run: [false]
  - id: slow
    issue: "#3"
    cause: hardware
    diagnosed: false
    diagnostics:
      - run: [echo, before-action]
    action:
      - run: [sh, -c, 'echo \$\$ > $ACTION_PID_FILE; exec sleep 60']
YAML

# ---- check ----
expect_rc 0 "$BIN" check -c catalog.yaml
grep -q "ok, 3 workaround(s), 0 warning(s)" out || fail "check summary: $(cat out)"
expect_rc 1 "$BIN" check -c catalog.yaml --strict --today "$(in_days 8)"
grep -q "catalog.yaml:9: warning: workaround 'good': expires" err || fail "warning: $(cat err)"
expect_rc 2 "$BIN" check -c catalog.yaml --today "$(in_days 25)"
grep -q "catalog.yaml:9: error: workaround 'good': expires: expired" err || fail "expired: $(cat err)"
sed 's/    issue: OPS-2/    isue: OPS-2/' catalog.yaml > broken.yaml
expect_rc 2 "$BIN" check -c broken.yaml
grep -q "broken.yaml:19: error: workaround 'bad-verify': isue: unknown key" err || fail "unknown key: $(cat err)"
grep -q "broken.yaml:18: error: workaround 'bad-verify': issue: every workaround must name" err ||
  fail "missing issue: $(cat err)"
expect_rc 2 "$BIN" check -c does-not-exist.yaml

# ---- run ----
expect_rc 0 "$BIN" run -c catalog.yaml good --label file="$T/made" --dry-run
grep -q "action\[0\] run: touch $T/made" out || fail "dry-run plan: $(cat out)"
[[ ! -e $T/state/ledger.db && ! -e $T/made ]] || fail "dry run wrote something"
expect_rc 0 "$BIN" run -c catalog.yaml good --label file="$T/made"
[[ -f $T/made ]] || fail "action did not run"
grep -q "execution 1: succeeded" out || fail "run output: $(cat out)"
[[ $(stat -c %a "$T/state/ledger.db") == 600 ]] || fail "ledger mode"
[[ -f $T/state/bundles/1/manifest.json && -f $T/state/bundles/1/diagnostics-00.stdout ]] ||
  fail "bundle missing"
expect_rc 1 "$BIN" run -c catalog.yaml good --label file="$T/made"
grep -q "refused (cooldown)" out || fail "cooldown: $(cat out)"
expect_rc 1 "$BIN" run -c catalog.yaml bad-verify
grep -q "failed: verify\[0\] exited 1" out || fail "verify failure: $(cat out)"
expect_rc 1 "$BIN" run -c catalog.yaml good --label 'file=$(touch /tmp/stopgap-pwned)'
grep -q "refused (unsafe-label)" out || fail "unsafe label: $(cat out)"
expect_rc 2 "$BIN" run -c catalog.yaml no-such-workaround
expect_rc 2 "$BIN" run -c catalog.yaml good --label novalue
expect_rc 2 "$BIN" run -c broken.yaml good

# ---- SIGKILL during the action -> interrupted ----
"$BIN" run -c catalog.yaml slow >"$T/slow.out" 2>&1 &
disown
RUN_PID=$!
for _ in $(seq 1 200); do [[ -s $ACTION_PID_FILE ]] && break; sleep 0.05; done
[[ -s $ACTION_PID_FILE ]] || fail "the slow action never started"
kill -9 "$RUN_PID"
wait "$RUN_PID" 2>/dev/null || true
RUN_PID=
kill -9 "$(cat "$ACTION_PID_FILE")" 2>/dev/null || true
# The evidence was sealed before the action started.
SLOW_MANIFEST=$(grep -l '"workaround": "slow"' "$T"/state/bundles/*/manifest.json) ||
  fail "no bundle for the interrupted execution"
grep -q '"complete": false' "$SLOW_MANIFEST" || fail "bundle not sealed before the action"
grep -q '"outcome": "ok"' "$SLOW_MANIFEST" || fail "diagnostics missing from the sealed bundle"
expect_rc 0 "$BIN" report -c catalog.yaml --format json
python3 - "$T/out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert set(r) == {"issues", "workarounds", "undiagnosed_ranking", "cost"}, r.keys()
w = {x["id"]: x for x in r["workarounds"]}
for x in r["workarounds"]:
    assert set(x) == {"id", "issue", "state", "days_left", "diagnosed", "runs_total",
                      "refusals_total", "last_result", "mode", "approvals"}, x
for x in r["issues"]:
    assert set(x) == {"issue", "runs_24h", "runs_7d", "runs_total", "workarounds"}, x
assert w["slow"]["last_result"] == "interrupted", w["slow"]
assert w["slow"]["runs_total"] == 1 and w["slow"]["days_left"] is None, w["slow"]
assert w["good"]["runs_total"] == 1 and w["good"]["refusals_total"] == 2, w["good"]
assert w["good"]["state"] == "active" and w["good"]["diagnosed"] is False, w["good"]
assert w["bad-verify"]["last_result"] == "failed", w["bad-verify"]
i = {x["issue"]: x for x in r["issues"]}
assert i["#3"]["runs_24h"] == 1 and i["#3"]["workarounds"] == ["slow"], i["#3"]
ranking = [x["id"] for x in r["undiagnosed_ranking"]]
assert ranking == ["good", "slow"] or ranking == ["slow", "good"], ranking
PY
# Interrupted is final: reading the ledger again does not re-run or change it.
expect_rc 0 "$BIN" report -c catalog.yaml
grep -Eq '^slow +#3 .* interrupted$' out || fail "table report: $(cat out)"

# ---- retired: report shows a workaround whose issue the daemon's tracker sync
# last saw closed (state file next to the ledger); the tracker is not asked ----
echo "tok" > "$T/tracker-token" && chmod 600 "$T/tracker-token"
{ echo "tracker: {kind: github, url: \"http://127.0.0.1:9\", token_file: $T/tracker-token}"
  cat catalog.yaml; } > tracked.yaml
printf '{"version":1,"issues":{"acme/infra#1":"closed","OPS-2":"open"}}\n' > "$T/state/tracker-state.json"
expect_rc 0 "$BIN" report -c tracked.yaml --format json
python3 - "$T/out" <<'PY'
import json, sys
w = {x["id"]: x for x in json.load(open(sys.argv[1]))["workarounds"]}
assert w["good"]["state"] == "retired", w["good"]
assert w["bad-verify"]["state"] != "retired", w["bad-verify"]
PY
rm "$T/state/tracker-state.json"
expect_rc 0 "$BIN" report -c tracked.yaml --format json
grep -q '"retired"' out && fail "retired without a tracker state file: $(cat out)"

# ---- SIGINT during the action: the step is stopped, nothing left running,
# the execution recorded interrupted, exit 1 ----
rm -f "$ACTION_PID_FILE"
"$BIN" run -c catalog.yaml slow >"$T/int.out" 2>"$T/int.err" &
RUN_PID=$!
for _ in $(seq 1 200); do [[ -s $ACTION_PID_FILE ]] && break; sleep 0.05; done
[[ -s $ACTION_PID_FILE ]] || fail "the slow action never started (2nd run): $(cat "$T/int.out" "$T/int.err")"
kill -INT "$RUN_PID"
rc=0
for _ in $(seq 1 100); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$RUN_PID" 2>/dev/null && fail "stopgap run still running 5 s after SIGINT"
wait "$RUN_PID" || rc=$?
RUN_PID=
[[ $rc == 1 ]] || fail "stopgap run after SIGINT: exit $rc, want 1: $(cat "$T/int.out" "$T/int.err")"
kill -0 "$(cat "$ACTION_PID_FILE")" 2>/dev/null && fail "the action survived SIGINT"
grep -q 'interrupted: action\[0\] stopped' "$T/int.out" || fail "not interrupted: $(cat "$T/int.out")"
grep -q 'SIGINT: stopping the running step' "$T/int.err" || fail "no notice: $(cat "$T/int.err")"

# ---- the example catalog stays valid (refresh its dates when this fails) ----
expect_rc 0 "$BIN" check -c "$SRC/examples/stopgap.yaml"
echo "cli_test: ok"
