#!/usr/bin/env bash
# Kill -9 of `stopgap run` at random moments (diagnostics, the action, the
# end): the next `stopgap run` on the same ledger reads the killed execution
# as interrupted (never re-runs it), its bundle is intact when it acted, no
# action ran twice or before its durable "acting" record, integrity_check ok.
# Prints one FIGURE line. Env: KILLS (5; soak 100), STOPGAP_BIN, STOPGAP_SRC.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
KILLS=${KILLS:-5}

RUN_PID=""
faults_on_exit() { [[ -z $RUN_PID ]] || kill -KILL "$RUN_PID" 2>/dev/null; }
faults_serve_scratch kill9-run 0.5
run() { "$BIN" run -c "$TMP/stopgap.yaml" fault-load --offline "$@"; }

in_action=0
for k in $(seq 1 "$KILLS"); do
  # 0-0.5 s: before or during the action (it takes 0.5 s; start-up ~0.05 s).
  kill_after=$($PY -c 'import random; print(round(random.uniform(0.0, 0.5), 3))')
  markers_before=$(ls "$MARKERS" | wc -l)
  "$BIN" run -c "$TMP/stopgap.yaml" fault-load --offline >>"$TMP/run.log" 2>&1 &
  RUN_PID=$!
  sleep "$kill_after"
  kill -KILL "$RUN_PID" 2>/dev/null || true
  wait "$RUN_PID" 2>/dev/null || true
  RUN_PID=""
  sleep 0.55  # an action the kill orphaned finishes (it was started before the kill)
  (($(ls "$MARKERS" | wc -l) > markers_before)) && in_action=$((in_action + 1))
done
# The next run opens the ledger: the killed ones become interrupted, none re-runs.
before=$(ls "$MARKERS" | wc -l)
run >>"$TMP/run.log" 2>&1 || fail "the run after the kills failed: $(tail -5 "$TMP/run.log")"
after=$(ls "$MARKERS" | wc -l)
[[ $after == $((before + 1)) ]] || fail "want exactly one new action run, got $((after - before))"
figures=$($FAULTS check "$TMP/state/ledger.db" /nonexistent "$MARKERS") || fail "ledger check"
echo "$figures"
$PY - "$figures" "$KILLS" "$in_action" <<'PY'
import json, sys
f = json.loads(sys.argv[1])
kills, in_action = int(sys.argv[2]), int(sys.argv[3])
inter = f["states"].get("interrupted", 0)
# A kill before the ledger was opened leaves no execution; every other one
# reads interrupted, and only the last run (not killed) succeeded.
assert f["executions"] <= kills + 1 and inter == f["executions"] - 1, f
assert f["states"].get("succeeded", 0) == 1, f
print("FIGURE kill9-run: kills=%d killed_in_or_after_action=%d interrupted=%d action_runs=%d "
      "ran_twice=%d ran_early=%d bundles_bad=%d integrity=%s" % (
      kills, in_action, inter, f["action_runs"], f["ran_twice"], f["ran_early"],
      f["bundles_bad"], f["integrity"]))
PY
echo "PASS: kill -9 of run x$KILLS in $(($(date +%s) - T0)) s"
