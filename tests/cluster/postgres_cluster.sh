#!/usr/bin/env bash
# Several `stopgap serve` nodes on one PostgreSQL ledger (issue 14), with the
# real things: a PostgreSQL primary + streaming standby (scripts/pg-scratch) on
# loopback ports, three nodes, and two Alertmanagers clustered in HA (gossip on
# loopback) whose receiver is every node. Checks:
#   1. N distinct alerts, each delivered by both Alertmanagers to all three
#      nodes concurrently: exactly N action runs, one execution per alert, the
#      other deliveries recorded as duplicates;
#   2. a node SIGKILLed mid-action: its execution becomes `interrupted` once its
#      lease lapses (another node marks it), and is not run again;
#   3. the primary stopped and the standby promoted mid-load: the nodes find
#      the new primary by themselves (multi-host URL, target_session_attrs),
#      every alert acknowledged before and after runs exactly once.
# Env: STOPGAP_BIN, STOPGAP_SRC. KEEP_TMP=1 keeps the scratch directory.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
AMBIN=/usr/bin/prometheus-alertmanager
N=${N:-12}

cluster_scratch cluster standby primary
AM_PIDS=()
cluster_on_exit() {
  for p in "${AM_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [[ -s $TMP/slow.pid ]] && kill -9 "$(cat "$TMP/slow.pid")" 2>/dev/null || true
}

[[ -x $AMBIN ]] || "$SRC/scripts/services/alertmanager.sh" install
step "postgres primary + standby"
P1=$(free_port)
P2=$(free_port)
# Synchronous replication: a commit (and so an acknowledged alert) is on the
# standby before the primary answers, so promoting it loses nothing acknowledged.
"$PG" start "$TMP/primary" "$P1" sync
"$PG" standby "$TMP/standby" "$P2" "$P1"
"$PG" createdb "$P1" stopgap
# Lease 12 s: a node fences itself after lease/2 without the database
# (docs/ledger-schema.md, "Fencing"), and the failover of step 3 may take up
# to ~5 s on a loaded machine; the nodes must ride it out, not fence.
LEDGER="postgresql://postgres@127.0.0.1:$P1,127.0.0.1:$P2/stopgap?target_session_attrs=read-write&connect_timeout=2&lease=12s"
psql_() { psql "postgresql://postgres@127.0.0.1:$1/stopgap" -qAt -c "$2"; }

step "three stopgap nodes"
EXPIRES=$(date -u -d '+20 days' +%F)
ACTLOG=$TMP/actions.log
touch "$ACTLOG"
chmod 0666 "$ACTLOG"
for i in 0 1 2; do
  port=$(free_port)
  NODE_URL[$i]="http://127.0.0.1:$port"
  cat >"$TMP/node$i.yaml" <<YAML
server: {listen: "127.0.0.1:$port", token_file: "$TMP/token"}
ledger: "$LEDGER"
bundles: "$TMP/bundles$i"
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 1000}
workarounds:
  - id: once
    issue: acme/infra#14
    cause: in-house
    diagnosed: false
    expires: $EXPIRES
    match: {alertname: ClusterOnce}
    labels: {n: {pattern: "[0-9]+"}}
    diagnostics:
      - run: ["true"]
    action:
      - run: [sh, -c, 'echo "\$1 node$i" >> "\$0"; sleep 0.3', "$ACTLOG", "{{labels.n}}"]
    limits: {cooldown: 0s, concurrency: 100}
  - id: slow
    issue: acme/infra#14
    cause: in-house
    diagnosed: false
    expires: $EXPIRES
    match: {alertname: ClusterSlow}
    diagnostics:
      - run: ["true"]
    action:
      - run: [sh, -c, 'echo \$\$ > "\$1"; echo "slow node$i" >> "\$0"; exec sleep 40', "$ACTLOG", "$TMP/slow.pid"]
    limits: {cooldown: 0s, concurrency: 100}
YAML
  # The first node creates the shared token file; the others read it.
  start_node "$i"
done
TOKEN=$(cat "$TMP/token")
AUTH=(-H "Authorization: Bearer $TOKEN")

