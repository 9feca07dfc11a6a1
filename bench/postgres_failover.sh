#!/usr/bin/env bash
# Benchmark (issue 14): how long the cluster takes to notice a death.
#  1. Node death: two `stopgap serve` nodes on one PostgreSQL ledger; node A
#     runs a slow `resume: rerun` action and is SIGKILLed mid-action. Measured:
#     kill -> its execution marked `interrupted` (by node B's sweep), and
#     kill -> the rerun's action starting on node B. RUNS rounds per lease.
#  2. Database failover: primary + synchronous standby; one node under a
#     steady stream of alerts (one request at a time); the primary is stopped
#     and the standby promoted. Measured: promotion -> the first alert
#     acknowledged (202) after it, and primary stop -> that same ack.
#     RUNS rounds, a fresh primary + standby each.
# Prints medians (min-max) as Markdown rows. Env: STOPGAP_BUILD (build),
# RUNS (5), LEASES ("2s 6s").
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${STOPGAP_BUILD:-build}
BIN=$BUILD/stopgap
RUNS=${RUNS:-5}
LEASES=${LEASES:-"2s 6s"}
PG=scripts/pg-scratch
[[ -x $BIN ]] || { echo "build stopgap first" >&2; exit 1; }
TMP=$(mktemp -d /tmp/stopgap-bench-failover.XXXXXX)
chmod 0711 "$TMP"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for d in "$TMP"/pg*; do [[ -d $d ]] && "$PG" stop "$d" immediate; done
  rm -rf "$TMP"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
healthy() { curl -fsS -o /dev/null "$1/healthz" 2>/dev/null; }
wait_healthy() { for _ in $(seq 1 300); do healthy "$1" && return 0; sleep 0.05; done; return 1; }
stats() {  # numbers on stdin -> "median (min-max)"
  python3 -c 'import sys,statistics; v=[float(x) for x in sys.stdin.read().split()]; print("%.0f (%.0f-%.0f)" % (statistics.median(v), min(v), max(v)))'
}
EXPIRES=$(date -u -d '+20 days' +%F)
catalog() {  # PORT LEDGER NAME
  cat <<YAML
server: {listen: "127.0.0.1:$1", token_file: "$TMP/token"}
ledger: "$2"
bundles: "$TMP/bundles-$3"
policy: {max_runs_per_hour: 1000000}
workarounds:
  - id: slow
    issue: acme/bench#14
    cause: hardware
    diagnosed: true
    root_cause: benchmark
    resume: rerun
    match: {alertname: BenchSlow}
    labels: {n: {pattern: "[0-9]+"}}
    diagnostics:
      - run: ["true"]
    action:
      - run: [sh, -c, 'echo \$\$ > "\$2"; echo "\$1 $3 \$(date +%s%N)" >> "\$0"; exec sleep 30', "$TMP/side.log", "{{labels.n}}", "$TMP/$3.pid"]
    limits: {cooldown: 0s, concurrency: 1000}
  - id: fast
    issue: acme/bench#14
    cause: hardware
    diagnosed: true
    root_cause: benchmark
    match: {alertname: BenchFast}
    diagnostics:
      - run: ["true"]
    action:
      - run: ["true"]
    limits: {cooldown: 0s, concurrency: 1000}
YAML
}
post() {  # URL ALERTNAME N
  curl -fsS -o /dev/null -X POST -H "Authorization: Bearer $(cat "$TMP/token")" \
    -H 'Content-Type: application/json' "$1/api/v1/alerts" \
    --data "{\"name\":\"$2\",\"labels\":{\"alertname\":\"$2\",\"n\":\"$3\"}}"
}

# ---- 1. node death -> interrupted, -> rerun started ----
death_round() {  # LEASE DB ROUND: prints "<ms to interrupted> <ms to rerun start>"
  local lease=$1 db=$2 n=$3 a b pa pb t0 t1 t2 orig
  : >"$TMP/side.log"
  local ledger="postgresql://postgres@127.0.0.1:$PGPORT/$db?lease=$lease"
  pa=$(free_port)
  pb=$(free_port)
  catalog "$pa" "$ledger" nodeA >"$TMP/a.yaml"
  catalog "$pb" "$ledger" nodeB >"$TMP/b.yaml"
  "$BIN" serve -c "$TMP/a.yaml" --log-level warn >>"$TMP/a.log" 2>&1 &
  a=$!
  PIDS+=("$a")
  wait_healthy "http://127.0.0.1:$pa"
  "$BIN" serve -c "$TMP/b.yaml" --log-level warn >>"$TMP/b.log" 2>&1 &
  b=$!
  PIDS+=("$b")
  wait_healthy "http://127.0.0.1:$pb"
  post "http://127.0.0.1:$pa" BenchSlow "$n"
  for _ in $(seq 1 400); do grep -q "^$n nodeA " "$TMP/side.log" 2>/dev/null && break; sleep 0.02; done
  kill -9 "$a"
  t0=$(now_ms)
  orig=$(psql "postgresql://postgres@127.0.0.1:$PGPORT/$db" -qAt -c \
    "SELECT id FROM executions WHERE labels_json LIKE '%\"n\":\"$n\"%' AND rerun_of IS NULL")
  t1=""
  for _ in $(seq 1 3000); do
    if [[ $(psql "postgresql://postgres@127.0.0.1:$PGPORT/$db" -qAt -c "SELECT state FROM executions WHERE id = $orig") == interrupted ]]; then
      t1=$(now_ms)
      break
    fi
    sleep 0.02
  done
  t2=""
  for _ in $(seq 1 3000); do
    if grep -q "^$n nodeB " "$TMP/side.log"; then
      t2=$(awk -v n="$n" '$1 == n && $2 == "nodeB" {print substr($3, 1, length($3) - 6)}' "$TMP/side.log")
      break
    fi
    sleep 0.02
  done
  kill -9 "$b" 2>/dev/null || true
  # The actions the dead nodes left behind (each wrote its pid).
  for f in "$TMP/nodeA.pid" "$TMP/nodeB.pid"; do [[ -s $f ]] && kill -9 "$(cat "$f")" 2>/dev/null || true; done
  rm -f "$TMP/nodeA.pid" "$TMP/nodeB.pid"
  wait "$a" "$b" 2>/dev/null || true
  echo "$((t1 - t0)) $((t2 - t0))"
}

