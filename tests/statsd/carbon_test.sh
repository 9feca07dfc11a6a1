#!/usr/bin/env bash
# stopgap statsd flushing into a real carbon-cache; the stored values are read
# back with whisper-fetch: a counter's count, a gauge, a timer's upper. A
# second stopgap statsd flushes with the pickle protocol (graphiteProtocol:
# "pickle", from a config.js) into carbon's pickle receiver; carbon must then
# hold those series too.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="${STOPGAP_SRC:-$(cd "$here/../.." && pwd)}"
bin="${STOPGAP_BIN:?}"
work="$(mktemp -d /tmp/stopgap-carbon.XXXXXX)"
cpid=""; spid=""; ppid_=""
cleanup() {
  [[ -n "$spid" ]] && kill "$spid" 2>/dev/null || true
  [[ -n "$ppid_" ]] && kill "$ppid_" 2>/dev/null || true
  [[ -n "$cpid" ]] && "$src/scripts/services/carbon.sh" stop "$cpid" || true
  rm -rf "$work"
}
trap cleanup EXIT
ports=($(python3 -c '
import socket
ss=[socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1",0))
print(" ".join(str(s.getsockname()[1]) for s in ss))'))
udp="$(python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])')"
cpid="$("$src/scripts/services/carbon.sh" start "$work/carbon" "${ports[0]}" "${ports[1]}" "${ports[2]}")"
"$bin" statsd --udp "127.0.0.1:$udp" --admin "" --graphite "127.0.0.1:${ports[0]}" \
  --flush-interval 1s --receivers 1 --log-level warn &
spid=$!
udp2="$(python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])')"
cat >"$work/pickle.js" <<JS
{ port: $udp2, address: "127.0.0.1", mgmt_port: 0, mgmt_address: "127.0.0.1",
  graphiteHost: "127.0.0.1", graphitePicklePort: ${ports[1]}, graphiteProtocol: "pickle",
  flushInterval: 1000 }
JS
"$bin" statsd --config "$work/pickle.js" --receivers 1 --log-level warn &
ppid_=$!
sleep 0.3
python3 - "$udp" "$udp2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"carbontest.hits:3|c\ncarbontest.hits:4|c\ncarbontest.temp:21.5|g\ncarbontest.lat:10|ms\ncarbontest.lat:30|ms", ("127.0.0.1", int(sys.argv[1])))
s.sendto(b"carbonpickle.hits:5|c\ncarbonpickle.hits:6|c\ncarbonpickle.temp:-3.25|g\ncarbonpickle.lat:7|ms", ("127.0.0.1", int(sys.argv[2])))
PY
wsp="$work/carbon/whisper"
check() {  # file expected_value
  local f="$wsp/$1.wsp"
  for _ in $(seq 100); do
    if [[ -f "$f" ]] && whisper-fetch --from=$(( $(date +%s) - 120 )) "$f" | awk '$2 != "None"{print $2}' | grep -qx -- "$2"; then
      echo "ok: $1 = $2 (whisper)"; return 0
    fi
    sleep 0.1
  done
  echo "FAIL: $1: expected $2; have:"; [[ -f "$f" ]] && whisper-fetch --from=$(( $(date +%s) - 120 )) "$f" | awk '$2 != "None"'
  return 1
}
rc=0
check stats_counts/carbontest/hits 7.000000 || rc=1
check stats/gauges/carbontest/temp 21.500000 || rc=1
check stats/timers/carbontest/lat/upper 30.000000 || rc=1
check stats/timers/carbontest/lat/mean 20.000000 || rc=1
check stats_counts/carbonpickle/hits 11.000000 || rc=1
check stats/gauges/carbonpickle/temp -3.250000 || rc=1
check stats/timers/carbonpickle/lat/upper 7.000000 || rc=1
exit $rc
