#!/usr/bin/env bash
# stopgap statsd --prometheus: GET /metrics after a flush holds the documented
# mapping (dots to `_`, tags to labels, counters cumulative as `_total`,
# timers as summaries in seconds), and `promtool check metrics` (Debian's
# prometheus package) accepts the exposition. Then --max-names: a flood of
# distinct names stays at the cap, the rest are dropped and counted.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${STOPGAP_BIN:?STOPGAP_BIN must point at the stopgap binary}"
work="$(mktemp -d /tmp/stopgap-statsd-prom.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ "${KEEP_WORK:-0}" != 1 ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
free_udp_port() { python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
get() { python3 -c 'import sys,urllib.request;sys.stdout.write(urllib.request.urlopen(sys.argv[1],timeout=5).read().decode())' "$1"; }
admin() { python3 -c '
import socket,sys
s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),5); s.sendall(sys.argv[2].encode()+b"\n")
d=b""
while not d.endswith(b"END\n\n"):
    b=s.recv(65536)
    if not b: break
    d+=b
sys.stdout.write(d.decode())' "$1" "$2"; }
send() { python3 -c '
import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
for p in sys.argv[2:]: s.sendto(p.encode(),("127.0.0.1",int(sys.argv[1])))' "$@"; }
rc=0

udp="$(free_udp_port)"; http="$(free_port)"; adm="$(free_port)"
"$bin" statsd --udp "127.0.0.1:$udp" --admin "127.0.0.1:$adm" --prometheus "127.0.0.1:$http" \
  --flush-interval 1s --receivers 1 --percentiles 90,99 --log-level warn &
pids+=($!)
for _ in $(seq 50); do get "http://127.0.0.1:$http/metrics" >/dev/null 2>&1 && break; sleep 0.1; done
# Two intervals: counters must add up across flushes; the timer's quantiles
# are those of the last interval, its _sum and _count cumulative.
send "$udp" "api.requests:3|c|#env:prod,region:eu" "api.requests:2|c|#env:dev" \
  "api-v2.latency:900|ms" "mem.free:512|g" "users.unique:a|s" "users.unique:b|s" "9lives:1|c"
sleep 1.5
send "$udp" "api.requests:5|c|#env:prod,region:eu" \
  "api-v2.latency:100|ms" "api-v2.latency:300|ms" "api-v2.latency:200|ms"
# The scrape that first shows the second interval (polled, so it is that flush's text).
for _ in $(seq 40); do
  get "http://127.0.0.1:$http/metrics" >"$work/metrics.txt"
  grep -qF 'api_requests_total{env="prod",region="eu"} 8' "$work/metrics.txt" && break
  sleep 0.1
done
expect() {
  if grep -qxF "$1" "$work/metrics.txt"; then echo "ok: $1"; else echo "FAIL: no line: $1"; rc=1; fi
}
expect '# TYPE api_requests_total counter'
expect 'api_requests_total{env="prod",region="eu"} 8'
expect 'api_requests_total{env="dev"} 2'
expect '# TYPE api_v2_latency summary'
expect 'api_v2_latency{quantile="0.5"} 0.2'
expect 'api_v2_latency{quantile="0.99"} 0.3'
expect 'api_v2_latency_sum 1.5'
expect 'api_v2_latency_count 4'
expect 'mem_free 512'
expect '_9lives_total 1'
expect 'statsd_bad_lines_seen_total 0'
if command -v promtool >/dev/null; then
  if promtool check metrics <"$work/metrics.txt" >"$work/promtool.txt" 2>&1; then
    echo "ok: promtool check metrics accepts the exposition"
  else
    echo "FAIL: promtool check metrics:"; cat "$work/promtool.txt"; rc=1
  fi
else
  echo "FAIL: promtool not installed (scripts/install-deps installs the prometheus package)"; rc=1
fi

# --max-names: 20,000 distinct names against a cap of 500.
udp="$(free_udp_port)"; adm="$(free_port)"
"$bin" statsd --udp "127.0.0.1:$udp" --admin "127.0.0.1:$adm" --max-names 500 \
  --flush-interval 1s --receivers 1 --log-level warn &
pids+=($!)
sleep 0.3
python3 - "$udp" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(0, 20000, 20):
    s.sendto(b"\n".join(b"flood.n%d:1|c" % (i + k) for k in range(20)), ("127.0.0.1", int(sys.argv[1])))
    if i % 2000 == 0:
        time.sleep(0.005)
PY
sleep 1.5
admin "$adm" stats >"$work/stats.txt"
names="$(sed -n 's/^stopgap.names: //p' "$work/stats.txt")"
dropped="$(sed -n 's/^stopgap.names_dropped: //p' "$work/stats.txt")"
recv="$(sed -n 's/^stopgap.receive_names: //p' "$work/stats.txt")"
# (stopgap's own statsd.names_dropped and timestamp_lag come on top of the cap)
if [[ -n "$names" && "$names" -le 505 && -n "$recv" && "$recv" -le 500 && -n "$dropped" &&
      "$dropped" -ge 19000 ]]; then
  echo "ok: --max-names 500 held $names names ($recv in the receive table), dropped $dropped"
else
  echo "FAIL: --max-names 500: names=$names receive table=$recv dropped=$dropped"; cat "$work/stats.txt"; rc=1
fi
exit $rc
