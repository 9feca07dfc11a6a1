#!/usr/bin/env bash
# Kill -9 under load: SIGKILL `stopgap serve` at random moments while alerts
# arrive (RATE/s) and actions run (each writes a marker file, so runs are
# counted from outside). After each restart: every acknowledged (202) alert is
# in the ledger, every execution that was running reads interrupted with its
# bundle intact, no action ran twice or before its durable "acting" record,
# PRAGMA integrity_check is ok. Prints one FIGURE line.
# Env: KILLS (5; `make soak`: 100), RATE (200; soak: 500), STOPGAP_BIN, STOPGAP_SRC.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
KILLS=${KILLS:-5}
RATE=${RATE:-200}

LOAD_PID=""
faults_on_exit() { [[ -z $LOAD_PID ]] || kill "$LOAD_PID" 2>/dev/null; }
faults_serve_scratch kill9 0.05

recover_max=0
recover_sum=0
interrupted_total=0
start_serve "$TMP/stopgap.yaml" --workers 4 --queue 256
for k in $(seq 1 "$KILLS"); do
  # Load for a random 0.3-1.5 s, SIGKILL at a random moment inside it.
  kill_after=$($PY -c 'import random; print(round(random.uniform(0.3, 1.5), 3))')
  $FAULTS load "$URL" "$TMP/token" "$TMP/acked" --rate "$RATE" --seconds "$kill_after" \
    --tag "k$k-" >>"$TMP/load.log" 2>&1 &
  LOAD_PID=$!
  sleep "$kill_after"
  kill9_serve
  wait "$LOAD_PID" || fail "load generator failed: $(tail -3 "$TMP/load.log")"
  LOAD_PID=""
  # Before the restart: executions the kill left behind.
  left=$(sqlite3 "$TMP/state/ledger.db" \
    "SELECT COUNT(*) FROM executions WHERE state IN ('matched','diagnosing','acting','verifying')" \
    2>/dev/null || echo "?")
  t=$(ms_now)
  start_serve "$TMP/stopgap.yaml" --workers 4 --queue 256
  rec=$(($(ms_now) - t))
  ((rec > recover_max)) && recover_max=$rec
  recover_sum=$((recover_sum + rec))
  [[ $left =~ ^[0-9]+$ ]] && interrupted_total=$((interrupted_total + left))
  $FAULTS check "$TMP/state/ledger.db" "$TMP/acked" "$MARKERS" --quiet ||
    fail "after kill $k (at ${kill_after}s)"
done
# Nothing runs again by itself: with no new alerts, the markers stay put.
before=$(ls "$MARKERS" | wc -l)
sleep 1
after=$(ls "$MARKERS" | wc -l)
[[ $before == "$after" ]] || fail "actions ran after the restart without an alert ($before -> $after)"
stop_serve
figures=$($FAULTS check "$TMP/state/ledger.db" "$TMP/acked" "$MARKERS") || fail "final check"
echo "$figures"
$PY - "$figures" "$KILLS" "$RATE" "$interrupted_total" "$recover_max" "$recover_sum" <<'PY'
import json, sys
f = json.loads(sys.argv[1])
kills, rate, inter, rmax, rsum = sys.argv[2:7]
assert f["acted"] > 0, "no action ran: the test exercised nothing"
assert int(inter) > 0 or int(kills) < 3, "no kill landed while an execution was in flight"
print("FIGURE kill9-serve: kills=%s rate=%s/s acked=%d acked_lost=%d executions=%d "
      "interrupted_by_kills=%s action_runs=%d ran_twice=%d bundles_bad=%d integrity=%s "
      "recover_ms_max=%s recover_ms_mean=%d" % (
      kills, rate, f["acked"], f["acked_lost"], f["executions"], inter, f["action_runs"],
      f["ran_twice"], f["bundles_bad"], f["integrity"], rmax, int(rsum) // int(kills)))
PY
echo "PASS: kill -9 of serve x$KILLS in $(($(date +%s) - T0)) s"
