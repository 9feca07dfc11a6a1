#!/usr/bin/env bash
# `stopgap statsd -c FILE` and SIGHUP: the file is re-read and its flush
# settings apply to the next flush (percentiles 90 -> 50), a flag given on the
# command line still wins over the file, and a broken file keeps the running
# configuration. Real binary, real Graphite sink (tests/statsd/graphite_sink.py).
set -euo pipefail
bin="${STOPGAP_BIN:?}"
src="${STOPGAP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}"
work="$(mktemp -d /tmp/stopgap-sighup.XXXXXX)"
spid="" kpid=""
trap 'kill $spid $kpid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
python3 "$src/tests/statsd/graphite_sink.py" "$work/sink" >"$work/sink.port" 2>/dev/null </dev/null &
kpid=$!
for _ in $(seq 100); do [[ -s "$work/sink.port" ]] && break; sleep 0.05; done
gp="$(cat "$work/sink.port")"
up="$(python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])')"
cat >"$work/statsd.yaml" <<YAML
udp: 127.0.0.1:$up
admin: ""
graphite: 127.0.0.1:$gp
flush_interval: 500ms
percent_threshold: [90]
global_prefix: fromfile
YAML
"$bin" statsd -c "$work/statsd.yaml" --global-prefix fromflag --legacy-namespace false \
  --log-level info 2>"$work/server.log" &
spid=$!
send() { python3 -c 'import socket,sys;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.sendto(sys.argv[2].encode(),("127.0.0.1",int(sys.argv[1])))' "$up" "$1"; }
wait_for() {  # pattern
  for _ in $(seq 100); do grep -q "$1" "$work/sink" 2>/dev/null && return 0; sleep 0.05; done
  echo "FAIL: no '$1' in the flushes"; cat "$work/sink"; cat "$work/server.log"; exit 1
}
sleep 0.3
send "t:1|ms
t:2|ms
t:3|ms
t:4|ms"
wait_for '^fromflag.timers.t.upper_90 4 '
sed -i 's/percent_threshold: \[90\]/percent_threshold: [50]/' "$work/statsd.yaml"
kill -HUP "$spid"
for _ in $(seq 100); do grep -q "configuration reloaded" "$work/server.log" && break; sleep 0.05; done
send "u:1|ms
u:2|ms
u:3|ms
u:4|ms"
wait_for '^fromflag.timers.u.upper_50 2 '
if grep -q '^fromfile' "$work/sink"; then echo "FAIL: the flag lost to the file"; exit 1; fi
# A broken file: logged, the running settings stay.
echo "percent_threshold: [oops" >>"$work/statsd.yaml"
kill -HUP "$spid"
for _ in $(seq 100); do grep -q "configuration not reloaded" "$work/server.log" && break; sleep 0.05; done
grep -q "configuration not reloaded" "$work/server.log" || { echo "FAIL: no error logged"; exit 1; }
send "v:1|ms
v:2|ms"
wait_for '^fromflag.timers.v.upper_50 1 '
kill -TERM "$spid"
wait "$spid"
spid=""
echo "ok: SIGHUP reloads the flush settings, flags win, a bad file is refused"
