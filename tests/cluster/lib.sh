# Shared by the cluster tests (postgres_cluster, postgres_limits,
# postgres_leases, postgres_fence): the e2e helpers, scripts/pg-scratch, a scratch directory
# with an EXIT trap that stops the nodes and the PostgreSQL servers, a fail()
# that shows the nodes' logs, and starting node I of the cluster.
# shellcheck source=../e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
PG=$SRC/scripts/pg-scratch

# cluster_scratch NAME [PGDIR...]: TMP (0711: the nodes' actions write there),
# empty NODE_PID and NODE_URL arrays, and the EXIT trap. PGDIRs are the
# PostgreSQL data directories under $TMP that the trap stops, in order.
cluster_scratch() {
  TMP=$(mktemp -d "/tmp/stopgap-$1.XXXXXX")
  chmod 0711 "$TMP"
  shift
  CLUSTER_PG_DIRS=("$@")
  NODE_PID=()
  NODE_URL=()
  trap cluster_cleanup EXIT
}

# Kills the nodes and the fault proxies, runs the test's own cluster_on_exit
# if it defines one, stops the PostgreSQL servers and removes TMP (KEEP_TMP=1
# keeps it).
cluster_cleanup() {
  for p in "${NODE_PID[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  stop_fault_proxies
  if declare -F cluster_on_exit >/dev/null; then cluster_on_exit || true; fi
  for d in "${CLUSTER_PG_DIRS[@]}"; do "$PG" stop "$TMP/$d" immediate || true; done
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}

fail() {
  echo "FAIL: $*" >&2
  for f in "$TMP"/node*.log; do
    echo "--- $f" >&2
    tail -15 "$f" >&2 || true
  done
  exit 1
}

healthy() { curl -fsS -o /dev/null "$1${2:-/healthz}" 2>/dev/null; }

# start_node I: `stopgap serve` on $TMP/nodeI.yaml (log $TMP/nodeI.log), its
# pid in NODE_PID[I], then waits for /healthz at NODE_URL[I].
start_node() {
  "$BIN" serve -c "$TMP/node$1.yaml" --log-format json >>"$TMP/node$1.log" 2>&1 &
  NODE_PID[$1]=$!
  wait_for 20 healthy "${NODE_URL[$1]}" || fail "node $1 not healthy"
}
