#!/usr/bin/env bash
# fsync fails in a WAL checkpoint: the LD_PRELOAD shim (fsync_fail.so) fails
# only the fsyncs of the ledger's database file (not its -wal), which SQLite
# does only when it checkpoints the WAL into the database. SQLite's automatic
# checkpoint ignores that error and tries again at the next commit, where a
# "successful" fsync would hide pages the kernel may have dropped
# (fsyncgate). The daemon must latch it like any other failed fsync: 503 +
# Retry-After from the first commit after the fault, /healthz storage-failed,
# no 202 even once fsync works again, and a restart that re-checks the
# ledger. Prints one FIGURE line.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SHIM=$(fsync_shim)
faults_serve_scratch ckpt 0.01
LOAD_RATE=400 LOAD_MATCH=0.05

# Only the database file: its fsyncs happen in checkpoints only.
export STOPGAP_FAULT_PATHS="$TMP/state/ledger.db\$" STOPGAP_FAULT_TRIGGER=$TMP/fail-now \
  STOPGAP_FAULT_LOG=$TMP/faults.log
LD_PRELOAD=$SHIM start_serve "$TMP/stopgap.yaml" --workers 4
say "healthy storage"
s=$(load --seconds 1 --tag ok-)
(($(field "$s" '["acked"]') > 50)) || fail "no alerts acknowledged before the fault: $s"

say "the database file's fsync returns EIO: load until a checkpoint has failed"
touch "$TMP/fail-now"
t_fault=$(ms_now)
acked_after=0
for i in $(seq 1 40); do
  s=$(load --seconds 0.5 --tag eio$i-)
  if [[ -s $TMP/faults.log ]]; then
    # The checkpoint has failed: from the next request on, nothing is acknowledged.
    s=$(load --seconds 1 --tag after$i-)
    acked_after=$(field "$s" '["acked"]')
    break
  fi
done
faults=$(wc -l <"$TMP/faults.log" 2>/dev/null || echo 0)
((faults > 0)) || fail "no checkpoint fsync in 20 s of load (the WAL never reached 1000 frames?)"
echo "    after the failed checkpoint: $s"
[[ $acked_after == 0 ]] || fail "$acked_after alerts acknowledged after a checkpoint's fsync failed: $s"
(($(field "$s" '["refused503"]') > 0)) || fail "no 503 after the failed checkpoint: $s"
latched_ms=$(($(ms_now) - t_fault))
h=$(curl -s -w '\n%{http_code}' "$URL/healthz")
[[ $(tail -1 <<<"$h") == 503 ]] || fail "/healthz after a failed checkpoint: $h"
grep -q 'ledger storage failed' "$SERVE_LOG" || fail "the log does not say the ledger storage failed"
grep -q 'checkpoint' "$SERVE_LOG" || fail "the log does not name the checkpoint"

say "fsync works again: still refused"
rm -f "$TMP/fail-now"
s=$(load --seconds 0.5 --tag later-)
[[ $(field "$s" '["acked"]') == 0 ]] || fail "acknowledged again without a restart: $s"

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
figures=$($FAULTS check "$TMP/state/ledger.db" "$TMP/acked" "$MARKERS") || fail "ledger check: $figures"
echo "$figures"
echo "FIGURE checkpoint-eio: faults_injected=$faults acked_after_fault=$acked_after acked_lost=$(field "$figures" '["acked_lost"]') ran_twice=$(field "$figures" '["ran_twice"]') integrity=$(field "$figures" '["integrity"]') fault_to_latched_ms=$latched_ms recover_ms=$recover"
echo "PASS: checkpoint fsync EIO in $(($(date +%s) - T0)) s"
