#!/usr/bin/env bash
# StatsD proxy benchmark: `stopgap statsd proxy` vs the reference proxy.js
# (npm statsd 0.9.0), each in front of 3 recvmmsg drains (bench/statsd_drain.cc)
# standing in for StatsD nodes (they nap DRAIN_NAP_US after a batch that
# emptied their socket, as `stopgap statsd` does by default; 0: never).
# Proxy pinned to CPU 1, the paced load generator to CPU 0 (20 counter lines
# a datagram, 1,000 names; GEN_ARGS, default --gso: UDP GSO sends, so that it
# can offer > 5 M/s; add --varied-names for names of 61..84 bytes), the
# drains left to the scheduler. BASE_STOPGAP=PATH (another build's stopgap
# binary, e.g. main's) runs as kind "base" beside this build's, at every MTU.
#   loss: 1 - lines counted at the 3 drains / lines the generator sent (end to end);
#   CPU per metric: the proxy's utime+stime from /proc/PID/stat over the run / lines
#   forwarded (counted at the drains: the same as sent when nothing is lost);
#   the split: CPU cores used by the proxy, the generator and the 3 drains together,
#   and the machine's softirq and busy cores (/proc/stat: every process on it);
#   kernel drops: datagrams the kernel dropped at the proxy's and the drains'
#   sockets (/proc/net/udp), read once their queues are empty.
# REPS runs per rate; one line per run, then the median of each column.
#   STOPGAP_BUILD=build bench/statsd_proxy.sh   (SECS=5, REPS=3, SG_RATES="1000000 5000000 0",
#   MTUS="1432 8972" (one series per --mtu), REF_RATES="50000 100000", DRAIN_NAP_US=1000,
#   DRAIN_GRO=1 (the drains take coalesced datagrams, UDP_GRO),
#   PROXY_ARGS="--no-gso" adds flags to this build's stopgap statsd proxy, KINDS="base stopgap
#   proxyjs", BASE_STOPGAP=/path/to/main/stopgap, GEN_ARGS="--gso")
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${STOPGAP_BUILD:-$root/build}"
SECS="${SECS:-5}"
REPS="${REPS:-3}"
SG_RATES="${SG_RATES:-1000000 5000000 0}"
REF_RATES="${REF_RATES:-50000 100000}"
DRAIN_NAP_US="${DRAIN_NAP_US:-1000}"
MTUS="${MTUS:-1432 8972}"
DRAIN_GRO="${DRAIN_GRO:-0}"
KINDS="${KINDS:-base stopgap proxyjs}"
GEN_ARGS="${GEN_ARGS---gso}"
[[ -n "${BASE_STOPGAP:-}" ]] || KINDS="${KINDS//base/}"
for f in "$build/stopgap" "$build/bench/statsd_loadgen" "$build/bench/statsd_drain"; do
  [[ -x "$f" ]] || { echo "missing $f (build the stopgap, statsd_loadgen, statsd_drain targets)"; exit 1; }
