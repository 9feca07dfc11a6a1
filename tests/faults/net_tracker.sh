#!/usr/bin/env bash
# Network faults between `stopgap serve` and a real Redmine 5: the fault
# proxy (fault_proxy.py) in front of Redmine is down (every request reset)
# for OUTAGE seconds while alerts run workarounds, then answers 503 and
# resets before and after Redmine acted (PLAN; the soak adds a 429) before
# it heals. The outbox retries no sooner than 30 s after a failure (polite
# by design), so a short case lasts about a minute.
# Promise (docs/reliability.md, docs/trackers.md): remediation goes on during
# the outage; the tracker updates wait in the ledger's outbox and all arrive
# afterwards: every issue's one summary note counts every run; no note is
# posted twice. Prints one FIGURE line. Soak: OUTAGE=300 ISSUES=6 and a PLAN
# with a 429.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
REDMINE=$SRC/scripts/services/redmine.sh
OUTAGE=${OUTAGE:-10}
ISSUES=${ISSUES:-3}
PLAN=${PLAN:-'["503", "ack_reset", "reset_answer", "503"]'}

faults_on_exit() { "$REDMINE" stop "$TMP/redmine" >/dev/null 2>&1; }
faults_scratch net-tracker
chmod 755 "$TMP"  # WEBrick runs as www-data and keeps its database here

say "starting Redmine"
read -r RURL KEY < <("$REDMINE" start "$TMP/redmine")
(umask 077 && printf '%s\n' "$KEY" >"$TMP/rkey")
api() {  # METHOD PATH [JSON]
  curl -sS -f -X "$1" -H "X-Redmine-API-Key: $KEY" -H "Content-Type: application/json" \
    ${3:+-d "$3"} "$RURL$2"
}
api POST /projects.json '{"project":{"name":"ops","identifier":"ops"}}' >/dev/null
ids=()
for i in $(seq 1 "$ISSUES"); do
  ids+=("$(api POST /issues.json "{\"issue\":{\"project_id\":\"ops\",\"subject\":\"net fault $i\"}}" |
    json 'd["issue"]["id"]')")
done
start_fault_proxy "$TMP/px" "${RURL##*:}"
PX=http://127.0.0.1:$PROXY_PORT

PORT=$(free_port)
URL=http://127.0.0.1:$PORT
{
  cat <<YAML
server: {listen: "127.0.0.1:$PORT", token_file: "$TMP/token"}
ledger: "sqlite://$TMP/state/ledger.db"
bundles: "$TMP/state/bundles"
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 1000}
tracker: {kind: redmine, url: "$PX", token_file: "$TMP/rkey", refresh: 5m, update_interval: 2s}
workarounds:
YAML
  for i in $(seq 1 "$ISSUES"); do
    cat <<YAML
  - id: net-tr-$i
    issue: "#${ids[$((i - 1))]}"
    cause: in-house
    diagnosed: false
    expires: $(date -u -d '+20 days' +%F)
    match: {alertname: NetTracker$i}
    diagnostics:
      - run: ["true"]
    action:
      - run: ["true"]
    limits: {cooldown: 0s, concurrency: 1}
YAML
  done
} >"$TMP/stopgap.yaml"
start_serve "$TMP/stopgap.yaml"
TOKEN=$(cat "$TMP/token")
runs=0
fire() {  # TAG: one alert per workaround; counts the executions started
  local i n
  for i in $(seq 1 "$ISSUES"); do
    n=$(curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
      --data "{\"name\":\"NetTracker$i\",\"fingerprint\":\"$1-$i\",\"status\":\"firing\"}" \
      "$URL/api/v1/alerts" | json 'len(d["executions"])')
    runs=$((runs + n))
  done
}
# summaries ISSUE: "<notes with the summary marker> <its run total>"
summaries() {
  api GET "/issues/$1.json?include=journals" | $PY -c '
import json, re, sys
notes = [x["notes"] for x in json.load(sys.stdin)["issue"]["journals"] if x["notes"]]
marked = [n for n in notes if "stopgap:workaround-summary" in n]
m = re.search(r"(\d+) in total", marked[-1]) if marked else None
print(len(marked), m.group(1) if m else 0)'
}
all_counted() {  # every issue: one summary, counting WANT runs
  local id
  for id in "${ids[@]}"; do
    [[ $(summaries "$id") == "1 $1" ]] || return 1
  done
}
pending() { sqlite3 "$TMP/state/ledger.db" "SELECT COUNT(*) FROM tracker_outbox WHERE done_at IS NULL"; }

say "tracker healthy: one run per workaround, summaries posted"
fire ok1
wait_for 30 all_counted 1 || fail "summaries before the outage: $(for id in "${ids[@]}"; do summaries "$id"; done)"

say "tracker outage: every request reset for $OUTAGE s while alerts keep running"
proxy_ctl "$TMP/px" '{"down": true}'
runs_before=$runs
for k in 1 2 3; do
  fire "down$k"
  sleep "$(($OUTAGE / 3))"
done
((runs - runs_before == 3 * ISSUES)) || fail "remediation stopped during the tracker outage ($((runs - runs_before)) runs)"
queued=$(pending)
((queued > 0)) || fail "nothing waits in the outbox during the outage"
say "tracker back, through $PLAN"
proxy_ctl "$TMP/px" "{\"methods\": [\"PUT\", \"POST\"], \"plan\": $PLAN}"
t_up=$(ms_now)
want=$((1 + 3))
wait_for 150 all_counted "$want" ||
  fail "after the outage: $(for id in "${ids[@]}"; do summaries "$id"; done) (want 1 $want each), outbox pending $(pending)"
recover=$(($(ms_now) - t_up))
[[ $(pending) == 0 ]] || fail "$(pending) updates still pending"
stop_serve
faults=$(proxy_count "$TMP/px")
notes_total=0
for id in "${ids[@]}"; do
  s=$(summaries "$id")
  notes_total=$((notes_total + ${s%% *}))
done
dup=$((notes_total - ISSUES))
[[ $dup == 0 ]] || fail "$dup summary notes posted twice"
delivered=$(sqlite3 "$TMP/state/ledger.db" "SELECT COUNT(*) FROM tracker_outbox WHERE done_at IS NOT NULL")
echo "    proxy: $(cat "$TMP/px/counters.json")"
echo "FIGURE net-tracker: outage_s=$OUTAGE faults_injected=$faults runs=$runs queued_during_outage=$queued outbox_done=$delivered lost=0 posted_twice=$dup recover_ms=$recover"
echo "PASS: tracker outage in $(($(date +%s) - T0)) s"
