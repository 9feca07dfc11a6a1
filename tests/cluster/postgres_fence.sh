#!/usr/bin/env bash
# Fencing (issue 14): a node cut off from the shared PostgreSQL ledger for
# longer than its lease must not act beside the node that takes its execution
# over. The real binary, a real PostgreSQL (scripts/pg-scratch) and the
# loopback fault proxy (tests/faults/fault_proxy.py --tcp) between node A and
# PostgreSQL; node B reaches PostgreSQL directly. Lease 8 s.
#   1. node A runs a long action (resume: rerun); the proxy is cut: open
#      connections reset, new ones refused;
#   2. A's action process is dead before B marks the execution interrupted,
#      and before B's rerun starts; A's /healthz says fenced meanwhile;
#   3. B's rerun runs exactly once (the action's side-effect log: one line
#      from A, one from B), and succeeds;
#   4. A keeps its fenced record while cut off (its worker gives up after the
#      pool's 30 s), and answers an alert 503 with Retry-After; the proxy is
#      restored: A unfences, writes the record once
#      (one `interrupted` transition, B's; A's step `fenced` added), nothing
#      left pending, /healthz ok, /metrics: one fence, not fenced now;
#      nothing runs again. ~60 s.
# Env: STOPGAP_BIN, STOPGAP_SRC. KEEP_TMP=1 keeps the scratch directory.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

cluster_scratch fence primary

step "postgres, and the fault proxy in front of it for node A"
P1=$(free_port)
"$PG" start "$TMP/primary" "$P1"
"$PG" createdb "$P1" stopgap
start_fault_proxy "$TMP/proxy" "$P1" --tcp
RELAY=$PROXY_PORT
q() { psql "postgresql://postgres@127.0.0.1:$P1/stopgap" -qAt -c "$1" 2>/dev/null || echo -1; }

EXPIRES=$(date -u -d '+20 days' +%F)
SIDE=$TMP/side-effects.log  # one line per action run: its node
touch "$SIDE"
chmod 0666 "$SIDE"

catalog() {  # NAME PORT DB_PORT ACTION_SECONDS
  cat <<YAML
server: {listen: "127.0.0.1:$2", token_file: "$TMP/token"}
ledger: "postgresql://postgres@127.0.0.1:$3/stopgap?connect_timeout=2&lease=8s"
bundles: "$TMP/bundles-$1"
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 1000}
workarounds:
  - id: long
    issue: "#14"
    cause: in-house
    diagnosed: false
    expires: $EXPIRES
    resume: rerun
    match: {alertname: FenceLong}
    diagnostics:
      - run: ["true"]
    action:
      - run: [sh, -c, 'echo \$\$ > "\$0.\$1.pid"; echo "\$1" >> "\$0"; exec sleep "\$2"', "$SIDE", "$1", "$4"]
        timeout: 5m
    limits: {cooldown: 1h, concurrency: 10}
YAML
}

step "node A through the proxy (its action: 120 s), node B direct (its action: 1 s)"
for i in 0 1; do
  port=$(free_port)
  NODE_URL[$i]="http://127.0.0.1:$port"
done
catalog nodeA "${NODE_URL[0]##*:}" "$RELAY" 120 >"$TMP/node0.yaml"
catalog nodeB "${NODE_URL[1]##*:}" "$P1" 1 >"$TMP/node1.yaml"
start_node 0
start_node 1
TOKEN=$(cat "$TMP/token")
AUTH=(-H "Authorization: Bearer $TOKEN")
hz() { curl -fsS "$1/healthz"; }
metric() {  # URL SERIES: its value, 0 when absent
  curl -fsS "${AUTH[@]}" "$1/metrics" | awk -v s="$2" '$1 == s {v = $2} END {print v + 0}'
}
A=${NODE_URL[0]}
a_ok() { [[ $(hz "$A" | json 'd["status"], d["ledger"]["fenced"]') == "ok False" ]]; }
wait_for 10 a_ok || fail "node A before the cut: $(hz "$A")"

step "1. node A acts; the proxy between it and PostgreSQL is cut"
curl -fsS -o /dev/null -X POST "${AUTH[@]}" -H 'Content-Type: application/json' "$A/api/v1/alerts" \
  --data '{"name":"FenceLong","labels":{"alertname":"FenceLong"},"starts_at":"2026-01-01T00:00:00Z"}'
wait_for 20 test -s "$SIDE.nodeA.pid" || fail "node A's action did not start"
PID=$(cat "$SIDE.nodeA.pid")
ORIG=$(q "SELECT id FROM executions WHERE rerun_of IS NULL")
[[ $(q "SELECT state FROM executions WHERE id = $ORIG") == acting ]] || fail "not acting on node A"
proxy_ctl "$TMP/proxy" '{"refuse": true}'
T_CUT=$(date +%s%N)
ms() { echo $((($(date +%s%N) - T_CUT) / 1000000)); }

