#!/usr/bin/env bash
# Soak (docs/reliability.md, issue #15): SOAK_SECONDS (3600) of
#   - ALERT_RATE (1,000) alerts/s through `stopgap serve` (bench/serve_load,
#     open loop, one run per SOAK_INTERVAL, 2,000 fingerprints; a workaround
#     whose action runs at most once per 2 s and writes a marker file),
#   - METRIC_RATE (1 M) metrics/s through `stopgap statsd` (bench/statsd_loadgen,
#     20 counter lines a datagram, 1,000 names; flushed every 10 s to a
#     Graphite plaintext sink, tests/statsd/graphite_sink.py),
#   - a `stopgap logship sweep --delete-after-upload` every SWEEP_EVERY (60) s
#     of a new rotation (every 5th one 12 MB: a Swift SLO of 5 MB segments)
#     against the real local Swift (scripts/services/swift.sh).
# Every SOAK_INTERVAL (10) s one row of samples.csv: RSS and open fds of serve
# and statsd, the intake's p50/p99/max of that interval, its status counts,
# statsd's received metrics and the kernel's drops on its socket, the load
# average (the machine is shared). Each sweep is one row of sweeps.csv.
# At the end: every acknowledged alert is in the ledger, no action ran twice,
# bundles intact, integrity ok (tests/faults/faults.py check); statsd flushed
# every metric it received and lost at most STATSD_MAX_LOSS of those sent;
# every rotation deleted locally is in Swift with its MD5; then
# soak_report.py judges RSS/fd growth after warm-up (<= 5 %), p99 drift and
# errors, writes the SVG plots and prints the FIGURE line.
# SOAK_FS_SIZE (e.g. 8G; root only) puts the whole scratch directory (ledger,
# bundles, Swift, logs) on its own tmpfs: on this shared VM other sessions'
# builds fill the page cache with dirty pages, and every writer, the ledger's
# included, is then throttled for seconds (balance_dirty_pages, also on a
# loop device in RAM). That is their drift, not stopgap's. fsync on tmpfs
# returns at once: the soak measures drift (RSS, fds, p99, errors, loss), the
# kill -9 and fsync-EIO rows measure durability.
# SOAK_RT=N (root only) runs the soak and everything it starts under SCHED_RR
# priority N (chrt), so other sessions' processes on a shared machine do not
# preempt it; the soak's own processes still share the cores among themselves.
# Env: SOAK_SECONDS, SOAK_INTERVAL, ALERT_RATE, METRIC_RATE, SWEEP_EVERY,
# WARMUP_SECONDS (10 % of the run, at least 30), SOAK_OUT (a directory that
# keeps the CSVs and SVGs; default: removed with the scratch directory).
set -euo pipefail
if [[ -n ${SOAK_RT:-} && $(id -u) != 0 ]]; then
  echo "soak_hour: SOAK_RT and SOAK_FS_SIZE need root; running without them" >&2
  unset SOAK_RT SOAK_FS_SIZE
fi
if [[ -n ${SOAK_RT:-} && -z ${SOAK_RT_ON:-} ]]; then
  SOAK_RT_ON=1 exec chrt -r "$SOAK_RT" bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
source "$SRC/tests/logship/lib.sh"
SOAK_SECONDS=${SOAK_SECONDS:-3600}
SOAK_INTERVAL=${SOAK_INTERVAL:-10}
ALERT_RATE=${ALERT_RATE:-1000}
METRIC_RATE=${METRIC_RATE:-1000000}
SWEEP_EVERY=${SWEEP_EVERY:-60}
STATSD_MAX_LOSS=${STATSD_MAX_LOSS:-0.001}
WARMUP_SECONDS=${WARMUP_SECONDS:-$((SOAK_SECONDS / 10 > 30 ? SOAK_SECONDS / 10 : 30))}
LOAD=$BUILD/bench/serve_load
LOADGEN=$BUILD/bench/statsd_loadgen
[[ -x $LOAD && -x $LOADGEN ]] || fail "build the serve_load and statsd_loadgen targets first"

