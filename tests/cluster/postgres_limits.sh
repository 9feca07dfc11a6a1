#!/usr/bin/env bash
# Limits, the storm breaker and approvals held cluster-wide (issue 14): three
# `stopgap serve` nodes on one real PostgreSQL (scripts/pg-scratch, loopback)
# receive the same Alertmanager webhook payloads at once. Checks:
#   1. a burst of BURST distinct alerts, each POSTed to all three nodes
#      concurrently, against max_runs LIMIT: exactly LIMIT runs admitted
#      cluster-wide, every round (ROUNDS), and the storm breaker's latch
#      tripped by that budget is one trip row per round however many nodes
#      tripped it; a reset on any node clears it for all; each refused alert
#      is one refusal cluster-wide (its claim makes the other nodes' copies
#      duplicates), BURST - LIMIT per round;
#   2. an approve-mode execution created on node 0 is listed on node 2 and
#      approved on node 1, which runs its action, once;
#   3. an approval that times out, its alert sent to all three nodes (whose
#      expiry timers all run), is expired exactly once.
# Env: STOPGAP_BIN, STOPGAP_SRC; ROUNDS, BURST, LIMIT. KEEP_TMP=1 keeps the
# scratch directory. Prints "round R: admitted A of limit L" per round.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-3}
BURST=${BURST:-20}
LIMIT=${LIMIT:-4}

cluster_scratch limits pg

step "postgres"
PGPORT=$(free_port)
"$PG" start "$TMP/pg" "$PGPORT"
"$PG" createdb "$PGPORT" stopgap
LEDGER="postgresql://postgres@127.0.0.1:$PGPORT/stopgap?lease=5s"
sql() { psql "postgresql://postgres@127.0.0.1:$PGPORT/stopgap" -qAt -c "$1" 2>/dev/null || echo -1; }

step "three stopgap nodes"
EXPIRES=$(date -u -d '+20 days' +%F)
ACTLOG=$TMP/actions.log
touch "$ACTLOG"
chmod 0666 "$ACTLOG"
for i in 0 1 2; do
  port=$(free_port)
  NODE_URL[$i]="http://127.0.0.1:$port"
  {
    cat <<YAML
server: {listen: "127.0.0.1:$port", token_file: "$TMP/token"}
ledger: "$LEDGER"
bundles: "$TMP/bundles$i"
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 1000}
workarounds:
YAML
    for r in $(seq 1 "$ROUNDS"); do
      cat <<YAML
  - id: budget$r
    issue: acme/infra#14
    cause: in-house
    diagnosed: false
    expires: $EXPIRES
    match: {alertname: ClusterBudget$r}
    labels: {n: {pattern: "[0-9]+"}}
    diagnostics:
      - run: ["true"]
    action:
      - run: [sh, -c, 'echo "budget$r \$1 node$i" >> "\$0"', "$ACTLOG", "{{labels.n}}"]
    limits: {cooldown: 0s, concurrency: 100, max_runs: {count: $LIMIT, per: 1h}}
YAML
    done
    for w in approve:10m expire:2s; do
      cat <<YAML
  - id: ${w%%:*}
    issue: acme/infra#14
    cause: in-house
    diagnosed: false
    expires: $EXPIRES
    mode: approve
    approval_timeout: ${w#*:}
    match: {alertname: Cluster${w%%:*}}
    diagnostics:
      - run: ["true"]
    action:
      - run: [sh, -c, 'echo "${w%%:*} node$i" >> "\$0"', "$ACTLOG"]
YAML
    done
  } >"$TMP/node$i.yaml"
  # The first node creates the shared token file; the others read it.
  start_node "$i"
done
TOKEN=$(cat "$TMP/token")
AUTH=(-H "Authorization: Bearer $TOKEN")

# burst ALERTNAME COUNT NODES...: one Alertmanager webhook per alert and node,
# all POSTed at once (a thread each); prints the HTTP codes seen.
burst() {
  "$PY" - "$TOKEN" "$@" "${NODE_URL[@]}" <<'PY'
import json, sys, threading, time, urllib.request, collections
token, name, count, nodes = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].split(",")
urls = [sys.argv[5 + int(i)] for i in nodes]
starts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
codes = collections.Counter()
lock = threading.Lock()
def post(url, n):
    alert = {"status": "firing", "labels": {"alertname": name, "n": str(n)},
             "annotations": {}, "startsAt": starts, "endsAt": "0001-01-01T00:00:00Z"}
    body = json.dumps({"version": "4", "status": "firing", "receiver": "stopgap",
                       "alerts": [alert]}).encode()
    req = urllib.request.Request(url + "/api/v1/alerts/alertmanager", data=body, method="POST",
                                 headers={"Content-Type": "application/json",
                                          "Authorization": "Bearer " + token})
    try:
        code = urllib.request.urlopen(req, timeout=20).status
    except urllib.error.HTTPError as e:
        code = e.code
    except Exception as e:
        code = type(e).__name__
    with lock:
        codes[code] += 1
go = threading.Event()
threads = [threading.Thread(target=lambda u=u, n=n: (go.wait(), post(u, n)))
           for n in range(1, count + 1) for u in urls]
for t in threads: t.start()
go.set()
for t in threads: t.join()
print(" ".join(f"{k}x{v}" for k, v in sorted(codes.items(), key=str)))
PY
}
runs_of() { grep -c "^$1 " "$ACTLOG" || true; }

