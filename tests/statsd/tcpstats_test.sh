#!/usr/bin/env bash
# `stopgap tcpstats --once` against a local UDP listener: exactly one datagram
# within the MTU, every line a valid StatsD line, the retransmit rate present.
set -euo pipefail
bin="${STOPGAP_BIN:?}"
work="$(mktemp -d /tmp/stopgap-tcpstats.XXXXXX)"
trap 'kill $lpid 2>/dev/null || true; rm -rf "$work"' EXIT
python3 - "$work" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[1] + "/port", "w").write(str(s.getsockname()[1]))
s.settimeout(10)
pkts = []
try:
    pkts.append(s.recv(65535))
    s.settimeout(1)
    while True:
        pkts.append(s.recv(65535))
except socket.timeout:
    pass
with open(sys.argv[1] + "/out", "wb") as f:
    f.write(b"%d\n" % len(pkts))
    for p in pkts:
        f.write(p + b"\n#\n")
PY
lpid=$!
for _ in $(seq 100); do [[ -s "$work/port" ]] && break; sleep 0.05; done
port="$(cat "$work/port")"
"$bin" tcpstats --once --interval 300ms --statsd "127.0.0.1:$port" --prefix test.tcp --mtu 1432
wait $lpid
python3 - "$work/out" <<'PY'
import re, sys
data = open(sys.argv[1], "rb").read().decode()
count, rest = data.split("\n", 1)
assert count == "1", "expected one datagram, got %s" % count
payload = rest.split("\n#\n")[0]
assert len(payload.encode()) <= 1432, len(payload)
lines = payload.split("\n")
pat = re.compile(r"^test\.tcp\.[A-Za-z_]+:[0-9][0-9.e+-]*\|[cg]$")
for l in lines:
    assert pat.match(l), "bad line: %r" % l
names = {l.split(":")[0] for l in lines}
for want in ["test.tcp.retransmit_rate", "test.tcp.CurrEstab", "test.tcp.RetransSegs", "test.tcp.OutSegs"]:
    assert want in names, "missing " + want
assert "test.tcp.CurrEstab:" in payload and "|g" in payload
print("ok: 1 datagram, %d lines, %d bytes" % (len(lines), len(payload)))
PY