SOAK_MNT=""
soak_fs_off() {
  [[ -n $SOAK_MNT ]] || return 0
  mountpoint -q "$SOAK_MNT" && umount "$SOAK_MNT"
  rmdir "$SOAK_MNT" 2>/dev/null || true
}
if [[ -n ${SOAK_FS_SIZE:-} ]]; then
  [[ $(id -u) == 0 ]] || fail "SOAK_FS_SIZE needs root (mount -t tmpfs)"
  SOAK_MNT=$(mktemp -d /var/tmp/soak_fs.XXXXXX)
  mount -t tmpfs -o "size=$SOAK_FS_SIZE,mode=0700" soak-ram "$SOAK_MNT"
  export LOGSHIP_IT_DIR=$SOAK_MNT
fi
logship_it_init soak_hour
TMP=$T
SERVE_LOG=$T/serve.log
MARKERS=$T/markers
OUT=${SOAK_OUT:-$T/out}
mkdir -p "$MARKERS" "$OUT"
STATSD_PID=""
cleanup() {
  local p
  for p in "${extra_pids[@]}" $STATSD_PID; do kill "$p" 2>/dev/null || true; done
  kill9_serve
  logship_it_cleanup
  soak_fs_off
}
trap cleanup EXIT

# --- serve
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
write_catalog "$T/stopgap.yaml" "$PORT" "$T/state" 0.01 2s BenchAlert
start_serve "$T/stopgap.yaml" --workers 2 --queue 100000 --log-level warn

# --- statsd and its Graphite sink
"$PY" "$SRC/tests/statsd/graphite_sink.py" "$T/sink" >"$T/sink.port" 2>/dev/null </dev/null &
extra_pids+=($!)
wait_for 10 test -s "$T/sink.port" || fail "the graphite sink did not start"
UDP=$(free_udp_port)
ADMIN=$(free_port)
"$BIN" statsd --udp "127.0.0.1:$UDP" --admin "127.0.0.1:$ADMIN" \
  --graphite "127.0.0.1:$(cat "$T/sink.port")" >"$T/statsd.log" 2>&1 &
STATSD_PID=$!
admin() {  # admin COMMAND: statsd's admin answer (then "quit": read to EOF)
  $PY -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall((sys.argv[2] + "\nquit\n").encode())
buf = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    buf += b
print(buf.decode())' "$ADMIN" "$1"
}
stat_of() { awk -v k="$1:" '$1 == k {print $2}' <<<"$2"; }
wait_for 10 admin health >/dev/null 2>&1 || fail "stopgap statsd did not start (see $T/statsd.log)"
# The kernel's drops on statsd's UDP socket (/proc/net/udp "drops" column).
udp_drops() {
  awk -v p="$(printf ':%04X' "$UDP")" '$2 ~ p"$" {d += $NF} END {print d + 0}' /proc/net/udp
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" | wc -l; }

# --- sweeps: a new rotation, then a sweep, every SWEEP_EVERY s, until the end.
LOGS=$T/var/log
mkdir -p "$LOGS"
echo live >"$LOGS/app.log"
: >"$T/all.md5"
echo "t_s,rc,uploaded,failed,ms,peak_rss_kb" >"$OUT/sweeps.csv"
sweep_loop() {
  local n=0 size name t0 rc out
  local end=$(($(date +%s) + SOAK_SECONDS))
  while (($(date +%s) < end)); do
    n=$((n + 1))
    size=$((n % 5 == 0 ? 12000000 : 200000 + n * 7000))
    name=app.log-$(date -u -d "2025-01-01 +$n days" +%Y%m%d).gz
    head -c "$size" /dev/urandom >"$LOGS/$name"
    (cd "$LOGS" && md5sum "$name") >>"$T/all.md5"
    t0=$(ms_now)
    rc=0
    out=$(/usr/bin/time -f 'peak_rss_kb=%M' -o "$T/sweep.time" "$BIN" logship sweep \
      --to swift://soak/h --hostname web1 --delete-after-upload \
      --multipart-threshold 6M --part-size 5M "$LOGS/app.log" 2>&1) || rc=$?
    echo "$out" >>"$T/sweeps.log"
    echo "$(($(date +%s) - T0)),$rc,$(grep -oE '[0-9]+ uploaded' <<<"$out" | tail -1 |
      cut -d' ' -f1),$(grep -oE '[0-9]+ failed' <<<"$out" | tail -1 | cut -d' ' -f1),$(($(ms_now) - t0)),$(
      sed -n 's/^peak_rss_kb=//p' "$T/sweep.time")" >>"$OUT/sweeps.csv"
    sleep $((SWEEP_EVERY - ($(ms_now) - t0) / 1000 > 0 ? SWEEP_EVERY - ($(ms_now) - t0) / 1000 : 0))
  done
}