step "1. $ROUNDS rounds: $BURST alerts x 3 nodes at once against max_runs $LIMIT"
for r in $(seq 1 "$ROUNDS"); do
  codes=$(burst "ClusterBudget$r" "$BURST" 0,1,2)
  settled() {
    [[ $(sql "SELECT count(*) FROM executions WHERE workaround_id='budget$r' AND state IN ('matched','diagnosing','acting','verifying')") == 0 ]]
  }
  wait_for 30 settled || fail "round $r: executions still running"
  admitted=$(sql "SELECT count(*) FROM executions WHERE workaround_id='budget$r' AND state != 'refused'")
  refused=$(sql "SELECT count(*) FROM executions WHERE workaround_id='budget$r' AND state = 'refused'")
  ran=$(runs_of "budget$r")
  trips=$(sql "SELECT count(*) FROM breaker_events WHERE kind='trip'")
  echo "    round $r: admitted $admitted of limit $LIMIT ($ran actions ran, $refused refused; HTTP $codes; trips so far $trips)"
  [[ $admitted == "$LIMIT" ]] || fail "round $r: $admitted runs admitted for max_runs $LIMIT"
  [[ $ran == "$LIMIT" ]] || fail "round $r: $ran actions ran for max_runs $LIMIT"
  [[ $refused == $((BURST - LIMIT)) ]] ||
    fail "round $r: $refused refusals recorded for $((BURST - LIMIT)) refused alerts (one per alert, the other nodes' copies duplicates)"
  [[ $trips == "$r" ]] || fail "round $r: $trips trip rows; want one per round ($r)"
  tripped() { curl -fsS "${AUTH[@]}" "${NODE_URL[$1]}/api/v1/breaker" | json 'd["tripped"]'; }
  for i in 0 1 2; do
    [[ $(tripped "$i") == True ]] || fail "round $r: node $i does not see the breaker tripped"
  done
  reset_on=$((r % 3))
  curl -fsS "${AUTH[@]}" -X POST -H 'Content-Type: application/json' \
    --data "{\"comment\": \"round $r\"}" "${NODE_URL[$reset_on]}/api/v1/breaker/reset" >/dev/null ||
    fail "round $r: reset on node $reset_on refused"
  for i in 0 1 2; do
    [[ $(tripped "$i") == False ]] || fail "round $r: node $i still sees the breaker tripped after a reset on node $reset_on"
  done
done
found "every round admitted exactly $LIMIT; one trip row per round; a reset on one node cleared all"

step "2. approve on node 1 an execution created on node 0"
codes=$(burst Clusterapprove 1 0)
awaiting() {
  [[ $(sql "SELECT count(*) FROM executions WHERE workaround_id='approve' AND state='awaiting-approval'") == 1 ]]
}
wait_for 20 awaiting || fail "no approve execution awaiting approval (HTTP $codes): $(sql "SELECT state, detail FROM executions WHERE workaround_id='approve'")"
ID=$(sql "SELECT id FROM executions WHERE workaround_id='approve'")
listed=$(curl -fsS "${AUTH[@]}" "${NODE_URL[2]}/api/v1/approvals" | json "[e['id'] for e in d['pending']]")
[[ $listed == "[$ID]" ]] || fail "node 2 lists $listed as pending; want [$ID]"
curl -fsS "${AUTH[@]}" -X POST -H 'Content-Type: application/json' --data '{"comment": "from node 1"}' \
  "${NODE_URL[1]}/api/v1/executions/$ID/approve" >/dev/null || fail "node 1 refused to approve execution $ID"
code=$(curl -s -o /dev/null -w '%{http_code}' "${AUTH[@]}" -X POST "${NODE_URL[2]}/api/v1/executions/$ID/approve")
[[ $code == 409 || $code == 412 || $code == 400 ]] || fail "a second approval on node 2 answered $code"
succeeded() { [[ $(sql "SELECT state FROM executions WHERE id=$ID") == succeeded ]]; }
wait_for 20 succeeded || fail "approved execution $ID is $(sql "SELECT state, detail FROM executions WHERE id=$ID")"
[[ $(grep -c '^approve ' "$ACTLOG") == 1 ]] || fail "the approved action ran $(grep -c '^approve ' "$ACTLOG") times"
grep -q '^approve node1$' "$ACTLOG" || fail "the approved action did not run on node 1: $(grep '^approve ' "$ACTLOG")"
found "execution $ID created on node 0, listed on node 2, approved on node 1 (a second approval: HTTP $code), ran once on node 1"

step "3. an approval_timeout of 2s, three expiry timers: expired once"
codes=$(burst Clusterexpire 1 0,1,2)
expired() { [[ $(sql "SELECT count(*) FROM executions WHERE workaround_id='expire' AND state='approval-expired'") == 1 ]]; }
wait_for 20 expired || fail "no expired execution (HTTP $codes): $(sql "SELECT state, detail FROM executions WHERE workaround_id='expire'")"
sleep 2  # the other nodes' timers tick at least once more
execs=$(sql "SELECT count(*) FROM executions WHERE workaround_id='expire'")
marks=$(sql "SELECT count(*) FROM transitions t JOIN executions e ON e.id = t.execution_id WHERE e.workaround_id='expire' AND t.state='approval-expired'")
by=$(sql "SELECT approval_by FROM executions WHERE workaround_id='expire'")
[[ $execs == 1 ]] || fail "$execs executions of one alert sent to three nodes"
[[ $marks == 1 ]] || fail "expired $marks times"
[[ $by == stopgap ]] || fail "expired by '$by'"
[[ $(grep -c '^expire ' "$ACTLOG") == 0 ]] || fail "an expired approval acted"
found "one execution, expired once (by $by), nothing acted"
