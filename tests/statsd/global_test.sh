#!/usr/bin/env bash
# Global aggregation end to end: 3 local `stopgap statsd --forward-to` nodes
# and 1 `--global-listen` node flushing into a real carbon-cache, all on
# loopback. (1) A bounded known burst (every sample kept by the driver):
# counters exact; gtest.lat's upper_90, median, upper, lower within 1 % of the
# values computed from all 9,000 samples; a small timer sent exactly stays
# exact. (2) The same interval sent twice over two connections (hand-built
# frames) is merged once. (3) kill -9 of the global node mid-interval, load
# kept flowing for ~2 s while it is down, restart: the sum of the flushed
# counter equals what was sent (nothing lost, nothing counted twice), and
# the local nodes report the reconnect in admin `stats`. (4) The same across
# a SIGTERM of the global node (final flush, acks, then exit).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
statsd_test_init global
drive="python3 $here/global_drive.py"
cpid=""
trap 'statsd_test_cleanup; [[ -n "$cpid" ]] && "$src/scripts/services/carbon.sh" stop "$cpid"' EXIT
fail() {
  echo "FAIL: $*"
  for f in "$work"/*.log; do echo "--- $f"; tail -20 "$f"; done
  exit 1
}

cline="$(free_port)"; cpick="$(free_port)"; cquery="$(free_port)"
cpid="$("$src/scripts/services/carbon.sh" start "$work/carbon" "$cline" "$cpick" "$cquery")"
wsp="$work/carbon/whisper"

gudp="$(free_udp_port)"; gadmin="$(free_port)"; gfwd="$(free_port)"
gpid=""
start_global() {
  "$bin" statsd --udp "127.0.0.1:$gudp" --admin "127.0.0.1:$gadmin" \
    --graphite "127.0.0.1:$cline" --global-listen "127.0.0.1:$gfwd" --flush-interval 3s \
    --receivers 1 --log-level warn >>"$work/global.log" 2>&1 &
  gpid=$!
  pids+=($gpid)
  for _ in $(seq 100); do $drive stat "$gadmin" uptime >/dev/null 2>&1 && return 0; sleep 0.05; done
  fail "global node did not start"
}
start_global

lports=(); ladmins=()
for i in 1 2 3; do
  u="$(free_udp_port)"; a="$(free_port)"
  "$bin" statsd --udp "127.0.0.1:$u" --admin "127.0.0.1:$a" --forward-to "127.0.0.1:$gfwd" \
    --node-id "local$i" --flush-interval 500ms --receivers 1 --log-level warn \
    >>"$work/local$i.log" 2>&1 &
  pids+=($!)
  lports+=("$u"); ladmins+=("$a")
done
ports="$(IFS=,; echo "${lports[*]}")"
# A fourth local node with room for 2 intervals: the outage must make it drop
# (and count) the oldest ones.
l4admin="$(free_port)"
"$bin" statsd --udp "127.0.0.1:$(free_udp_port)" --admin "127.0.0.1:$l4admin" \
  --forward-to "127.0.0.1:$gfwd" --node-id local4 --forward-buffer-intervals 2 \
  --flush-interval 500ms --receivers 1 --log-level warn >>"$work/local4.log" 2>&1 &
pids+=($!)
ladmins+=("$l4admin")
for a in "${ladmins[@]}"; do
  for _ in $(seq 100); do $drive stat "$a" uptime >/dev/null 2>&1 && break; sleep 0.05; done
done

# (1) Right after a global flush, so that the burst lands in one global interval.
$drive wait_flush "$gadmin"
$drive burst "$ports" "$work/burst.json"
$drive dedupe "$gfwd"
hits="$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["hits"])' "$work/burst.json")"
$drive wsp_sum "$wsp/stats_counts/gtest/hits.wsp" "$hits" 20 || fail "counter"
$drive check_timers "$wsp/stats/timers" "$work/burst.json" || fail "percentiles"
$drive wsp_sum "$wsp/stats_counts/gtest/dedupe.wsp" 12 10 || fail "duplicate interval merged twice"
dup="$($drive stat "$gadmin" stopgap.global_intervals_duplicate)"
[[ "$dup" == 1 ]] || fail "global_intervals_duplicate is '$dup', expected 1"
echo "ok: a resent interval was skipped (global_intervals_duplicate 1)"

# (3) kill -9 in the middle of a global interval; load goes on meanwhile.
$drive counters "$ports" gtest.restart 2 0.5 "$work/restart.total"
$drive wait_flush "$gadmin"
sleep 1.2
{ kill -9 "$gpid"; wait "$gpid"; } 2>/dev/null || true
$drive counters "$ports" gtest.restart 4 0.5 "$work/restart.total"
queued="$($drive stat "${ladmins[0]}" stopgap.forward_queued_intervals)"
[[ "$queued" -ge 2 ]] || fail "local1 buffers $queued intervals while the global node is down"
echo "ok: local1 buffers $queued intervals while the global node is down"
start_global
$drive counters "$ports" gtest.restart 2 0.5 "$work/restart.total"
$drive wsp_sum "$wsp/stats_counts/gtest/restart.wsp" "$(cat "$work/restart.total")" 30 ||
  fail "counts across the restart"
for a in "${ladmins[@]:0:3}"; do
  c="$($drive stat "$a" stopgap.forward_connects)"
  d="$($drive stat "$a" stopgap.forward_intervals_dropped)"
  [[ "$c" -ge 2 && "$d" == 0 ]] || fail "local admin $a: connects $c dropped $d"
done
echo "ok: every local node reconnected, none dropped an interval"
d4="$($drive stat "$l4admin" stopgap.forward_intervals_dropped)"
b4="$($drive stat "$l4admin" stopgap.forward_bytes_dropped)"
[[ "$d4" -ge 1 && "$b4" -ge 1 ]] || fail "local4 (2-interval buffer) dropped $d4 intervals"
echo "ok: the 2-interval buffer dropped and counted $d4 intervals ($b4 bytes)"

# (4) SIGTERM: the global node refuses new frames, flushes what it merged and
# acks it before exiting; the next instance gets the rest, once.
$drive counters "$ports" gtest.term 3 0.4 "$work/term.total"
kill -TERM "$gpid"
wait "$gpid" 2>/dev/null || true
$drive counters "$ports" gtest.term 2 0.4 "$work/term.total"
start_global
$drive wsp_sum "$wsp/stats_counts/gtest/term.wsp" "$(cat "$work/term.total")" 30 ||
  fail "counts across a SIGTERM restart"