done
work="$(mktemp -d /tmp/stopgap-statsd-proxy-bench.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
refpkg="$("$root/scripts/services/reference-statsd.sh" install)"
tck="$(getconf CLK_TCK)"
port_udp() { python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
port_tcp() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
# machine_ticks: "busy softirq WALL" ticks of all CPUs (/proc/stat: busy = all but idle and iowait).
# and the wall clock, in seconds.
machine_ticks() { awk -v t="$(date +%s.%N)" '/^cpu /{print $2+$3+$4+$7+$8+$9, $8, t}' /proc/stat; }
# udp_queues PORT... wait: waits until every listed loopback UDP socket's
# receive queue is empty (twice, 0.2 s apart; <= 20 s), then prints
# {"drops": kernel drops of those sockets (full receive buffer), "waited_s": ...}.
udp_queues() { python3 - "$@" <<'PY'
import sys, time
ports = {int(p) for p in sys.argv[1:-1]}
def scan():
    q = drops = 0
    for line in open("/proc/net/udp").read().splitlines()[1:]:
        f = line.split()
        if int(f[1].split(":")[1], 16) in ports:
            q += int(f[4].split(":")[1], 16); drops += int(f[12])
    return q, drops
t0 = time.time(); empty = 0
while time.time() - t0 < 20 and empty < 2:
    time.sleep(0.2)
    q, drops = scan()
    empty = empty + 1 if q == 0 else 0
print('{"drops": %d, "waited_s": %.1f}' % (scan()[1], time.time() - t0))
PY
}
# A node: a drain on a UDP port, and an admin port answering "health: up" to health checks.
run() {  # KIND RATE REP MTU
  local kind="$1" rate="$2" mtu="$4" d="$work/$1-$2-$3-$4"; mkdir -p "$d"
  local nodes="" i dp ap
  local drains=() admins=() dports=()
  for i in 0 1 2; do
    dp="$(port_udp)"; ap="$(port_tcp)"
    "$build/bench/statsd_drain" "$dp" $((32 << 20)) "$DRAIN_NAP_US" "$DRAIN_GRO" >"$d/drain$i.out" &
    drains+=($!); pids+=($!); dports+=("$dp")
    python3 -c '
import socket,sys,threading
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(16)
def h(c):
    try:
        c.recv(64); c.sendall(b"health: up\n")
    finally:
        c.close()
while True:
    c,_=s.accept(); threading.Thread(target=h,args=(c,),daemon=True).start()' "$ap" &
    admins+=($!); pids+=($!)
    nodes+="{host: '127.0.0.1', port: $dp, adminport: $ap},"
  done
  local up mp; up="$(port_udp)"; mp="$(port_tcp)"
  echo "{ nodes: [ $nodes ], address: '127.0.0.1', port: $up, mgmt_port: $mp, mgmt_address: '127.0.0.1', checkInterval: 1000 }" >"$d/proxy.js"
  local spid
  if [[ "$kind" == stopgap ]]; then
    # shellcheck disable=SC2086
    taskset -c 1 "$build/stopgap" statsd proxy --config "$d/proxy.js" --log-level error --mtu "$mtu" ${PROXY_ARGS:-} &
    spid=$!
  elif [[ "$kind" == base ]]; then
    taskset -c 1 "$BASE_STOPGAP" statsd proxy --config "$d/proxy.js" --log-level error --mtu "$mtu" &
    spid=$!
  else
    (cd "$refpkg" && exec taskset -c 1 node proxy.js "$d/proxy.js" >"$d/proxy.log" 2>&1) &
    spid=$!
  fi
  pids+=($spid)
  sleep 1.5
  local c0 m0; c0="$(cpu_ticks $spid)"; m0="$(machine_ticks)"
  # shellcheck disable=SC2086
  local out; out="$(taskset -c 0 "$build/bench/statsd_loadgen" --port "$up" --rate "$rate" --seconds "$SECS" --names 1000 --per-packet 20 $GEN_ARGS)"
  # Under load the proxy and the drains may lag the generator: wait (<= 20 s)
  # until their socket queues are empty, so "loss" is loss, not backlog.
  udp_queues "$up" "${dports[@]}" wait >"$d/queues.json"
  local c1 m1; c1="$(cpu_ticks $spid)"; m1="$(machine_ticks)"
  kill "$spid" 2>/dev/null || true
  for p in "${drains[@]}" "${admins[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${drains[@]}"; do wait "$p" 2>/dev/null || true; done
  python3 - "$out" "$c0" "$c1" "$tck" "$kind" "$rate" "$SECS" "$d" "$mtu" "$m0" "$m1" <<'PY'
import json, sys
o = json.loads(sys.argv[1]); c0, c1, tck = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
kind, rate, secs, d, mtu = sys.argv[5], sys.argv[6], float(sys.argv[7]), sys.argv[8], sys.argv[9]
m0, m1 = [list(map(float, a.split())) for a in sys.argv[10:12]]
wall = m1[2] - m0[2]
if kind != "proxyjs": kind += " --mtu " + mtu
drains = [json.loads(open("%s/drain%d.out" % (d, i)).read()) for i in range(3)]
q = json.loads(open("%s/queues.json" % d).read())
sent = o["metrics"]; got = sum(x["lines"] for x in drains)
cpu = (c1 - c0) / tck
# the machine's ticks span the generator's run and the wait for empty queues: per wall second
print("| %s | %s | %.2f | %.3f %% | %d | %.3f | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f | %.1f |" % (
    kind, "max" if rate == "0" else "%g M/s" % (int(rate) / 1e6), o["offered_per_s"] / 1e6,
    100.0 * (1 - got / sent) if sent else 0, q["drops"], cpu * 1e6 / got if got else 0,
    cpu / o["seconds"], o["cpu_s"] / o["seconds"], sum(x["cpu_s"] for x in drains) / o["seconds"],
    (m1[1] - m0[1]) / tck / wall, (m1[0] - m0[0]) / tck / wall,
    got / sum(x["packets"] for x in drains) if got else 0, q["waited_s"]))
PY
}
median() {  # rows of one kind and rate on stdin: the median of every numeric column
  python3 -c '
import sys, statistics
rows = [[c.strip() for c in l.strip().strip("|").split("|")] for l in sys.stdin if l.strip()]
def num(c): return float(c.split()[0])
out = [rows[0][0] + " (median of %d)" % len(rows), rows[0][1]]
for j in range(2, len(rows[0])):
    v = statistics.median(num(r[j]) for r in rows)
    out.append(("%.3f %%" % v) if "%" in rows[0][j] else ("%.3f" % v if j == 5 else "%.2f" % v))
print("| **" + " | ".join(out) + "** |")'
}
echo "| proxy | target rate | offered M/s | loss | kernel drops (datagrams) | proxy CPU µs per metric | proxy cores | generator cores | 3 drains cores | machine softirq cores | machine busy cores | lines per datagram out | drain wait s |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
# Kinds alternate within each rate and MTU (base, stopgap, base, ...), so
# that a change in the machine's load falls on both alike.
for r in $SG_RATES; do
  for mtu in $MTUS; do
    declare -A rows=()
    for rep in $(seq 1 "$REPS"); do
      for kind in $KINDS; do
        [[ "$kind" == proxyjs ]] && continue
        row="$(run "$kind" "$r" "$rep" "$mtu")"; echo "$row"; rows[$kind]+="$row"$'\n'
      done
    done
    for kind in $KINDS; do
      [[ "$kind" == proxyjs ]] || printf '%s' "${rows[$kind]}" | median
    done
    unset rows
  done
done
if [[ " $KINDS " == *" proxyjs "* ]]; then
  for r in $REF_RATES; do
    rows=""
    for rep in $(seq 1 "$REPS"); do
      row="$(run proxyjs "$r" "$rep" 0)"; echo "$row"; rows+="$row"$'\n'
    done
    printf '%s' "$rows" | median
  done
fi