step "two Alertmanagers in HA, each sending to all three nodes"
G1=$(free_port)
G2=$(free_port)
for a in 1 2; do
  dir=$TMP/am$a
  mkdir -p "$dir/data"
  port=$(free_port)
  eval "AM${a}_URL=http://127.0.0.1:$port"
  {
    echo "route: {receiver: stopgap, group_by: ['...'], group_wait: 1s, group_interval: 2s, repeat_interval: 1h}"
    echo "receivers:"
    echo "  - name: stopgap"
    echo "    webhook_configs:"
    for i in 0 1 2; do
      echo "      - {url: '${NODE_URL[$i]}/api/v1/alerts/alertmanager', send_resolved: false, http_config: {authorization: {type: Bearer, credentials_file: '$TMP/token'}}}"
    done
  } >"$dir/am.yml"
  gossip=$([[ $a == 1 ]] && echo "$G1" || echo "$G2")
  peer=$([[ $a == 1 ]] && echo "$G2" || echo "$G1")
  "$AMBIN" --config.file="$dir/am.yml" --storage.path="$dir/data" \
    --web.listen-address="127.0.0.1:$port" --cluster.listen-address="127.0.0.1:$gossip" \
    --cluster.peer="127.0.0.1:$peer" --cluster.advertise-address="127.0.0.1:$gossip" \
    --cluster.peer-timeout=1s --web.external-url="http://127.0.0.1:$port" >>"$dir/am.log" 2>&1 &
  AM_PIDS+=($!)
  wait_for 20 healthy "http://127.0.0.1:$port" /-/ready || fail "alertmanager $a not ready"
done
peers() { curl -fsS "$AM1_URL/api/v2/status" | json 'len(d["cluster"].get("peers") or [])'; }
two_peers() { [[ $(peers) == 2 ]]; }
wait_for 20 two_peers || fail "the Alertmanagers did not form a cluster"
found "Alertmanager cluster of 2 ($AM1_URL, $AM2_URL)"

# An HA Prometheus sends each alert to every Alertmanager with the same startsAt (the
# rule's activeAt). Without one, each Alertmanager stamps its own receive time, and
# the two deliveries are two firing windows: two claims, two runs by design.
STARTS_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
post_alerts() {  # ALERTNAME FROM TO: to both Alertmanagers, as an HA Prometheus does
  local body="[" n
  for n in $(seq "$2" "$3"); do
    body+="{\"labels\":{\"alertname\":\"$1\",\"n\":\"$n\"},\"startsAt\":\"$STARTS_AT\"},"
  done
  body="${body%,}]"
  curl -fsS -X POST -H 'Content-Type: application/json' "$AM1_URL/api/v2/alerts" --data "$body" >/dev/null &
  local first=$!
  curl -fsS -X POST -H 'Content-Type: application/json' "$AM2_URL/api/v2/alerts" --data "$body" >/dev/null
  wait "$first"
}
runs() { grep -c "^$1 " "$ACTLOG" || true; }
db_count() { psql_ "$1" "$2" 2>/dev/null || echo -1; }

step "1. $N alerts x 2 Alertmanagers x 3 nodes: each runs exactly once"
post_alerts ClusterOnce 1 "$N"
done_all() {
  [[ $(db_count "$P1" "SELECT count(*) FROM executions WHERE workaround_id='once' AND state='succeeded'") -ge $N ]]
}
wait_for 40 done_all || fail "not all $N executions succeeded: $(db_count "$P1" "SELECT state, count(*) FROM executions GROUP BY state")"
sleep 3  # late deliveries (the second Alertmanager, repeats) must not run anything
for n in $(seq 1 "$N"); do
  c=$(runs "$n")
  [[ $c == 1 ]] || fail "alert n=$n ran $c times: $(grep "^$n " "$ACTLOG" | tr '\n' ' ')"
