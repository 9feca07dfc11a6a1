#!/usr/bin/env bash
# A carbon outage under `stopgap statsd`: a real carbon-cache behind the fault
# proxy (fault_proxy.py --tcp), which for OUTAGE seconds resets every
# connection (the open ones and the new ones, as a dying relay or a restarted
# carbon does). A steady counter is sent to statsd the whole time.
# Promise (docs/reliability.md): the flushes made during the outage wait in
# the bounded buffer and reach carbon afterwards, with their own timestamps;
# with a buffer too small for the outage the oldest are dropped and every
# drop is counted (admin stopgap.graphite_dropped_lines): no loss is silent.
# Checked against what carbon stored (whisper-fetch). Prints one FIGURE line.
# Soak: OUTAGE=600.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
OUTAGE=${OUTAGE:-20}
RATE=${RATE:-50}  # increments per second, per statsd

CARBON_PID=""
PIDS=()
faults_on_exit() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -z $CARBON_PID ]] || "$SRC/scripts/services/carbon.sh" stop "$CARBON_PID" >/dev/null 2>&1
}
faults_scratch net-carbon

LINE=$(free_port)
CARBON_PID=$("$SRC/scripts/services/carbon.sh" start "$TMP/carbon" "$LINE" "$(free_port)" "$(free_port)")
start_fault_proxy "$TMP/px" "$LINE" --tcp
# Two statsd: "big" with the default buffer (256 MiB), "small" with a buffer
# of a few flushes, so that the outage overflows it. Flushes every 2 s into
# whisper's 1 s slots: a flush delayed by load never lands in the slot of
# the one before (which would overwrite it: a loss of the check, not of
# statsd; seen once in 600 s with 1 s flushes).
declare -A UDP ADMIN
for s in big small; do
  UDP[$s]=$(free_udp_port)
  ADMIN[$s]=$(free_port)
  extra=()
  [[ $s == small ]] && extra=(--graphite-buffer-bytes 6000)
  "$BIN" statsd --udp "127.0.0.1:${UDP[$s]}" --admin "127.0.0.1:${ADMIN[$s]}" \
    --graphite "127.0.0.1:$PROXY_PORT" --flush-interval 2s --receivers 1 --log-level error \
    "${extra[@]}" >"$TMP/statsd-$s.log" 2>&1 &
  PIDS+=($!)
done
admin_stat() {  # admin_stat NAME KEY
  $PY - "${ADMIN[$1]}" "$2" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"stats\n")
buf = b""
while b"END" not in buf:
    d = s.recv(65536)
    if not d:
        break
    buf += d
for line in buf.decode().splitlines():
    if line.startswith(sys.argv[2] + ":"):
        print(line.split(":", 1)[1].strip())
PY
}
admin_up() { [[ -n $(admin_stat big uptime 2>/dev/null) ]]; }
wait_for 10 admin_up || fail "statsd admin not answering"

# The sender: RATE increments per second to each statsd for the whole test;
# writes the totals to $TMP/sent.<name> when told to stop ($TMP/stop).
$PY - "${UDP[big]}" "${UDP[small]}" "$RATE" "$TMP" <<'PY' &
import os, socket, sys, time
ports = {"big": int(sys.argv[1]), "small": int(sys.argv[2])}
rate, tmp = int(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sent = {k: 0 for k in ports}
start = time.monotonic()
i = 0
while not os.path.exists(tmp + "/stop") and time.monotonic() - start < 3600:
    due = start + i / rate
    now = time.monotonic()
    if due > now:
        time.sleep(due - now)
    i += 1
    for k, p in ports.items():
        s.sendto(b"netfault.%s:1|c" % k.encode(), ("127.0.0.1", p))
        sent[k] += 1
for k in ports:
    open(tmp + "/sent." + k, "w").write(str(sent[k]))
PY
SENDER=$!
PIDS+=($SENDER)

say "carbon up: 3 s"
sleep 3
say "carbon outage: every connection reset for $OUTAGE s"
proxy_ctl "$TMP/px" '{"down": true}'
t_down=$(ms_now)
sleep "$OUTAGE"
proxy_ctl "$TMP/px" '{}'
t_up=$(ms_now)
say "carbon back"
sleep 2
touch "$TMP/stop"
wait "$SENDER"
sleep 2.5  # the last flush
# The buffers drain (backoff is at most 30 s).
drained() { [[ $(admin_stat "$1" stopgap.graphite_queued_bytes) == 0 ]]; }
wait_for 45 drained big ||
  fail "the big buffer did not drain: $(admin_stat big stopgap.graphite_queued_bytes) bytes queued"
t_drained=$(ms_now)
wait_for 45 drained small ||
  fail "the small buffer did not drain"
stored() {  # stored NAME: the sum carbon holds for the counter
  local f=$TMP/carbon/whisper/stats_counts/netfault/$1.wsp
  [[ -f $f ]] || { echo 0; return; }
  whisper-fetch --from=$(($(date +%s) - OUTAGE - 600)) "$f" |
    awk '$2 != "None" {s += $2} END {printf "%d\n", s}'
}
sent_big=$(cat "$TMP/sent.big")
sent_small=$(cat "$TMP/sent.small")
# Carbon writes asynchronously: wait until the big sum is complete (or stops growing).
complete() { (($(stored big) >= sent_big)); }
wait_for 20 complete || true
sleep 1
got_big=$(stored big)
got_small=$(stored small)
dropped_big=$(admin_stat big stopgap.graphite_dropped_lines)
dropped_small=$(admin_stat small stopgap.graphite_dropped_lines)
failures_big=$(admin_stat big stopgap.graphite_failures)
resets=$(proxy_count "$TMP/px" resets)
echo "    big:   sent $sent_big, carbon holds $got_big, dropped lines $dropped_big, failed sends $failures_big"
echo "    small: sent $sent_small, carbon holds $got_small, dropped lines $dropped_small"
echo "    proxy: $(cat "$TMP/px/counters.json")"
((resets > 0)) || fail "the proxy reset nothing"
((failures_big > 0)) || fail "statsd saw no failed send during the outage"
[[ $got_big == "$sent_big" ]] ||
  fail "big buffer: carbon holds $got_big of $sent_big increments ($((sent_big - got_big)) lost, $dropped_big lines dropped)"
[[ $dropped_big == 0 ]] || fail "big buffer dropped $dropped_big lines"
lost_small=$((sent_small - got_small))
((lost_small > 0)) || fail "small buffer: the outage lost nothing (is the buffer not small?)"
((dropped_small > 0)) || fail "small buffer: $lost_small increments lost and no drop counted (a silent loss)"
echo "FIGURE net-carbon: outage_s=$OUTAGE faults_injected=$resets failed_sends=$failures_big sent=$sent_big stored=$got_big lost=$((sent_big - got_big)) dropped_counted=$dropped_big small_buffer_lost=$lost_small small_buffer_dropped_lines=$dropped_small recover_ms=$((t_drained - t_up))"
echo "PASS: carbon outage of $OUTAGE s in $(($(date +%s) - T0)) s"
