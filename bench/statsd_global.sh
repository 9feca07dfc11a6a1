#!/usr/bin/env bash
# Global aggregation benchmark (docs/benchmarks.md, "StatsD global aggregation").
# 1. The global node's merge: statsd_global_merge builds NODES local nodes'
#    intervals of NAMES distinct names (70 % counters, 10 % gauges, 15 % timers,
#    5 % sets), encodes them as forward frames and times decode+merge of all
#    of them into one MetricStore, plus the flush, and heap growth per name.
#    RUNS processes, each reporting the median of REPS warm intervals; the
#    medians of those are printed.
# 2. The local node's CPU per metric with forwarding off and on: bench/statsd.sh
#    (stopgap rows only, STOPGAP_RATES) without and with
#    `--forward-to` a global node running on CPU 0 beside the load generator.
#   STOPGAP_BUILD=build bench/statsd_global.sh   (NODES=10 NAMES=1000000 RUNS=3 REPS=3)
#   SKIP_MERGE=1 / SKIP_CPU=1 run one half.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${STOPGAP_BUILD:-$root/build}"
NODES="${NODES:-10}"; NAMES="${NAMES:-1000000}"; RUNS="${RUNS:-3}"; REPS="${REPS:-3}"
merge="$build/bench/statsd_global_merge"
[[ -x "$merge" && -x "$build/stopgap" ]] || { echo "build the stopgap and statsd_global_merge targets"; exit 1; }
work="$(mktemp -d /tmp/stopgap-statsd-global-bench.XXXXXX)"
gpid=""
cleanup() { [[ -n "$gpid" ]] && kill "$gpid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2)? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
field() { python3 -c "import json,sys;print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

if [[ "${SKIP_MERGE:-0}" != 1 ]]; then
  echo "== merge: $NODES nodes x $NAMES names, $RUNS runs of $REPS warm intervals" >&2
  outs=()
  for r in $(seq "$RUNS"); do
    o="$("$merge" "$NODES" "$NAMES" "$REPS" 2>>"$work/merge.log")"
    echo "  run $r: $o" >&2
    outs+=("$o")
  done
  m() { for o in "${outs[@]}"; do field "$o" "$1"; done | median; }
  echo
  echo "| global merge, $NODES nodes x $NAMES names (median of $RUNS runs) | value |"
  echo "| --- | --- |"
  echo "| frame per local node (zstd -1) | $(m frame_bytes_per_node) bytes = $(m frame_bytes_per_name) bytes per name |"
  echo "| local node: encode one interval | $(m encode_ms_median) ms |"
  echo "| global node: decode + merge all $NODES frames (warm interval) | $(m merge_ms_median) ms = $(m merge_ns_per_name_per_node) ns per name per node |"
  echo "| global node: flush (render the Graphite payload) | $(m flush_ms_median) ms |"
  echo "| global node: heap in use per name (after the first interval / after the last) | $(m heap_per_name_after_first_bytes) / $(m heap_per_name_bytes) bytes |"
  echo "| load average during the run | $(cut -d' ' -f1-3 /proc/loadavg) |"
fi

if [[ "${SKIP_CPU:-0}" != 1 ]]; then
  port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
  gp="$(port)"; ga="$(port)"
  taskset -c 0 "$build/stopgap" statsd --udp 127.0.0.1:0 --admin "127.0.0.1:$ga" --global-listen "127.0.0.1:$gp" \
    --flush-interval 1s --receivers 1 --log-level warn 2>"$work/global.log" &
  gpid=$!
  sleep 0.5
  export STOPGAP_RATES="${STOPGAP_RATES:-1000000 3000000}" REF_RATES=" " SKIP_MILLION=1
  echo "== local node CPU per metric, forwarding off" >&2
  STOPGAP_STATSD_FLAGS="" "$root/bench/statsd.sh" >"$work/off.txt"
  echo "== local node CPU per metric, forwarding on (--forward-to 127.0.0.1:$gp)" >&2
  STOPGAP_STATSD_FLAGS="--forward-to 127.0.0.1:$gp" "$root/bench/statsd.sh" >"$work/on.txt"
  echo
  echo "| local node | target rate | loss (median) | CPU µs per sent metric (median) |"
  echo "| --- | --- | --- | --- |"
  for mode in off on; do
    awk -v m="$mode" -F'|' '$2 ~ /stopgap/ {printf "| forwarding %s | %s | %s | %s |\n", m, $3, $5, $6}' "$work/$mode.txt"
  done
  echo
  echo "global node: $(printf 'stats\n' | python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2); s.sendall(b"stats\n")
b = b""
while not b.endswith(b"END\n\n"):
    c = s.recv(65536)
    if not c: break
    b += c
print(", ".join(l for l in b.decode().splitlines() if l.startswith("stopgap.global_")))' "$ga")"
  echo "global node warnings: $(grep -c . "$work/global.log" || true)"
fi
