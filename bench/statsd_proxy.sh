#!/usr/bin/env bash
# StatsD proxy benchmark: `stopgap statsd proxy` vs the reference proxy.js
# (npm statsd 0.9.0), each in front of 3 recvmmsg drains (bench/statsd_drain.cc)
# standing in for StatsD nodes. Proxy pinned to CPU 1, the paced load
# generator to CPU 0 (20 counter lines a datagram, 1,000 names). CPU per
# metric from /proc/PID/stat over the run; loss = 1 - routed/sent (stopgap:
# its admin `status` line count; proxy.js: datagrams at the drains, one per line).
#   STOPGAP_BUILD=build bench/statsd_proxy.sh   (SECS=5, SG_RATES="1000000 0", REF_RATES="50000 100000",
#   PROXY_ARGS="--receive-nap-us 0" adds flags to stopgap statsd proxy)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${STOPGAP_BUILD:-$root/build}"
SECS="${SECS:-5}"
SG_RATES="${SG_RATES:-1000000 0}"
REF_RATES="${REF_RATES:-50000 100000}"
work="$(mktemp -d /tmp/stopgap-statsd-proxy-bench.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
refpkg="$("$root/scripts/services/reference-statsd.sh" install)"
tck="$(getconf CLK_TCK)"
port_udp() { python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
port_tcp() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
admin() { python3 -c '
import socket,sys
s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),5); s.sendall(b"status\n"); d=b""
while b"send_drops" not in d:
    b=s.recv(65536)
    if not b: break
    d+=b
print(d.decode())' "$1"; }
# A node: a drain on a UDP port, and an admin port answering "health: up" to health checks.
run() {  # KIND RATE
  local kind="$1" rate="$2" d="$work/$1-$2"; mkdir -p "$d"
  local nodes="" i dp ap
  local drains=()
  for i in 0 1 2; do
    dp="$(port_udp)"; ap="$(port_tcp)"
    "$build/bench/statsd_drain" "$dp" >"$d/drain$i.out" &
    drains+=($!); pids+=($!)
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
    pids+=($!)
    nodes+="{host: '127.0.0.1', port: $dp, adminport: $ap},"
  done
  local up mp; up="$(port_udp)"; mp="$(port_tcp)"
  echo "{ nodes: [ $nodes ], address: '127.0.0.1', port: $up, mgmt_port: $mp, mgmt_address: '127.0.0.1', checkInterval: 1000 }" >"$d/proxy.js"
  local spid
  if [[ "$kind" == stopgap ]]; then
    # shellcheck disable=SC2086
    taskset -c 1 "$build/stopgap" statsd proxy --config "$d/proxy.js" --log-level error ${PROXY_ARGS:-} &
    spid=$!
  else
    (cd "$refpkg" && exec taskset -c 1 node proxy.js "$d/proxy.js" >"$d/proxy.log" 2>&1) &
    spid=$!
  fi
  pids+=($spid)
  sleep 1.5
  local c0; c0="$(cpu_ticks $spid)"
  local out; out="$(taskset -c 0 "$build/bench/statsd_loadgen" --port "$up" --rate "$rate" --seconds "$SECS" --names 1000 --per-packet 20)"
  sleep 0.5
  local c1; c1="$(cpu_ticks $spid)"
  local sent routed
  sent="$(python3 -c "import json,sys;print(json.loads(sys.argv[1])['metrics'])" "$out")"
  if [[ "$kind" == stopgap ]]; then
    routed="$(admin "$mp" | sed -n 's/^stopgap.lines: //p')"
  fi
  kill "$spid" 2>/dev/null || true
  for p in "${drains[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  if [[ "$kind" != stopgap ]]; then
    routed="$(cat "$d"/drain*.out | python3 -c 'import json,sys;print(sum(json.loads(l)["packets"] for l in sys.stdin if l.strip()))')"
  fi
  python3 -c "
import json,sys
o=json.loads(sys.argv[1]); sent=int(sys.argv[2]); routed=int(sys.argv[3]); cpu=(int(sys.argv[5])-int(sys.argv[4]))/int(sys.argv[6])
print('| %s | %s | %.2f M/s | %.3f %% | %.3f |' % (sys.argv[7], 'max' if sys.argv[8]=='0' else sys.argv[8], o['offered_per_s']/1e6, 100.0*(1-routed/sent) if sent else 0, cpu*1e6/sent if sent else 0))" \
    "$out" "$sent" "${routed:-0}" "$c0" "$c1" "$tck" "$kind" "$rate"
}
echo "| proxy | target rate (metrics/s) | offered | loss | CPU µs per metric |"
echo "| --- | --- | --- | --- | --- |"
for r in $SG_RATES; do run stopgap "$r"; done
for r in $REF_RATES; do run proxyjs "$r"; done
