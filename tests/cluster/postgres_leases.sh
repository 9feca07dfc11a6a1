#!/usr/bin/env bash
# Leases, failover, `resume: rerun` and health of several `stopgap serve`
# nodes on one PostgreSQL ledger (issue 14), with the real binary and a real
# PostgreSQL (scripts/pg-scratch) on loopback ports. Three nodes; the one that
# holds the cluster singletons gets two slow alerts and is SIGKILLed while
# both act:
#   1. /healthz of a live node: ledger kind postgresql, reachable, and exactly
#      one node holds the `tracker` singleton; /metrics shows lease renewals;
#   2. after the lease (4 s here) a surviving node marks both executions
#      `interrupted`: the default (`resume: escalate`) one is never run again,
#      and a re-notification of its alert is recorded, not run;
#   3. the `resume: rerun` one runs exactly once more, on a surviving node: one
#      new execution linked to it (rerun_of), succeeded, and the action's
#      side-effect file holds exactly two runs (the killed one and the rerun),
#      also after waiting; the two survivors' /metrics count one rerun started
#      and the failovers;
#   4. the `tracker` singleton moves to exactly one surviving node.
# Then a SQLite node: killed mid-action, restarted: the interrupted
# `resume: rerun` execution runs once more at restart, the other does not.
# Env: STOPGAP_BIN, STOPGAP_SRC. KEEP_TMP=1 keeps the scratch directory.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

cluster_scratch leases primary

step "postgres"
P1=$(free_port)
"$PG" start "$TMP/primary" "$P1"
"$PG" createdb "$P1" stopgap
# Lease 4 s: renewals every lease/4, a node fences itself after lease/2
# without one (docs/ledger-schema.md, "Fencing"); at 2 s, a renewal half a
# second late (a loaded machine) would fence a live node.
LEDGER="postgresql://postgres@127.0.0.1:$P1/stopgap?connect_timeout=2&lease=4s"
q() { psql "postgresql://postgres@127.0.0.1:$P1/stopgap" -qAt -c "$1" 2>/dev/null || echo -1; }

EXPIRES=$(date -u -d '+20 days' +%F)
SIDE=$TMP/side-effects.log  # one line per action run: "<workaround> <node>"
touch "$SIDE"
chmod 0666 "$SIDE"
DEAD=$(free_port)  # a tracker nobody answers: only its singleton matters here
printf 'redmine-key\n' >"$TMP/redmine.key"
chmod 0600 "$TMP/redmine.key"

catalog() {  # NAME PORT LEDGER [TRACKER]
  cat <<YAML
server: {listen: "127.0.0.1:$2", token_file: "$TMP/token"}
ledger: "$3"
bundles: "$TMP/bundles-$1"
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 1000}
${4:-}
workarounds:
  - id: escalates
    issue: "#14"
    cause: in-house
    diagnosed: false
    expires: $EXPIRES
    match: {alertname: LeaseEscalate}
    diagnostics:
      - run: ["true"]
    action:
      - run: [sh, -c, 'echo "escalates $1" >> "\$0"; sleep 4', "$SIDE", "$1"]
    limits: {cooldown: 1h, concurrency: 10}
  - id: reruns
    issue: "#14"
    cause: in-house
    diagnosed: false
    expires: $EXPIRES
    resume: rerun
    match: {alertname: LeaseRerun}
    diagnostics:
      - run: ["true"]
    action:
      - run: [sh, -c, 'echo "reruns $1" >> "\$0"; sleep 4', "$SIDE", "$1"]
    limits: {cooldown: 1h, concurrency: 10}
YAML
}

step "three stopgap nodes on one PostgreSQL ledger (lease 4s)"
for i in 0 1 2; do
  port=$(free_port)
  NODE_URL[$i]="http://127.0.0.1:$port"
  catalog "node$i" "$port" "$LEDGER" \
    "tracker: {kind: redmine, url: \"http://127.0.0.1:$DEAD\", token_file: \"$TMP/redmine.key\", refresh: 1h}" \
    >"$TMP/node$i.yaml"
  start_node "$i"
done
TOKEN=$(cat "$TMP/token")
AUTH=(-H "Authorization: Bearer $TOKEN")
hz() { curl -fsS "$1/healthz"; }
metric() {  # URL SERIES: its value, 0 when absent
  curl -fsS "${AUTH[@]}" "$1/metrics" | awk -v s="$2" '$1 == s {v = $2} END {print v + 0}'
}
holds() { [[ $(hz "$1" | json 'd["singletons"].get("tracker", False)') == True ]]; }
holders() {
  local n=0 i
  for i in "$@"; do holds "${NODE_URL[$i]}" && n=$((n + 1)); done
  echo "$n"
}
one_holder() { [[ $(holders 0 1 2) == 1 ]]; }