say "soak: ${SOAK_SECONDS}s, $ALERT_RATE alerts/s, $METRIC_RATE metrics/s, a sweep every ${SWEEP_EVERY}s"
T0=$(date +%s)
# statsd_loadgen stops itself after 600 s at most: one run per 600 s, one
# JSON line each.
statsd_load() {
  local left=$SOAK_SECONDS n
  while ((left > 0)); do
    n=$((left > 600 ? 600 : left))
    "$LOADGEN" --port "$UDP" --rate "$METRIC_RATE" --seconds "$n" --names 1000 \
      --per-packet 20 >>"$T/loadgen.json" 2>>"$T/loadgen.err" || return 1
    left=$((left - n))
  done
}
statsd_load &
LOADGEN_PID=$!
extra_pids+=("$LOADGEN_PID")
sweep_loop &
SWEEPER_PID=$!
extra_pids+=("$SWEEPER_PID")

echo "t_s,serve_rss_kb,serve_fds,statsd_rss_kb,statsd_fds,requests,p50_ms,p99_ms,max_ms,acked,status_503,status_other,transport_errors,statsd_received,statsd_udp_drops,statsd_bad_lines,load1" >"$OUT/samples.csv"
: >"$T/acked"
requests=$((ALERT_RATE * SOAK_INTERVAL))
while (($(date +%s) - T0 < SOAK_SECONDS)); do
  kill -0 "$SERVE_PID" 2>/dev/null || fail "stopgap serve died"
  kill -0 "$STATSD_PID" 2>/dev/null || fail "stopgap statsd died (see $T/statsd.log)"
  # The load of this interval in the background; the samples in its middle,
  # with its 8 connections open (so the fd count does not depend on how fast
  # the last interval's connections were closed).
  "$LOAD" --port "$PORT" --token-file "$T/token" --connections 8 --requests "$requests" \
    --fingerprints 2000 --rate "$ALERT_RATE" --ids-out "$T/ids" >"$T/load.json" 2>>"$T/load.err" &
  load_pid=$!
  sleep $((SOAK_INTERVAL / 2))
  st=$(admin stats)
  sample=("$(($(date +%s) - T0))" "$(rss_kb "$SERVE_PID")" "$(fds "$SERVE_PID")"
    "$(rss_kb "$STATSD_PID")" "$(fds "$STATSD_PID")"
    "$(stat_of stopgap.metrics_received "$st")" "$(udp_drops)"
    "$(stat_of messages.bad_lines_seen "$st")" "$(cut -d' ' -f1 /proc/loadavg)")
  wait "$load_pid" || true  # exit 1 on errors: counted in its JSON
  r=$(cat "$T/load.json")
  [[ -n $r ]] || fail "serve_load printed nothing: $(tail -3 "$T/load.err")"
  cat "$T/ids" >>"$T/acked"
  $PY - "$r" "${sample[@]}" >>"$OUT/samples.csv" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
