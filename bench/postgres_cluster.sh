#!/usr/bin/env bash
# Benchmark (issue 14): alerts/s acknowledged by 1, 2 and 3 `stopgap serve`
# nodes on one PostgreSQL ledger, beside one node on SQLite. Every node gets
# the same alerts at once (as from Alertmanagers in HA): one serve_load per
# node, all drawing the same FINGERPRINTS in the same order. Reports the
# alerts/s acknowledged by all nodes together, the worst loader's p99, the
# duplicates (fingerprints with more than one run: must be 0) and the lost
# (acknowledged alert ids missing from the ledger: must be 0).
# Env: STOPGAP_BUILD (build), REQUESTS per node (4000), CONNECTIONS per node
# (8), FINGERPRINTS (1000), PG_FSYNC (on: PostgreSQL fsyncs its WAL, as the
# SQLite node does).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${STOPGAP_BUILD:-build}
BIN=$BUILD/stopgap
LOAD=$BUILD/bench/serve_load
REQUESTS=${REQUESTS:-4000}
CONNECTIONS=${CONNECTIONS:-8}
FINGERPRINTS=${FINGERPRINTS:-1000}
PG=scripts/pg-scratch
[[ -x $BIN && -x $LOAD ]] || { echo "build stopgap and serve_load first" >&2; exit 1; }
TMP=$(mktemp -d /tmp/stopgap-bench-pg.XXXXXX)
chmod 0711 "$TMP"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$PG" stop "$TMP/pg" immediate || true
  rm -rf "$TMP"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PGPORT=$(free_port)
"$PG" start "$TMP/pg" "$PGPORT"
if [[ ${PG_FSYNC:-on} == on ]]; then
  psql -h 127.0.0.1 -p "$PGPORT" -U postgres -qAt -c "ALTER SYSTEM SET fsync = on" -c "SELECT pg_reload_conf()" >/dev/null
fi
q() { psql "postgresql://postgres@127.0.0.1:$PGPORT/$1" -qAt -c "$2"; }

run() {  # KIND NODES
  local kind=$1 nodes=$2 db="b$1$2" ledger i
  local -a ports=() loaders=()
  if [[ $kind == pg ]]; then
    "$PG" createdb "$PGPORT" "$db"
    ledger="postgresql://postgres@127.0.0.1:$PGPORT/$db"
  else
    ledger="sqlite://$TMP/$db/ledger.db"
  fi
  for i in $(seq 1 "$nodes"); do
    ports[$i]=$(free_port)
    cat >"$TMP/$db-$i.yaml" <<YAML
server: {listen: "127.0.0.1:${ports[$i]}", token_file: "$TMP/token"}
ledger: "$ledger"
bundles: "$TMP/$db-bundles$i"
policy: {max_runs_per_hour: 1000000}
workarounds:
  - id: bench-true
    issue: acme/bench#1
    cause: hardware
    diagnosed: true
    root_cause: "benchmark"
    match: {alertname: BenchAlert}
    diagnostics:
      - run: ["true"]
    action:
      - run: ["true"]
    limits: {cooldown: 1h, concurrency: 1000}
YAML
    "$BIN" serve -c "$TMP/$db-$i.yaml" --workers 2 --queue 100000 --log-level warn >"$TMP/$db-$i.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 200); do curl -fsS "http://127.0.0.1:${ports[$i]}/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
  done
  local t0 t1
  t0=$(date +%s%N)
  for i in $(seq 1 "$nodes"); do
    "$LOAD" --port "${ports[$i]}" --token-file "$TMP/token" --connections "$CONNECTIONS" \
      --requests "$REQUESTS" --fingerprints "$FINGERPRINTS" --sequential 1 \
      --ids-out "$TMP/$db-ids$i" >"$TMP/$db-load$i.json" 2>"$TMP/$db-load$i.err" &
    loaders+=($!)
  done
  for p in "${loaders[@]}"; do wait "$p" || true; done
  t1=$(date +%s%N)
  sleep 2  # let the last executions finish before counting runs
  local acked=0 p99=0 lost dups
  for i in $(seq 1 "$nodes"); do
    acked=$((acked + $(python3 -c "import json; print(json.load(open('$TMP/$db-load$i.json'))['alerts_acked'])")))
    p99=$(python3 -c "import json; print(max($p99, json.load(open('$TMP/$db-load$i.json'))['p99_ms']))")
  done
  if [[ $kind == pg ]]; then
    q "$db" "SELECT id FROM alerts" | sort -u >"$TMP/$db-have"
    dups=$(q "$db" "SELECT count(*) FROM (SELECT fingerprint FROM executions WHERE state != 'refused' GROUP BY fingerprint HAVING count(*) > 1) x")
  else
    sqlite3 "$TMP/$db/ledger.db" "SELECT id FROM alerts" | sort -u >"$TMP/$db-have"
    dups=$(sqlite3 "$TMP/$db/ledger.db" "SELECT count(*) FROM (SELECT fingerprint FROM executions WHERE state != 'refused' GROUP BY fingerprint HAVING count(*) > 1)")
  fi
  lost=0
  for i in $(seq 1 "$nodes"); do
    # Ids are per ledger: with several nodes on one database, all in one sequence.
    lost=$((lost + $(sort -u "$TMP/$db-ids$i" | comm -23 - "$TMP/$db-have" | wc -l)))
  done
  local secs
  secs=$(python3 -c "print(($t1 - $t0) / 1e9)")
  printf '| %-10s | %d | %d | %.0f | %.1f | %s | %s |\n' "$kind" "$nodes" "$acked" \
    "$(python3 -c "print($acked / $secs)")" "$p99" "$dups" "$lost"
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait "${PIDS[@]}" 2>/dev/null || true
  PIDS=()
}

echo "| ledger     | nodes | alerts acked | alerts/s (all nodes) | worst p99 ms | duplicate runs | lost |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
run sqlite 1
run pg 1
run pg 2
run pg 3
