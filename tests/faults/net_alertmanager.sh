#!/usr/bin/env bash
# Network faults between a real Alertmanager 0.25 and `stopgap serve`: the
# fault proxy (fault_proxy.py) sits in front of serve's webhook and resets
# connections before and after serve has acted (ack_reset: serve recorded the
# notification, Alertmanager saw a reset), answers 500/503, stalls. Alertmanager
# re-sends what it thinks failed (and every repeat_interval anyway).
# Promise (docs/reliability.md): every alert reaches the ledger, each firing
# alert (one workaround each, one Alertmanager group each) runs its
# workaround exactly once, the re-sends are recorded as
# duplicates. Prints one FIGURE line. Soak: ALERTS=20 NFAULTS=60.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
AM=$SRC/scripts/services/alertmanager.sh
ALERTS=${ALERTS:-4}
FAULTS_N=${NFAULTS:-12}

faults_on_exit() { "$AM" stop "$TMP/am" >/dev/null 2>&1; }
faults_scratch net-am
"$AM" install
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
start_fault_proxy "$TMP/px" "$PORT"
# Alertmanager names the proxy in its Host header.
cat >"$TMP/stopgap.yaml" <<YAML
server: {listen: "127.0.0.1:$PORT", token_file: "$TMP/token", allowed_hosts: ["127.0.0.1:$PORT", "127.0.0.1:$PROXY_PORT"]}
ledger: "sqlite://$TMP/state/ledger.db"
bundles: "$TMP/state/bundles"
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 1000}
workarounds:
$(for i in $(seq 0 $((ALERTS - 1))); do cat <<W
  - id: net-am-$i
    issue: acme/infra#15
    cause: in-house
    diagnosed: false
    expires: $(date -u -d '+20 days' +%F)
    match: {alertname: NetFault$i}
    diagnostics:
      - run: [sh, -c, 'echo diagnostics']
    action:
      - run: [sh, -c, 'touch "\$0/\$STOPGAP_EXECUTION_ID.\$\$"', "$MARKERS"]
    limits: {cooldown: 10m, concurrency: 1}
W
done)
YAML
start_serve "$TMP/stopgap.yaml"
TOKEN=$(cat "$TMP/token")
AMURL=$("$AM" start "$TMP/am" "http://127.0.0.1:$PROXY_PORT/api/v1/alerts/alertmanager" \
  "$TMP/token" 0 2s)

# Every fault kind, FAULTS_N of them, on serve's webhook.
plan=$($PY -c "
import json, sys
kinds = ['ack_reset', 'reset', '503', 'ack_reset', '500', 'reset_answer', 'stall:1', 'ack_reset']
print(json.dumps({'methods': ['POST'], 'plan': [kinds[i % len(kinds)] for i in range($FAULTS_N)]}))")
proxy_ctl "$TMP/px" "$plan"

say "$ALERTS firing alerts posted to Alertmanager; $FAULTS_N faults on its webhook"
t0=$(ms_now)
alerts=$($PY -c "
import json
print(json.dumps([{'labels': {'alertname': 'NetFault%d' % i, 'severity': 'critical'},
                   'annotations': {'summary': 'net'}} for i in range($ALERTS)]))")
curl -fsS -X POST -H 'Content-Type: application/json' "$AMURL/api/v2/alerts" --data "$alerts" >/dev/null

executions() {
  curl -fsS -H "Authorization: Bearer $TOKEN" "$URL/api/v1/executions?limit=1000" |
    json 'sum(1 for e in d["executions"] if e["state"] == "succeeded")'
}
plan_left() { $PY -c "import json; print(len(json.load(open('$TMP/px/control.json')).get('plan', [])))"; }
# Until the plan is spent and every alert has run (bounded).
deadline=$(($(date +%s) + 45))
while (($(date +%s) < deadline)); do
  [[ $(plan_left) == 0 && $(executions) -ge $ALERTS ]] && break
  sleep 0.3
done
t_all=$(ms_now)
[[ $(plan_left) == 0 ]] || fail "Alertmanager did not send enough to spend the plan ($(plan_left) left)"
n=$(executions)
[[ $n -ge $ALERTS ]] || fail "only $n of $ALERTS alerts ran within 45 s"
# A few more re-sends (repeat_interval 2 s) through a healthy proxy.
sleep 5
stop_serve
figures=$($PY - "$TMP/state/ledger.db" "$MARKERS" "$ALERTS" <<'PY'
import json, os, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
want = int(sys.argv[3])
ex = db.execute("SELECT id, fingerprint, state FROM executions WHERE workaround_id LIKE 'net-am-%'").fetchall()
fps = {}
for _, fp, _ in ex:
    fps[fp] = fps.get(fp, 0) + 1
runs = {}
for m in os.listdir(sys.argv[2]):
    runs[m.split(".")[0]] = runs.get(m.split(".")[0], 0) + 1
alerts = db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0]
dups = db.execute("SELECT COUNT(*) FROM alerts WHERE disposition='duplicate'").fetchone()[0]
print(json.dumps({"executions": len(ex), "fingerprints": len(fps),
                  "executions_per_fingerprint_max": max(fps.values() or [0]),
                  "action_runs": sum(runs.values()), "ran_twice": sum(1 for v in runs.values() if v > 1),
                  "lost": want - len(fps), "alerts_received": alerts, "duplicates": dups,
                  "integrity": db.execute("PRAGMA integrity_check").fetchone()[0]}))
PY
)
echo "    $figures"
field() { $PY -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$figures" "$1"; }
faults=$(proxy_count "$TMP/px")
echo "    proxy: $(cat "$TMP/px/counters.json")"
[[ $(field executions) == "$ALERTS" ]] || fail "want $ALERTS executions (one per alert): $figures"
[[ $(field executions_per_fingerprint_max) == 1 ]] || fail "an alert started two executions: $figures"
[[ $(field action_runs) == "$ALERTS" ]] || fail "want $ALERTS action runs: $figures"
[[ $(field ran_twice) == 0 ]] || fail "an action ran twice: $figures"
[[ $(field lost) == 0 ]] || fail "alerts lost: $figures"
(($(field duplicates) > 0)) || fail "no re-send was recorded as a duplicate: $figures"
[[ $(field integrity) == ok ]] || fail "integrity: $figures"
((faults >= FAULTS_N)) || fail "only $faults faults injected"
echo "FIGURE net-alertmanager: faults_injected=$faults alerts=$ALERTS notifications_received=$(field alerts_received) duplicates=$(field duplicates) executions=$(field executions) lost=0 ran_twice=0 all_ran_ms=$((t_all - t0))"
echo "PASS: Alertmanager through the fault proxy in $(($(date +%s) - T0)) s"