step "2. A's action dies before B marks the execution interrupted or reruns it"
T_DEAD="" T_MARK="" T_RERUN="" FENCED_SEEN=""
deadline=$(($(date +%s) + 40))
while [[ -z $T_RERUN ]] && (($(date +%s) < deadline)); do
  # The process first, then the database: a mark seen after a live process fails.
  alive=1
  kill -0 "$PID" 2>/dev/null || alive=0
  [[ $alive == 0 && -z $T_DEAD ]] && T_DEAD=$(ms)
  if [[ -z $FENCED_SEEN && $(hz "$A" | json 'd["ledger"]["fenced"]') == True ]]; then
    FENCED_SEEN=$(ms)
  fi
  state=$(q "SELECT state FROM executions WHERE id = $ORIG")
  if [[ $state == interrupted && -z $T_MARK ]]; then
    [[ $alive == 0 ]] || fail "execution $ORIG marked interrupted at $(ms) ms while node A's action (pid $PID) still runs"
    T_MARK=$(ms)
  fi
  if [[ $(q "SELECT count(*) FROM executions WHERE rerun_of = $ORIG") != 0 ]] ||
    grep -q '^nodeB$' "$SIDE"; then
    [[ $alive == 0 ]] || fail "a rerun of $ORIG started at $(ms) ms while node A's action (pid $PID) still runs"
    T_RERUN=$(ms)
  fi
  sleep 0.1
done
[[ -n $T_DEAD && -n $T_MARK && -n $T_RERUN ]] ||
  fail "after the cut: dead ${T_DEAD:-never}, marked ${T_MARK:-never}, rerun ${T_RERUN:-never} (ms); $(q "SELECT id, state, detail FROM executions")"
[[ -n $FENCED_SEEN ]] || fail "node A's /healthz never said fenced"
found "after the cut: A fenced (healthz) at $FENCED_SEEN ms, its action dead at $T_DEAD ms; B marked it interrupted at $T_MARK ms, its rerun seen at $T_RERUN ms (lease 8 s)"
# An alert sent to A while it cannot reach the database: 503 with
# Retry-After once its ledger gives up (30 s), nothing acknowledged.
curl -s -o /dev/null -D "$TMP/probe.headers" -w '%{http_code}' -m 90 -X POST "${AUTH[@]}" \
  -H 'Content-Type: application/json' "$A/api/v1/alerts" \
  --data '{"name":"FenceProbe","labels":{"alertname":"FenceProbe"}}' >"$TMP/probe.code" &
PROBE=$!

step "3. B's rerun runs exactly once"
rerun_done() { [[ $(q "SELECT count(*) FROM executions WHERE rerun_of = $ORIG AND state = 'succeeded'") == 1 ]]; }
wait_for 20 rerun_done || fail "no succeeded rerun: $(q "SELECT id, state, rerun_of, detail FROM executions")"

step "4. A keeps its fenced record while cut off; the proxy restored, it writes it once"
# A's worker retries its record for the pool's 30 s, then the ledger keeps it.
kept() { grep -q 'kept; written once the database answers' "$TMP/node0.log"; }
wait_for 45 kept || fail "node A did not keep its fenced record for later"
[[ $(hz "$A" | json 'd["ledger"]["fenced_records_pending"]') == 1 ]] ||
  fail "node A's /healthz does not count its pending record: $(hz "$A")"
wait "$PROBE" || true
[[ $(cat "$TMP/probe.code") == 503 ]] && grep -qi '^retry-after:' "$TMP/probe.headers" ||
  fail "an alert to the cut-off node: HTTP $(cat "$TMP/probe.code"), want 503 with Retry-After: $(cat "$TMP/probe.headers")"
found "an alert sent to the cut-off node got 503 with Retry-After"
proxy_ctl "$TMP/proxy" '{}'
T_BACK=$(date +%s%N)
unfenced() {
  local b
  b=$(hz "$A") || return 1
  [[ $(json 'd["status"], d["ledger"]["fenced"], d["ledger"]["fenced_records_pending"]' <<<"$b") == "ok False 0" ]]
}
recorded() { [[ $(q "SELECT count(*) FROM steps WHERE execution_id = $ORIG AND outcome = 'fenced'") == 1 ]]; }
wait_for 45 recorded || fail "node A's fenced step not recorded: $(q "SELECT phase, outcome, signal FROM steps WHERE execution_id = $ORIG")"
wait_for 20 unfenced || fail "node A not unfenced and healthy: $(hz "$A")"
found "A unfenced, its record written, $((($(date +%s%N) - T_BACK) / 1000000)) ms after the restore: $(hz "$A" | json 'd["ledger"]')"
sleep 3 # a second record, or a second rerun, would show by now
[[ $(q "SELECT count(*) FROM transitions WHERE execution_id = $ORIG AND state = 'interrupted'") == 1 ]] ||
  fail "not exactly one interrupted record: $(q "SELECT state, detail FROM transitions WHERE execution_id = $ORIG")"
[[ $(q "SELECT count(*) FROM steps WHERE execution_id = $ORIG AND outcome = 'fenced'") == 1 ]] ||
  fail "the fenced step recorded twice"
[[ $(q "SELECT state FROM executions WHERE id = $ORIG") == interrupted ]] || fail "execution $ORIG not interrupted"
[[ $(q "SELECT count(*) FROM executions") == 2 ]] ||
  fail "not exactly the interrupted execution and its rerun: $(q "SELECT id, state, rerun_of FROM executions")"
[[ $(grep -c '^nodeA$' "$SIDE") == 1 && $(grep -c '^nodeB$' "$SIDE") == 1 ]] ||
  fail "side effects: $(tr '\n' ';' <"$SIDE") (want nodeA once, nodeB once)"
[[ $(metric "$A" stopgap_cluster_fences_total) == 1 ]] || fail "/metrics: not one fence counted"
[[ $(metric "$A" stopgap_cluster_fenced) == 0 ]] || fail "/metrics: still fenced"
found "one interrupted record ($(q "SELECT detail FROM executions WHERE id = $ORIG")), one fenced step, one rerun; side effects $(tr '\n' ';' <"$SIDE")"
echo "PASS: postgres fence in $(($(date +%s) - T0)) s"