step "1. /healthz and /metrics of live nodes"
wait_for 10 one_holder || fail "not exactly one node holds the tracker singleton: $(holders 0 1 2)"
H=""
for i in 0 1 2; do holds "${NODE_URL[$i]}" && H=$i; done
body=$(hz "${NODE_URL[$H]}")
[[ $(json 'd["ledger"]["kind"]' <<<"$body") == postgresql ]] || fail "healthz ledger kind: $body"
[[ $(json 'd["ledger"]["reachable"]' <<<"$body") == True ]] || fail "healthz: database not reachable: $body"
[[ $(json 'd["status"]' <<<"$body") == ok ]] || fail "healthz status: $body"
renewed() { [[ $(metric "${NODE_URL[$H]}" 'stopgap_cluster_lease_renewals_total{result="ok"}') -ge 2 ]]; }
wait_for 10 renewed || fail "no lease renewals in /metrics"
[[ $(metric "${NODE_URL[$H]}" 'stopgap_ledger_reachable') == 1 ]] || fail "/metrics: ledger not reachable"
[[ $(metric "${NODE_URL[$H]}" 'stopgap_cluster_singleton_held{name="tracker"}') == 1 ]] ||
  fail "/metrics: the holder does not show the tracker singleton"
found "node $H holds the tracker singleton: $(json 'd["singletons"]' <<<"$body"), ledger $(json 'd["ledger"]' <<<"$body")"

step "2. the holder SIGKILLed while both actions run"
send() {  # URL ALERTNAME: a generic alert with a fixed start (one firing instance)
  curl -fsS -o /dev/null -X POST "${AUTH[@]}" -H 'Content-Type: application/json' "$1/api/v1/alerts" \
    --data "{\"name\":\"$2\",\"labels\":{\"alertname\":\"$2\"},\"starts_at\":\"2026-01-01T00:00:00Z\"}"
}
send "${NODE_URL[$H]}" LeaseEscalate
send "${NODE_URL[$H]}" LeaseRerun
both_acting() { [[ $(grep -c " node$H\$" "$SIDE") == 2 ]]; }
wait_for 20 both_acting || fail "the two actions did not start on node $H: $(cat "$SIDE")"
kill -9 "${NODE_PID[$H]}"
T_KILL=$(date +%s%N)
unset "NODE_PID[$H]"
declare -a LIVE=()
for i in 0 1 2; do [[ $i != "$H" ]] && LIVE+=("$i"); done
interrupted() {
  [[ $(q "SELECT count(*) FROM executions WHERE rerun_of IS NULL AND state = 'interrupted'") == 2 ]]
}
wait_for 20 interrupted || fail "not both interrupted: $(q "SELECT id, workaround_id, state FROM executions")"
T_MARK=$((($(date +%s%N) - T_KILL) / 1000000))
found "both executions interrupted ${T_MARK} ms after the kill (lease 4s): $(q "SELECT detail FROM executions WHERE workaround_id = 'escalates'")"

step "3. resume: rerun runs exactly once more; the default does not"
ORIG=$(q "SELECT id FROM executions WHERE workaround_id = 'reruns' AND rerun_of IS NULL")
rerun_done() {
  [[ $(q "SELECT count(*) FROM executions WHERE rerun_of = $ORIG AND state = 'succeeded'") == 1 ]]
}
wait_for 30 rerun_done || fail "no succeeded rerun of $ORIG: $(q "SELECT id, state, rerun_of, detail FROM executions")"
# Re-notified (as Alertmanager would): both are duplicates now.
send "${NODE_URL[${LIVE[0]}]}" LeaseEscalate
send "${NODE_URL[${LIVE[1]}]}" LeaseRerun
sleep 5 # longer than one action: a second rerun would have written by now
[[ $(grep -c '^escalates ' "$SIDE") == 1 ]] || fail "the escalate workaround ran again: $(cat "$SIDE")"
[[ $(grep -c '^reruns ' "$SIDE") == 2 ]] || fail "the rerun workaround did not run exactly twice: $(cat "$SIDE")"
[[ $(q "SELECT count(*) FROM executions WHERE workaround_id = 'escalates'") == 1 ]] ||
  fail "a second execution of the escalate workaround"
[[ $(q "SELECT count(*) FROM executions WHERE workaround_id = 'reruns'") == 2 ]] ||
  fail "not exactly the interrupted execution and one rerun: $(q "SELECT id, state, rerun_of FROM executions WHERE workaround_id = 'reruns'")"
