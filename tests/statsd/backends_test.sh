#!/usr/bin/env bash
# The console and repeater backends, with the real reference statsd 0.9.0 as
# the receiver: stopgap statsd forwards every packet it receives (UDP, and TCP
# with repeaterProtocol tcp, set from a config.js) to the reference, whose own
# Graphite flushes must then hold exactly what was sent — good lines and bad
# lines alike — and stopgap's console backend prints its flushes to stdout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
statsd_test_init backends
pkg="$("$src/scripts/services/reference-statsd.sh" install)"
# sum_of FILE NAME: the sum of NAME's values over every flush in a sink file.
sum_of() {
  python3 - "$1" "$2" <<'PY'
import sys
total = 0.0
try:
    for line in open(sys.argv[1], "rb").read().decode("utf-8", "replace").splitlines():
        p = line.rsplit(" ", 2)
        if len(p) == 3 and p[0] == sys.argv[2]:
            total += float(p[1])
except FileNotFoundError:
    pass
print(int(total) if total == int(total) else total)
PY
}
# wait_sum FILE NAME WANT: until the sum reaches WANT (20 s at most).
wait_sum() {
  local got=""
  for _ in $(seq 200); do
    got="$(sum_of "$1" "$2")"
    [[ "$got" == "$3" ]] && { echo "ok: $2 = $3 in the reference's flushes"; return 0; }
    sleep 0.1
  done
  echo "FAIL: $2 = $got in the reference's flushes, expected $3"; return 1
}
send() {  # PORT REPEAT: REPEAT packets of 3 good lines + 1 bad line, then one set packet
  python3 - "$1" "$2" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[2])):
    s.sendto(b"rep.hits:1|c\nrep.hits:2|c|@0.5\nrep.lat:%d|ms\nrep.garbage" % i, ("127.0.0.1", int(sys.argv[1])))
    if i % 10 == 9:
        time.sleep(0.005)  # the reference (node) drops a burst past its socket buffer
s.sendto(b"rep.users:alice|s\nrep.users:bob|s", ("127.0.0.1", int(sys.argv[1])))
PY
}
start_reference() {  # DIR SERVER(udp|tcp) -> sets ref_port
  local d="$1" kind="$2" g m
  mkdir -p "$d"; start_sink "$d/ref.out"; g="$(cat "$d/ref.out.port")"
  if [[ "$kind" == udp ]]; then ref_port="$(free_udp_port)"; else ref_port="$(free_port)"; fi
  m="$(free_port)"
  cat >"$d/ref.js" <<JS
{ servers: [ { server: "./servers/$kind", address: "127.0.0.1", port: $ref_port } ],
  mgmt_port: $m, mgmt_address: "127.0.0.1", graphiteHost: "127.0.0.1", graphitePort: $g,
  flushInterval: 1000, automaticConfigReload: false }
JS
  (cd "$pkg" && exec node stats.js "$d/ref.js" >"$d/ref.log" 2>&1) &
  pids+=($!)
  for _ in $(seq 100); do grep -q "server is up" "$d/ref.log" 2>/dev/null && break; sleep 0.05; done
}
rc=0
n=400

# 1. UDP repeater and console from flags.
start_reference "$work/udp" udp
usg="$(free_udp_port)"
"$bin" statsd --udp "127.0.0.1:$usg" --admin "" --receivers 1 --flush-interval 1s \
  --repeat "127.0.0.1:$ref_port" --console --log-level warn >"$work/udp/sg.stdout" 2>"$work/udp/sg.log" &
pids+=($!)
sleep 0.3
send "$usg" "$n"
wait_sum "$work/udp/ref.out" stats_counts.rep.hits $((n * 5)) || rc=1
wait_sum "$work/udp/ref.out" stats_counts.statsd.bad_lines_seen "$n" || rc=1
wait_sum "$work/udp/ref.out" stats.timers.rep.lat.count "$n" || rc=1
wait_sum "$work/udp/ref.out" stats.sets.rep.users.count 2 || rc=1
# The console backend: stopgap's own flushes on its stdout.
if grep -q "^Flushing stats at  " "$work/udp/sg.stdout" &&
   wait_sum "$work/udp/sg.stdout" stats_counts.rep.hits $((n * 5)) >/dev/null; then
  echo "ok: console printed the flushes (stats_counts.rep.hits $((n * 5)))"
else
  echo "FAIL: console output:"; head -20 "$work/udp/sg.stdout"; rc=1
fi

# 2. TCP repeater (repeaterProtocol: 'tcp') and console, from a config.js;
# the reference receives on its TCP server.
start_reference "$work/tcp" tcp
usg="$(free_udp_port)"
cat >"$work/tcp/sg.js" <<JS
// stopgap reads the reference's config file as is
{ port: $usg, address: '127.0.0.1', mgmt_port: 0, mgmt_address: '127.0.0.1',
  backends: [ './backends/repeater', './backends/console', ],
  repeater: [ { host: '127.0.0.1', port: $ref_port } ], repeaterProtocol: 'tcp',
  flushInterval: 1000, }
JS
"$bin" statsd --config "$work/tcp/sg.js" --receivers 1 --log-level warn \
  >"$work/tcp/sg.stdout" 2>"$work/tcp/sg.log" &
pids+=($!)
sleep 0.3
send "$usg" "$n"
wait_sum "$work/tcp/ref.out" stats_counts.rep.hits $((n * 5)) || rc=1
wait_sum "$work/tcp/ref.out" stats_counts.statsd.bad_lines_seen "$n" || rc=1
wait_sum "$work/tcp/ref.out" stats.sets.rep.users.count 2 || rc=1
grep -q "^Flushing stats at  " "$work/tcp/sg.stdout" && echo "ok: console from config.js" ||
  { echo "FAIL: no console output from config.js backends"; rc=1; }
exit $rc