done
execs=$(db_count "$P1" "SELECT count(*) FROM executions WHERE workaround_id='once'")
[[ $execs == "$N" ]] || fail "$execs executions for $N alerts"
dups=$(db_count "$P1" "SELECT count(*) FROM alerts WHERE name='ClusterOnce' AND disposition='duplicate'")
claimed=$(db_count "$P1" "SELECT count(*) FROM alerts WHERE name='ClusterOnce' AND reason='claimed by another node'")
received=$(db_count "$P1" "SELECT count(*) FROM alerts WHERE name='ClusterOnce'")
nodes=$(awk '/^[0-9]+ /{print $2}' "$ACTLOG" | sort -u | tr '\n' ' ')
found "$N alerts: $received deliveries recorded, $N runs (on $nodes), $dups duplicates ($claimed lost a claim race)"
[[ $received -ge $((N * 3)) ]] || fail "only $received deliveries recorded; want >= $((N * 3))"
bad=$(db_count "$P1" "SELECT count(*) FROM alerts WHERE name='ClusterOnce' AND disposition='duplicate' AND execution_id IS NULL")
[[ $bad == 0 ]] || fail "$bad duplicates point to no execution"

step "2. a node SIGKILLed mid-action: interrupted after its lease, not re-run"
post_alerts ClusterSlow 1 1
wait_for 20 grep -q "^slow " "$ACTLOG" || fail "the slow action never started"
victim=$(awk '/^slow /{print $2; exit}' "$ACTLOG")
vi=${victim#node}
kill -9 "${NODE_PID[$vi]}"
T_KILL=$(date +%s%N)
unset "NODE_PID[$vi]"
interrupted() {
  [[ $(db_count "$P1" "SELECT count(*) FROM executions WHERE workaround_id='slow' AND state='interrupted'") == 1 ]]
}
wait_for 30 interrupted || fail "the killed node's execution is not interrupted: $(db_count "$P1" "SELECT id, state, detail FROM executions WHERE workaround_id='slow'")"
T_MARK=$(( ($(date +%s%N) - T_KILL) / 1000000 ))
found "node $vi killed; its execution interrupted $T_MARK ms later (lease 12s): $(db_count "$P1" "SELECT detail FROM executions WHERE workaround_id='slow'")"
post_alerts ClusterSlow 1 1  # re-notified: the same firing window, already claimed
sleep 3
[[ $(runs slow) == 1 ]] || fail "the interrupted action ran again: $(grep '^slow ' "$ACTLOG" | tr '\n' ' ')"
[[ $(db_count "$P1" "SELECT count(*) FROM executions WHERE workaround_id='slow'") == 1 ]] || fail "a second slow execution"
kill -9 "$(cat "$TMP/slow.pid")" 2>/dev/null || true  # the orphaned action of the dead node

step "3. failover: primary stopped, standby promoted mid-load"
M=$((N + 1))
post_alerts ClusterOnce "$M" $((M + 5)) &
LOADER=$!
sleep 0.5
"$PG" stop "$TMP/primary" fast
T_STOP=$(date +%s%N)
"$PG" promote "$TMP/standby"
wait "$LOADER" || true
post_alerts ClusterOnce $((M + 6)) $((M + 11))
last=$((M + 11))
done_after() {
  [[ $(db_count "$P2" "SELECT count(*) FROM executions WHERE workaround_id='once' AND state='succeeded'") -ge $last ]]
}
wait_for 60 done_after || fail "after the failover: $(db_count "$P2" "SELECT count(*) FROM executions WHERE workaround_id='once' AND state='succeeded'") of $last executions succeeded"
T_FIRST=$(( ($(date +%s%N) - T_STOP) / 1000000 ))
sleep 3
for n in $(seq 1 "$last"); do
  c=$(runs "$n")
  # On a failure, say which executions ran it (a double run was seen once
  # under heavy load and not reproduced since: issue 14's closing note).
  [[ $c == 1 ]] || fail "after the failover, alert n=$n ran $c times: $(grep "^$n " "$ACTLOG" | tr '\n' ' ')
executions: $(db_count "$P2" "SELECT id, state, owner, attempt, instance_start, rerun_of, detail FROM executions WHERE labels_json LIKE '%\"n\":\"$n\"%' ORDER BY id")
alerts: $(db_count "$P2" "SELECT id, disposition, execution_id, reason FROM alerts WHERE labels_json LIKE '%\"n\":\"$n\"%' ORDER BY id")"
done
execs=$(db_count "$P2" "SELECT count(*) FROM executions WHERE workaround_id='once'")
[[ $execs == "$last" ]] || fail "$execs executions for $last alerts after the failover"
found "failover: all $last alerts ran exactly once, all done on the promoted standby $T_FIRST ms after the primary stopped"
echo "PASS: postgres cluster in $(($(date +%s) - T0)) s"