PGPORT=$(free_port)
"$PG" start "$TMP/pg0" "$PGPORT"
echo "| measure | lease | median ms (min-max), $RUNS runs |"
echo "| --- | --- | --- |"
for lease in $LEASES; do
  : >"$TMP/death"
  for r in $(seq 1 "$RUNS"); do
    db="d${lease}_$r"
    "$PG" createdb "$PGPORT" "$db"
    death_round "$lease" "$db" "$r" >>"$TMP/death"
  done
  echo "| node SIGKILLed -> its execution interrupted | $lease | $(awk '{print $1}' "$TMP/death" | stats) |"
  echo "| node SIGKILLed -> rerun action started on a survivor | $lease | $(awk '{print $2}' "$TMP/death" | stats) |"
done
"$PG" stop "$TMP/pg0" immediate

# ---- 2. database failover -> first acknowledged alert ----
cat >"$TMP/loader.py" <<'PY'
# One request at a time until STOP exists; prints "<sent ms> <answered ms> <status>".
import json, os, sys, time, urllib.request
url, token, stop = sys.argv[1], open(sys.argv[2]).read().strip(), sys.argv[3]
n = 0
while not os.path.exists(stop):
    n += 1
    body = json.dumps({"name": "BenchFast", "labels": {"alertname": "BenchFast", "n": str(n)}}).encode()
    req = urllib.request.Request(url, data=body, headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    t0 = time.time()
    try:
        status = urllib.request.urlopen(req, timeout=60).status
    except urllib.error.HTTPError as e:
        status = e.code
    except Exception:
        status = 0
    print("%d %d %d" % (t0 * 1000, time.time() * 1000, status), flush=True)
    if status != 202:
        time.sleep(0.02)
PY
: >"$TMP/promo"
for r in $(seq 1 "$RUNS"); do
  p1=$(free_port)
  p2=$(free_port)
  "$PG" start "$TMP/pgp$r" "$p1" sync
  "$PG" standby "$TMP/pgs$r" "$p2" "$p1"
  "$PG" createdb "$p1" stopgap
  port=$(free_port)
  catalog "$port" "postgresql://postgres@127.0.0.1:$p1,127.0.0.1:$p2/stopgap?target_session_attrs=read-write&connect_timeout=2" \
    "promo$r" >"$TMP/p.yaml"
  "$BIN" serve -c "$TMP/p.yaml" --log-level warn >>"$TMP/p.log" 2>&1 &
  node=$!
  PIDS+=("$node")
  wait_healthy "http://127.0.0.1:$port"
  rm -f "$TMP/stop"
  python3 "$TMP/loader.py" "http://127.0.0.1:$port/api/v1/alerts" "$TMP/token" "$TMP/stop" >"$TMP/load$r" &
  loader=$!
  sleep 1
  t_stop=$(now_ms)
  "$PG" stop "$TMP/pgp$r" fast
  "$PG" promote "$TMP/pgs$r"
  t_promo=$(now_ms)
  for _ in $(seq 1 3000); do
    awk -v t="$t_promo" '$2 >= t && $3 == 202 {f = 1} END {exit !f}' "$TMP/load$r" && break
    sleep 0.02
  done
  sleep 0.5
  touch "$TMP/stop"
  wait "$loader" || true
  kill "$node" 2>/dev/null || true
  wait "$node" 2>/dev/null || true
  first=$(awk -v t="$t_promo" '$2 >= t && $3 == 202 {print $2; exit}' "$TMP/load$r")
  errors=$(awk '$3 != 202' "$TMP/load$r" | wc -l)
  echo "$((first - t_promo)) $((first - t_stop)) $errors" >>"$TMP/promo"
  "$PG" stop "$TMP/pgs$r" immediate
done
echo "| standby promoted -> first alert acknowledged | - | $(awk '{print $1}' "$TMP/promo" | stats) |"
echo "| primary stopped -> first alert acknowledged | - | $(awk '{print $2}' "$TMP/promo" | stats) |"
echo "(requests not acknowledged during the failovers, all rounds: $(awk '{s += $3} END {print s}' "$TMP/promo"))"
