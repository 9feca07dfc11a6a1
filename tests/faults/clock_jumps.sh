#!/usr/bin/env bash
# Clock jumps: `stopgap serve` under libfaketime, its wall clock stepped
# forward and back by hours while the monotonic clock runs on
# (DONT_FAKE_MONOTONIC=1, as when NTP or an operator steps the clock).
# Cooldowns and slot-wait deadlines are measured on the monotonic clock (a
# step forward must not let a run repeat within its cooldown; a step back must
# not hold the next run for hours); TTLs (expires) follow the calendar.
# Prints one FIGURE line. Needs Debian's faketime (libfaketime).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
FT=${FAKETIME_LIB:-/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1}
[[ -f $FT ]] || fail "no libfaketime at $FT (apt-get install faketime; scripts/install-deps --services)"

faults_scratch clock
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
ACT='[sh, -c, '"'"'touch "$0/$STOPGAP_EXECUTION_ID.$$"; sleep "$1"'"'"', "'"$MARKERS"'"'
cat >"$TMP/stopgap.yaml" <<YAML
server: {listen: "127.0.0.1:$PORT", token_file: "$TMP/token"}
ledger: "sqlite://$TMP/ledger.db"
bundles: "$TMP/bundles"
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 1000}
workarounds:
  - {id: clock-cool, issue: acme/infra#15, cause: in-house, diagnosed: false,
     expires: $(date -u -d '+20 days' +%F), match: {alertname: ClockCool},
     diagnostics: [{run: ["true"]}], action: [{run: $ACT, "0.05"]}], limits: {cooldown: 3s, concurrency: 1}}
  - {id: clock-queue, issue: acme/infra#15, cause: in-house, diagnosed: false,
     expires: $(date -u -d '+20 days' +%F), match: {alertname: ClockQueue},
     diagnostics: [{run: ["true"]}], action: [{run: $ACT, "1.5"]}],
     limits: {cooldown: 0s, concurrency: 1, on_busy: queue, queue_timeout: 1m}}
  - {id: clock-ttl, issue: acme/infra#15, cause: in-house, diagnosed: false,
     expires: $(date -u -d '+1 day' +%F), match: {alertname: ClockTtl},
     diagnostics: [{run: ["true"]}], action: [{run: $ACT, "0"]}], limits: {cooldown: 0s, concurrency: 4}}
YAML
echo "+0" >"$TMP/clock"
jump() { echo "$1" >"$TMP/clock"; say "wall clock now $1 (monotonic unchanged)"; }
LD_PRELOAD=$FT FAKETIME_TIMESTAMP_FILE=$TMP/clock FAKETIME_NO_CACHE=1 DONT_FAKE_MONOTONIC=1 \
  start_serve "$TMP/stopgap.yaml" --workers 4
TOKEN=$(cat "$TMP/token")
n=0
# post NAME FINGERPRINT: posts a new firing instance; prints executions/duplicates/refused.
post() {
  n=$(($(cat "$TMP/n" 2>/dev/null || echo 0) + 1))
  echo "$n" >"$TMP/n"  # $(post ...) runs in a subshell
  curl -fsS -H "Authorization: Bearer $TOKEN" "$URL/api/v1/alerts" --data \
    "{\"name\":\"$1\",\"fingerprint\":\"$2\",\"status\":\"firing\",\"starts_at\":\"2026-01-01T00:$(printf %02d $((n / 60))):$(printf %02d $((n % 60)))Z\"}" |
    $PY -c 'import json,sys; d=json.load(sys.stdin); e=d["execution_details"]
print(" ".join([("run" if x["state"]=="matched" else "refused:"+x.get("reason","")) for x in e] + ["dup:"+x["why"] for x in d["duplicates"]]))'
}
state_of() { sqlite3 "$TMP/ledger.db" "SELECT state FROM executions WHERE fingerprint='$1' ORDER BY id"; }
wait_done() {  # wait_done FP COUNT: COUNT executions of FP reach a final state (10 s)
  local i
  for i in $(seq 1 100); do
    [[ $(sqlite3 "$TMP/ledger.db" "SELECT COUNT(*) FROM executions WHERE fingerprint='$1' AND state IN ('succeeded','failed','refused','interrupted')") -ge $2 ]] && return 0
    sleep 0.1
  done
  fail "executions of $1 not finished: $(state_of "$1")"
}
checks=0
expect() {  # expect WHAT GOT WANT
  checks=$((checks + 1))
  [[ $2 == "$3" ]] || fail "$1: got '$2', want '$3'"
  echo "    ok: $1 -> $2"
}

say "cooldown 3s: one run"
expect "first instance" "$(post ClockCool cool)" run
wait_done cool 1
jump "+3h"
expect "new instance 0 s after the run, clock +3h" "$(post ClockCool cool)" "dup:cooldown"
jump "-3h"
expect "new instance, clock -3h" "$(post ClockCool cool)" "dup:cooldown"
sleep 3.5
expect "new instance 3.5 s after the run, clock -3h" "$(post ClockCool cool)" run
wait_done cool 2

say "slot wait (concurrency 1, queue_timeout 1m) across a jump forward"
jump "+0"
expect "q1" "$(post ClockQueue q1)" run
expect "q2 (waits for the slot)" "$(post ClockQueue q2)" run
jump "+2h"
wait_done q1 1
wait_done q2 1
expect "q2 after the jump" "$(state_of q2)" succeeded

say "TTL follows the calendar"
jump "+3d"
expect "expired 3 days later" "$(post ClockTtl ttl)" "refused:expired"
jump "+0"
expect "back to today" "$(post ClockTtl ttl)" run
wait_done ttl 2

stop_serve
runs=$(ls "$MARKERS" | wc -l)
executions=$(sqlite3 "$TMP/ledger.db" "SELECT COUNT(*) FROM executions WHERE state='succeeded'")
[[ $runs == "$executions" ]] || fail "$runs action runs for $executions succeeded executions"
echo "FIGURE clock-jumps: jumps=6 (+3h, -3h, +0, +2h, +3d, +0) checks=$checks ran_twice=0 never_ran=0 action_runs=$runs"
echo "PASS: clock jumps in $(($(date +%s) - T0)) s"
