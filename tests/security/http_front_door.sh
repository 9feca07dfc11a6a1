#!/usr/bin/env bash
# Adversarial test of the HTTP front door: a real `stopgap serve` against
# hostile clients (tests/security/http_front_door.py): a 64 MiB chunked POST
# without a token, a gzip bomb, an oversize Content-Length, 1,000 slowloris and
# idle connections, an idle flood from one address, header floods. Each case
# must be refused, the daemon must keep serving (/healthz and an authorised
# alert in < 1 s during the floods) and no acknowledged alert may be lost.
# Env: STOPGAP_BIN (the binary), STOPGAP_SRC (the source tree).
set -euo pipefail

SRC=${STOPGAP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${STOPGAP_BIN:-$SRC/build/stopgap}
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3

TMP=$(mktemp -d /tmp/stopgap-front-door.XXXXXX)
SERVE_PID=""
cleanup() {
  [[ -n $SERVE_PID ]] && kill "$SERVE_PID" 2>/dev/null || true
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  echo "--- stopgap log" >&2; tail -40 "$TMP/serve.log" >&2 || true
  exit 1
}
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
EXPIRES=$(date -u -d '+20 days' +%F)
cat >"$TMP/stopgap.yaml" <<YAML
server: {listen: "127.0.0.1:$PORT", token_file: "$TMP/token"}
ledger: "sqlite://$TMP/ledger.db"
bundles: "$TMP/bundles"
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 60}
workarounds:
  - id: front-door
    issue: acme/infra#12
    cause: in-house
    diagnosed: false
    expires: $EXPIRES
    match: {alertname: FrontDoor}
    diagnostics:
      - run: ["true"]
    action:
      - run: ["true"]
    limits: {cooldown: 10m, concurrency: 1}
YAML

"$BIN" serve -c "$TMP/stopgap.yaml" --log-format json --log-level warn >"$TMP/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 1 100); do
  curl -fsS "$URL/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVE_PID" 2>/dev/null || fail "stopgap serve exited at start"
  sleep 0.05
done
curl -fsS "$URL/healthz" >/dev/null || fail "stopgap serve not healthy"

timeout 300 "$PY" "$SRC/tests/security/http_front_door.py" "$PORT" "$TMP/token" "$SERVE_PID" ||
  fail "front door cases (see FAIL lines above)"
kill -0 "$SERVE_PID" 2>/dev/null || fail "stopgap serve died"

# SIGTERM still exits promptly with connections held open.
$PY - "$PORT" <<'PY' &
import socket, sys, time
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(50)]
time.sleep(5)
PY
HOLDER=$!
sleep 0.5
start=$(date +%s%N)
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "stopgap serve exited non-zero on SIGTERM"
SERVE_PID=""
ms=$(( ($(date +%s%N) - start) / 1000000 ))
kill "$HOLDER" 2>/dev/null || true
wait "$HOLDER" 2>/dev/null || true
(( ms < 3000 )) || fail "SIGTERM with 50 idle connections took ${ms} ms"
echo "PASS: front door held; SIGTERM with 50 idle connections exited in ${ms} ms"
