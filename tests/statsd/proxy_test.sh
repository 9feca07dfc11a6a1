#!/usr/bin/env bash
# `stopgap statsd proxy` beside the reference proxy.js (from the npm package),
# both in front of the same 3 stopgap statsd nodes and both configured by a
# proxy.js config file: every name sent once through each proxy must land on
# one node with a count of 2 (same routing), before a node is killed and after
# it is restarted (it leaves the ring on a failed health check, then returns).
# The stopgap proxy runs with --mtu 100, so that its ~10 lines a datagram make
# runs of equal-length datagrams (sent with UDP GSO: fewer send messages than
# datagrams), and it also gets the names as one UDP GSO message (coalesced on
# receipt by UDP_GRO: split back into datagrams by their size).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
statsd_test_init proxy
pkg="$("$src/scripts/services/reference-statsd.sh" install)"
udp=(); adm=(); node_pid=()
start_node() {  # i
  "$bin" statsd --udp "127.0.0.1:${udp[$1]}" --admin "127.0.0.1:${adm[$1]}" \
    --graphite "127.0.0.1:$(cat "$work/node$1.out.port")" --flush-interval 500ms --receivers 1 \
    --log-level warn 2>>"$work/node$1.log" &
  node_pid[$1]=$!
  pids+=($!)
}
for i in 0 1 2; do
  udp[$i]="$(free_udp_port)"; adm[$i]="$(free_port)"
  start_sink "$work/node$i.out"
  start_node $i
done
write_conf() {  # FILE PORT MGMT: exampleProxyConfig.js's shape with our ports
  cat >"$1" <<JS
{
nodes: [
{host: '127.0.0.1', port: ${udp[0]}, adminport: ${adm[0]}},
{host: '127.0.0.1', port: ${udp[1]}, adminport: ${adm[1]}},
{host: '127.0.0.1', port: ${udp[2]}, adminport: ${adm[2]}}
],
server: './servers/udp',
address: '127.0.0.1',
port: $2,
udp_version:'udp4',
mgmt_port: $3,
mgmt_address: '127.0.0.1',
forkCount: 0,
checkInterval: 300,
cacheSize: 10000
}
JS
}
psg="$(free_udp_port)"; pref="$(free_udp_port)"; msg_="$(free_port)"
write_conf "$work/sg.js" "$psg" "$msg_"
write_conf "$work/ref.js" "$pref" "$(free_port)"
"$bin" statsd proxy --config "$work/sg.js" --mtu 100 --log-level warn 2>"$work/sgproxy.log" &
pids+=($!)
(cd "$pkg" && exec node proxy.js "$work/ref.js" >"$work/refproxy.log" 2>&1) &
pids+=($!)
sleep 1.5
send() {  # PORT PREFIX: 300 names, one count each, 10 lines a datagram
  python3 - "$1" "$2" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
lines = [b"%s.n%d:1|c" % (sys.argv[2].encode(), i) for i in range(300)]
for i in range(0, 300, 10):
    s.sendto(b"\n".join(lines[i:i + 10]), ("127.0.0.1", int(sys.argv[1])))
    time.sleep(0.002)
PY
}
send_gso() {  # PORT PREFIX: the same 300 names in 30 datagrams padded with '\n' to one
  # length (the longest unpadded: a datagram's end ends its last line), one GSO message
  python3 - "$1" "$2" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
lines = [b"%s.n%d:1|c" % (sys.argv[2].encode(), i) for i in range(300)]
dgrams = [b"\n".join(lines[i:i + 10]) for i in range(0, 300, 10)]
size = max(len(d) for d in dgrams)
payload = b"".join(d.ljust(size, b"\n") for d in dgrams)
s.sendmsg([payload], [(socket.SOL_UDP, 103, struct.pack("H", size))], 0, ("127.0.0.1", int(sys.argv[1])))
PY
}
# check PREFIX WANT [DEAD]: each name on exactly one node with WANT in total;
# DEAD: a node index that must have received none of them.
check() {
  python3 - "$work" "$1" "$2" "${3:--1}" <<'PY'
import collections, sys, time
work, prefix, want, dead = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
def read():
    got = collections.defaultdict(dict)
    for i in range(3):
        for line in open("%s/node%d.out" % (work, i), "rb").read().decode().splitlines():
            p = line.rsplit(" ", 2)
            if len(p) == 3 and p[0].startswith("stats_counts.%s.n" % prefix):
                name = p[0][len("stats_counts."):]
                got[name][i] = got[name].get(i, 0) + float(p[1])
    return got
for _ in range(60):
    got = read()
    ok = len(got) == 300 and all(sum(v.values()) == want and sum(1 for x in v.values() if x) == 1 for v in got.values())
    if ok:
        break
    time.sleep(0.1)
per_node = collections.Counter(i for v in got.values() for i, x in v.items() if x)
bad = [(k, v) for k, v in got.items() if sum(v.values()) != want or sum(1 for x in v.values() if x) != 1]
if len(got) != 300 or bad:
    print("FAIL [%s]: %d names seen, %d misrouted or lost, e.g. %s" % (prefix, len(got), len(bad), bad[:3]))
    sys.exit(1)
if dead >= 0 and per_node[dead]:
    print("FAIL [%s]: the dead node %d got %d names" % (prefix, dead, per_node[dead])); sys.exit(1)
print("ok [%s]: 300 names, each on one node with %g; per node %s" % (prefix, want, dict(sorted(per_node.items()))))
PY
}
rc=0
send "$psg" a; send "$pref" a
check a 2 || rc=1
send_gso "$psg" g; send "$pref" g
check g 2 || rc=1
# The stopgap proxy's own counts: all 600 lines routed, none dropped, packed
# into fewer datagrams than lines (proxy.js sends one a line), sent in fewer
# messages than datagrams (GSO), no socket refused GSO.
python3 - "$msg_" <<'PY' || rc=1
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5); s.sendall(b"status\n"); d = b""
while b"gso_fallbacks" not in d:
    b = s.recv(65536)
    if not b: break
    d += b