RERUN_NODE=$(awk '/^reruns /{n = $2} END {print n}' "$SIDE")
[[ $RERUN_NODE != "node$H" ]] || fail "the rerun ran on the dead node"
started=0 lost=0 failovers=0
for i in "${LIVE[@]}"; do
  started=$((started + $(metric "${NODE_URL[$i]}" 'stopgap_reruns_total{result="started"}')))
  lost=$((lost + $(metric "${NODE_URL[$i]}" 'stopgap_reruns_total{result="lost"}')))
  failovers=$((failovers + $(metric "${NODE_URL[$i]}" 'stopgap_cluster_failovers_total')))
done
[[ $started == 1 ]] || fail "/metrics: $started reruns started by the survivors (want 1)"
[[ $failovers == 2 ]] || fail "/metrics: $failovers failovers counted by the survivors (want 2)"
found "execution $ORIG rerun once on $RERUN_NODE (survivors: $started started, $lost lost the claim; $failovers failovers); side effects: $(tr '\n' ';' <"$SIDE")"

step "4. the tracker singleton moves to one survivor"
one_live_holder() { [[ $(holders "${LIVE[@]}") == 1 ]]; }
wait_for 25 one_live_holder || fail "no single survivor took the tracker singleton: $(holders "${LIVE[@]}")"
T_MOVE=$((($(date +%s%N) - T_KILL) / 1000000))
found "tracker singleton held by one survivor ${T_MOVE} ms after the kill (lease 15s)"
for i in "${LIVE[@]}"; do kill "${NODE_PID[$i]}" 2>/dev/null || true; done
for i in "${LIVE[@]}"; do wait "${NODE_PID[$i]}" 2>/dev/null || true; unset "NODE_PID[$i]"; done

step "5. SQLite, one node: killed mid-action, restarted"
: >"$SIDE"
port=$(free_port)
SQ_URL="http://127.0.0.1:$port"
catalog sqlite "$port" "sqlite://$TMP/ledger.db" >"$TMP/sqlite.yaml"
"$BIN" serve -c "$TMP/sqlite.yaml" --log-format json >>"$TMP/node-sqlite.log" 2>&1 &
NODE_PID[9]=$!
wait_for 20 healthy "$SQ_URL" || fail "sqlite node not healthy"
body=$(hz "$SQ_URL")
[[ $(json 'd["ledger"]["kind"]' <<<"$body") == sqlite && $(json 'd["singletons"]' <<<"$body") == "{}" ]] ||
  fail "sqlite healthz: $body"
send "$SQ_URL" LeaseEscalate
send "$SQ_URL" LeaseRerun
sq_acting() { [[ $(grep -c ' sqlite$' "$SIDE") == 2 ]]; }
wait_for 20 sq_acting || fail "the two actions did not start on the sqlite node: $(cat "$SIDE")"
kill -9 "${NODE_PID[9]}"
wait "${NODE_PID[9]}" 2>/dev/null || true
sleep 4.5 # the orphaned actions end; nothing of theirs may count below
"$BIN" serve -c "$TMP/sqlite.yaml" --log-format json >>"$TMP/node-sqlite.log" 2>&1 &
NODE_PID[9]=$!
wait_for 20 healthy "$SQ_URL" || fail "sqlite node not healthy after restart"
sq() { sqlite3 "$TMP/ledger.db" "$1"; }
sq_rerun() { [[ $(sq "SELECT count(*) FROM executions WHERE rerun_of IS NOT NULL AND state = 'succeeded'") == 1 ]]; }
wait_for 20 sq_rerun || fail "sqlite: no succeeded rerun: $(sq "SELECT id, workaround_id, state, rerun_of FROM executions")"
sleep 5
[[ $(grep -c '^reruns ' "$SIDE") == 2 && $(grep -c '^escalates ' "$SIDE") == 1 ]] ||
  fail "sqlite: side effects $(tr '\n' ';' <"$SIDE") (want reruns x2, escalates x1)"
[[ $(sq "SELECT group_concat(workaround_id || ':' || state || ':' || ifnull(rerun_of, '-'), ' ') FROM (SELECT * FROM executions ORDER BY id)") == "escalates:interrupted:- reruns:interrupted:- reruns:succeeded:2" ]] ||
  fail "sqlite ledger: $(sq "SELECT id, workaround_id, state, rerun_of FROM executions")"
found "sqlite: restart reran the resume: rerun execution once; the other stays interrupted"
echo "PASS: postgres leases in $(($(date +%s) - T0)) s"
