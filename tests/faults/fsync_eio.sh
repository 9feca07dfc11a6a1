#!/usr/bin/env bash
# fsync fails (fsyncgate): an LD_PRELOAD shim (fsync_fail.so) makes fsync and
# fdatasync of the ledger and the bundles return EIO. The daemon must stop
# acknowledging (503 + Retry-After on alert intake, never a 202 after the
# fault), say so in its log and /healthz, stay that way when fsync works again
# (a failed fsync is never retried), and recover only by a restart that
# re-checks the ledger: then every alert acknowledged before the fault is
# there, no action ran twice or without a durable "acting" record, and
# integrity_check is ok. Prints one FIGURE line.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SHIM=$(fsync_shim)
faults_serve_scratch fsync 0.02
LOAD_RATE=200 LOAD_MATCH=0.2

export STOPGAP_FAULT_PATHS=$TMP/state STOPGAP_FAULT_TRIGGER=$TMP/fail-now \
  STOPGAP_FAULT_LOG=$TMP/faults.log
LD_PRELOAD=$SHIM start_serve "$TMP/stopgap.yaml" --workers 4
say "healthy storage"
s=$(load --seconds 1 --tag ok-)
(($(field "$s" '["acked"]') > 50)) || fail "no alerts acknowledged before the fault: $s"

say "fsync returns EIO"
touch "$TMP/fail-now"
s=$(load --seconds 1.5 --tag eio-)
echo "    during the fault: $s"
[[ $(field "$s" '["acked"]') == 0 ]] || fail "alerts acknowledged while fsync fails: $s"
(($(field "$s" '["refused503"]') > 0)) || fail "no 503 while fsync fails: $s"
[[ $(field "$s" '["other"]') == 0 ]] || fail "answers other than 503 while fsync fails: $s"
faults=$(wc -l <"$TMP/faults.log")
((faults > 0)) || fail "the shim injected nothing"
h=$(curl -s -w '\n%{http_code}' "$URL/healthz")
[[ $(tail -1 <<<"$h") == 503 ]] || fail "/healthz during the fault: $h"
grep -q storage-failed <<<"$h" || fail "/healthz does not say storage-failed: $h"
grep -q 'storage failed' "$SERVE_LOG" || fail "the log does not say the storage failed"
retry=$(curl -s -o /dev/null -D - -H "Authorization: Bearer $(cat "$TMP/token")" \
  --data '{"name":"FaultNoise"}' "$URL/api/v1/alerts" | tr -d '\r' | grep -i '^retry-after:' || true)
[[ -n $retry ]] || fail "503 without Retry-After"

say "fsync works again: still refused (never retry a failed fsync)"
rm -f "$TMP/fail-now"
s=$(load --seconds 0.5 --tag after-)
[[ $(field "$s" '["acked"]') == 0 ]] || fail "acknowledged again without a restart: $s"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz") == 503 ]] || fail "/healthz recovered by itself"

say "restart: the ledger is re-checked, work resumes"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || true
SERVE_PID=""
t=$(ms_now)
LD_PRELOAD=$SHIM start_serve "$TMP/stopgap.yaml" --workers 4
recover=$(($(ms_now) - t))
s=$(load --seconds 1 --tag restarted-)
(($(field "$s" '["acked"]') > 50)) || fail "not acknowledging after the restart: $s"
stop_serve

say "fsync of a bundle returns EIO: no action starts, acknowledgements stop"
: >"$TMP/faults.log"
STOPGAP_FAULT_PATHS=$TMP/state/bundles LD_PRELOAD=$SHIM start_serve "$TMP/stopgap.yaml" --workers 4
touch "$TMP/fail-now"
s=$(load --seconds 1 --tag bundle-eio-)
echo "    during the fault: $s"
bundle_faults=$(wc -l <"$TMP/faults.log")
((bundle_faults > 0)) || fail "no bundle fsync was failed"
grep -q 'bundle storage failed' "$SERVE_LOG" || fail "the log does not say the bundle storage failed"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz") == 503 ]] || fail "/healthz ok after a bundle fsync failed"
rm -f "$TMP/fail-now"
s=$(load --seconds 0.5 --tag bundle-after-)
[[ $(field "$s" '["acked"]') == 0 ]] || fail "acknowledged again after a bundle fsync failed: $s"
notdurable=$(sqlite3 "$TMP/state/ledger.db" "SELECT COUNT(*) FROM executions WHERE detail LIKE '%bundle not durable%'")
((notdurable > 0)) || fail "no execution failed for its bundle"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || true
SERVE_PID=""
start_serve "$TMP/stopgap.yaml" --workers 4
stop_serve
figures=$($FAULTS check "$TMP/state/ledger.db" "$TMP/acked" "$MARKERS") || fail "ledger check"
echo "$figures"
echo "FIGURE fsync-eio: faults_injected=$faults bundle_faults_injected=$bundle_faults executions_failed_for_bundle=$notdurable acked_during_fault=0 acked_lost=$(field "$figures" '["acked_lost"]') ran_twice=$(field "$figures" '["ran_twice"]') ran_early=$(field "$figures" '["ran_early"]') integrity=$(field "$figures" '["integrity"]') recover_ms=$recover"
echo "PASS: fsync EIO in $(($(date +%s) - T0)) s"
