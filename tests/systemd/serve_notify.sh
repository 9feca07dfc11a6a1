#!/usr/bin/env bash
# `stopgap serve` under systemd's notify protocol, with a Python stand-in for
# systemd on NOTIFY_SOCKET: READY=1 arrives once the listener answers and the
# ledger exists; with WATCHDOG_USEC set, WATCHDOG=1 pings arrive, and stop
# while every thread but the watchdog prober is frozen (ptrace: the intake is
# wedged, the prober itself is not; a bare timer thread would go on pinging)
# and while the whole process is SIGSTOPped, and come back after; SIGHUP
# brings RELOADING=1 then READY=1; SIGTERM brings STOPPING=1 and exit 0.
# Without WATCHDOG_USEC there are no pings.
# Env: STOPGAP_BIN (the binary), STOPGAP_SRC (the source tree).
set -euo pipefail

SRC=${STOPGAP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${STOPGAP_BIN:-$SRC/build/stopgap}
HERE=$SRC/tests/systemd
TMP=$(mktemp -d /tmp/stopgap-notify.XXXXXX)
SERVE_PID="" LISTENER_PID=""
cleanup() {
  [[ -n $SERVE_PID ]] && kill -CONT "$SERVE_PID" 2>/dev/null && kill "$SERVE_PID" 2>/dev/null || true
  [[ -n $LISTENER_PID ]] && kill "$LISTENER_PID" 2>/dev/null || true
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  echo "--- notify messages" >&2; cat "$TMP/notify.log" >&2 || true
  echo "--- stopgap log" >&2; tail -30 "$TMP/serve.log" >&2 || true
  exit 1
}
add() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a + b}'; }
mono() { python3 -c 'import time; print("%.3f" % time.monotonic())'; }
# count MSG [FROM [TO]]: notify messages equal to MSG (first field) received in [FROM, TO].
count() {
  awk -v m="$1" -v a="${2:-0}" -v b="${3:-1e18}" '{split($2, p, "|")} p[1] == m && $1 >= a && $1 <= b {n++} END {print n + 0}' "$TMP/notify.log"
}
wait_for() {  # wait_for MSG N SECONDS
  for _ in $(seq 1 $(($3 * 10))); do
    [[ $(count "$1") -ge $2 ]] && return 0
    sleep 0.1
  done
  fail "no $2 x $1 within $3 s"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

PORT=$(free_port)
EXPIRES=$(date -u -d '+20 days' +%F)
cat >"$TMP/stopgap.yaml" <<YAML
server: {listen: "127.0.0.1:$PORT", token_file: "$TMP/token"}
ledger: "sqlite://$TMP/ledger.db"
bundles: "$TMP/bundles"
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 60}
workarounds:
  - id: notify-test
    issue: acme/infra#42
    cause: in-house
    diagnosed: false
    expires: $EXPIRES
    match: {alertname: NotifyTest}
    diagnostics:
      - run: ["true"]
    action:
      - run: ["true"]
YAML

python3 "$HERE/notify_listener.py" "$TMP/notify.sock" "$TMP/notify.log" &
LISTENER_PID=$!
for _ in $(seq 1 50); do [[ -S $TMP/notify.sock ]] && break; sleep 0.1; done
[[ -S $TMP/notify.sock ]] || fail "listener did not bind"

# 1. Watchdog every 0.9 s: the prober runs a round every 0.3 s.
NOTIFY_SOCKET=$TMP/notify.sock WATCHDOG_USEC=900000 \
  "$BIN" serve -c "$TMP/stopgap.yaml" --log-format json >"$TMP/serve.log" 2>&1 &
SERVE_PID=$!
wait_for READY=1 1 20
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null || fail "READY=1 but /healthz does not answer"
[[ -f $TMP/ledger.db ]] || fail "READY=1 but no ledger"
grep -q "STATUS=listening on http://127.0.0.1:$PORT" "$TMP/notify.log" || fail "no STATUS with the URL"
wait_for WATCHDOG=1 3 10

# 2. Intake wedged, prober alive: no pings.
python3 "$HERE/freeze_threads.py" "$SERVE_PID" 3 sg-watchdog >"$TMP/freeze.out" &
FREEZE_PID=$!
for _ in $(seq 1 50); do grep -q frozen "$TMP/freeze.out" 2>/dev/null && break; sleep 0.1; done
grep -q frozen "$TMP/freeze.out" || fail "could not freeze the intake threads: $(cat "$TMP/freeze.out")"
wait "$FREEZE_PID" || fail "freeze_threads.py failed: $(cat "$TMP/freeze.out")"
t0=$(awk '$1 == "frozen" {print $3}' "$TMP/freeze.out")
t1=$(awk '$1 == "thawed" {print $2}' "$TMP/freeze.out")
frozen_pings=$(count WATCHDOG=1 "$(add "$t0" 0.5)" "$t1")
[[ $frozen_pings -eq 0 ]] || fail "$frozen_pings watchdog pings while the intake was frozen"
sleep 1.5
[[ $(count WATCHDOG=1 "$t1") -ge 1 ]] || fail "pings did not resume after the intake thawed"
grep -q '"msg":"watchdog probe failed' "$TMP/serve.log" || fail "the failed probe was not logged"

# 3. The whole process stopped: no pings; continued: pings again.
t0=$(mono)
kill -STOP "$SERVE_PID"
sleep 2
t1=$(mono)
kill -CONT "$SERVE_PID"
[[ $(count WATCHDOG=1 "$(add "$t0" 0.3)" "$t1") -eq 0 ]] || fail "pings while SIGSTOPped"
sleep 1.5
[[ $(count WATCHDOG=1 "$t1") -ge 1 ]] || fail "pings did not resume after SIGCONT"

# 4. Reload: RELOADING=1 (with MONOTONIC_USEC), then READY=1 again.
kill -HUP "$SERVE_PID"
wait_for RELOADING=1 1 10
wait_for READY=1 2 10
grep -q 'RELOADING=1|MONOTONIC_USEC=[0-9]' "$TMP/notify.log" || fail "RELOADING=1 without MONOTONIC_USEC"

# 5. Stop: STOPPING=1, exit 0, no pings after it.
kill -TERM "$SERVE_PID"
rc=0; wait "$SERVE_PID" || rc=$?
SERVE_PID=""
[[ $rc -eq 0 ]] || fail "serve exited $rc on SIGTERM"
wait_for STOPPING=1 1 5
stop_at=$(awk '$2 == "STOPPING=1" {print $1; exit}' "$TMP/notify.log")
[[ $(count WATCHDOG=1 "$(add "$stop_at" 0.001)") -eq 0 ]] || fail "a ping after STOPPING=1"

# 6. No WATCHDOG_USEC: READY but never a ping.
: >"$TMP/notify.log"
NOTIFY_SOCKET=$TMP/notify.sock "$BIN" serve -c "$TMP/stopgap.yaml" --log-format json \
  >"$TMP/serve2.log" 2>&1 &
SERVE_PID=$!
wait_for READY=1 1 20
sleep 1
[[ $(count WATCHDOG=1) -eq 0 ]] || fail "pings without WATCHDOG_USEC"
kill -TERM "$SERVE_PID"; wait "$SERVE_PID" || true; SERVE_PID=""
echo "PASS: READY, watchdog pings (stopped by a frozen intake and by SIGSTOP), RELOADING, STOPPING"