c = dict(l.split(": ", 1) for l in d.decode().splitlines() if l.startswith("stopgap."))
lines, dgrams, drops = int(c["stopgap.lines"]), int(c["stopgap.datagrams"]), int(c["stopgap.send_drops"])
msgs, fallbacks = int(c["stopgap.messages"]), int(c["stopgap.gso_fallbacks"])
ok = lines == 600 and drops == 0 and 0 < msgs < dgrams < lines and fallbacks == 0
print("%s: proxy status lines %d, datagrams %d in %d messages, send_drops %d, gso_fallbacks %d" % (
    "ok" if ok else "FAIL", lines, dgrams, msgs, drops, fallbacks))
sys.exit(0 if ok else 1)
PY
# A datagram size no UDP socket can send is refused at start, with the flag named.
if out="$("$bin" statsd proxy --mtu 70000 --node 127.0.0.1:1:2 2>&1)"; then
  echo "FAIL: --mtu 70000 was accepted"; rc=1
elif ! grep -q -- "--mtu" <<<"$out"; then
  echo "FAIL: --mtu 70000 refused without naming the flag: $out"; rc=1
else
  echo "ok: --mtu 70000 refused"
fi
kill "${node_pid[1]}"; wait "${node_pid[1]}" 2>/dev/null || true
sleep 1.2   # a few health checks: both proxies take node 1 out of the ring
send "$psg" b; send "$pref" b
check b 2 1 || rc=1
start_node 1
sleep 1.2   # healthy again: back in the ring
send "$psg" c; send "$pref" c
check c 2 || rc=1
python3 - "$work" <<'PY' || rc=1
import sys
n = open(sys.argv[1] + "/node1.out", "rb").read().decode().count("stats_counts.c.n")
print(("ok: the restarted node routes again (%d names)" if n else "FAIL: the restarted node got no names") % n)
sys.exit(0 if n else 1)
PY
exit $rc