t, srss, sfd, drss, dfd, recv, drops, bad, load1 = sys.argv[2:11]
print(",".join(str(x) for x in [
    t, srss, sfd, drss, dfd, r["requests"], r["p50_ms"], r["p99_ms"], r["max_ms"],
    r["alerts_acked"], r["status_503"], r["status_other"], r["transport_errors"],
    recv, drops, bad, load1]))
PY
  tail -1 "$OUT/samples.csv"
done

say "load done; the last sweep, statsd's last metrics and flush"
wait "$SWEEPER_PID" || true
wait "$LOADGEN_PID" || fail "statsd_loadgen failed: $(cat "$T/loadgen.err")"
sent=$($PY -c 'import json,sys; print(sum(json.loads(l)["metrics"] for l in open(sys.argv[1])))' \
  "$T/loadgen.json")
prev=-1
for _ in $(seq 1 50); do  # received stops moving once the socket is drained
  recv=$(stat_of stopgap.metrics_received "$(admin stats)")
  [[ $recv == "$prev" ]] && break
  prev=$recv
  sleep 0.2
done
drops=$(udp_drops)
kill -TERM "$STATSD_PID"  # a final flush on the way out
wait "$STATSD_PID" || fail "stopgap statsd exited $? on SIGTERM"
STATSD_PID=""
# %.0f: mawk's %d stops at 2^31-1, and an hour is 3.6 G metrics.
flushed_sum() { awk '$1 ~ /^stats_counts\.bench\./ {s += $2} END {printf "%.0f", s}' "$T/sink"; }
all_flushed() { [[ $(flushed_sum) == "$recv" ]]; }
wait_for 10 all_flushed || true  # the sink writes each flush when its connection ends
flushed=$(flushed_sum)
say "statsd: sent=$sent received=$recv flushed=$flushed udp_drops=$drops"
# Judged with the rest by soak_report.py: a failed check must not cost the
# run's other figures.

# Nothing runs again by itself once the load stops.
before=$(ls "$MARKERS" | wc -l)
sleep 3
[[ $(ls "$MARKERS" | wc -l) == "$before" ]] || fail "actions ran after the load stopped"
stop_serve
ledger=$($FAULTS check "$T/state/ledger.db" "$T/acked" "$MARKERS") || fail "ledger check: $ledger"
echo "$ledger"
errors_logged=$(grep -c '"level":"error"' "$SERVE_LOG" || true)

# Every rotation deleted locally is in Swift with its MD5 (read directly).
TOKEN=$(swift auth | sed -n 's/.*OS_AUTH_TOKEN=//p')
unverified=0
while read -r sum name; do
  [[ -e $LOGS/$name ]] && { unverified=$((unverified + 1)); continue; }  # not uploaded: counted
  got=$(curl -s -f -H "X-Auth-Token: $TOKEN" "$SWIFT_URL/v1/AUTH_test/soak/h/web1$LOGS/$name" |
    md5sum | cut -d' ' -f1)
  [[ $got == "$sum" ]] || { echo "    $name: store md5 '$got', want $sum" >&2; unverified=$((unverified + 1)); }
done <"$T/all.md5"
# The SLOs' segments: 3 for each 12 MB rotation (5 + 5 + 2 MB), none left over.
segments=$( (swift list soak_segments 2>/dev/null || true) | wc -l)  # none yet: no container
slos=$(($(wc -l <"$T/all.md5") / 5))

$PY "$SRC/tests/faults/soak_report.py" "$OUT" --warmup "$WARMUP_SECONDS" --offered-rate "$ALERT_RATE" \
  --ledger "$ledger" --statsd-sent "$sent" --statsd-received "$recv" \
  --statsd-flushed "$flushed" --statsd-drops "$drops" --statsd-max-loss "$STATSD_MAX_LOSS" \
  --rotations "$(wc -l <"$T/all.md5")" --rotations-not-in-store "$unverified" \
  --segments "$segments" --segments-expected "$((slos * 3))" --errors-logged "$errors_logged" || fail "soak criteria (above)"
echo "PASS: soak of ${SOAK_SECONDS}s in $(($(date +%s) - T0)) s (CSVs and plots in $OUT)"
