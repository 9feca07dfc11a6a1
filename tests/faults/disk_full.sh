#!/usr/bin/env bash
# Disk full: the ledger and the bundles live on a small tmpfs, filled to the
# last byte mid-load. Alerts are refused with 503 + Retry-After (never a 500,
# never a 202 that is not durable), executions whose bundle cannot be written
# fail with a clear error before their action, no row or file is half-written
# (integrity_check ok, every manifest of an execution that acted is whole, no
# temp files left), and work resumes when space returns (the filler deleted).
# Prints one FIGURE line. Needs root (mount -t tmpfs).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root for mount -t tmpfs"; exit 77; }

faults_on_exit() { mountpoint -q "$MNT" && umount "$MNT"; }
faults_serve_scratch diskfull 0.02
MNT=$TMP/state
mount -t tmpfs -o size=${FS_SIZE:-16m},mode=0700 stopgap-faults "$MNT"
LOAD_RATE=300 LOAD_MATCH=0.3

start_serve "$TMP/stopgap.yaml" --workers 4
say "room on the disk"
s=$(load --seconds 1 --tag room-)
(($(field "$s" '["acked"]') > 50)) || fail "nothing acknowledged with room on the disk: $s"

say "disk full"
last_before=$(sqlite3 "$MNT/ledger.db" 'SELECT COALESCE(MAX(id),0) FROM executions')
dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null || true
avail=$(df --output=avail -B1 "$MNT" | tail -1)
s=$(load --seconds 2 --tag full-)
echo "    while full (avail ${avail} B): $s"
[[ $(field "$s" '["other"]') == 0 ]] || fail "answers other than 202/503 while the disk is full: $s"
full_503=$(field "$s" '["refused503"]')
full_202=$(field "$s" '["acked"]')
sleep 0.5
say "space returns"
rm -f "$MNT/filler"
t=$(ms_now)
ok=0
for _ in $(seq 1 50); do
  s=$(load --seconds 0.2 --rate 50 --tag back-)
  (($(field "$s" '["acked"]') > 0)) && { ok=1; break; }
done
((ok)) || fail "no alert acknowledged after the space returned"
resume=$(($(ms_now) - t))
s=$(load --seconds 1 --tag after-)
(($(field "$s" '["refused503"]') == 0)) || fail "still refusing with room on the disk: $s"
sleep 0.5
stop_serve
# Executions whose end could not be written while the disk was full stay
# unfinished until the ledger is re-opened: a restart marks them interrupted
# (the promise is about the ledger after a restart).
unfinished=$(sqlite3 "$MNT/ledger.db" "SELECT COUNT(*) FROM executions WHERE state NOT IN ('succeeded','failed','refused','interrupted','cancelled')")
echo "    unfinished before the restart: $unfinished $(sqlite3 "$MNT/ledger.db" "SELECT group_concat(id || ':' || state || ':' || substr(detail,1,60), ' | ') FROM executions WHERE state NOT IN ('succeeded','failed','refused','interrupted','cancelled')")"
start_serve "$TMP/stopgap.yaml" --workers 4
stop_serve
# Executions started while the disk was full: failed with a clear error, or ran.
failed_full=$(sqlite3 "$MNT/ledger.db" "SELECT COUNT(*) FROM executions WHERE id > $last_before AND state = 'failed'")
unclear=$(sqlite3 "$MNT/ledger.db" "SELECT COUNT(*) FROM executions WHERE id > $last_before AND state = 'failed' AND detail NOT LIKE '%No space left%' AND detail NOT LIKE '%full%'")
[[ $unclear == 0 ]] || fail "$unclear executions failed without saying the disk is full: $(sqlite3 "$MNT/ledger.db" "SELECT detail FROM executions WHERE state='failed' LIMIT 3")"
succeeded_after=$(sqlite3 "$MNT/ledger.db" "SELECT COUNT(*) FROM executions WHERE state = 'succeeded' AND created_at > $t")
((succeeded_after > 0)) || fail "no execution succeeded after the space returned"
tmpfiles=$(find "$MNT/bundles" -name '.manifest.json.tmp.*' | wc -l)
[[ $tmpfiles == 0 ]] || fail "$tmpfiles temporary manifest files left behind"
figures=$($FAULTS check "$MNT/ledger.db" "$TMP/acked" "$MARKERS") || fail "ledger check"
echo "$figures"
echo "FIGURE disk-full: refused503_while_full=$full_503 acked_while_full=$full_202 executions_failed_clearly=$failed_full acked_lost=$(field "$figures" '["acked_lost"]') ran_twice=$(field "$figures" '["ran_twice"]') ran_early=$(field "$figures" '["ran_early"]') bundles_bad=$(field "$figures" '["bundles_bad"]') integrity=$(field "$figures" '["integrity"]') resume_ms=$resume"
echo "PASS: disk full in $(($(date +%s) - T0)) s"
