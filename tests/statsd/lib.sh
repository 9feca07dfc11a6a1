# Scaffolding shared by the statsd integration tests that run the real
# reference statsd beside stopgap (compat, backends, proxy): paths, a work
# directory removed on exit (KEEP_WORK=1 keeps it), background processes
# killed on exit, free loopback ports and Graphite sinks.
#   . "$(dirname "$0")/lib.sh"; statsd_test_init NAME
# Sourced, not run; bash only.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="${STOPGAP_SRC:-$(cd "$here/../.." && pwd)}"
bin="${STOPGAP_BIN:?STOPGAP_BIN must point at the stopgap binary}"
pids=()

statsd_test_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ "${KEEP_WORK:-0}" != 1 ]]; then rm -rf "$work"; fi
}

# statsd_test_init NAME: $work under /tmp, cleaned up on exit.
statsd_test_init() {
  work="$(mktemp -d "/tmp/stopgap-statsd-$1.XXXXXX")"
  trap statsd_test_cleanup EXIT
}

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
free_udp_port() { python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# start_sink FILE [pickle]: a Graphite receiver (plaintext, or the pickle
# protocol) writing every flush to FILE; its port is written to FILE.port.
start_sink() {
  local out="$1" sink="graphite_sink.py"
  [[ "${2:-text}" == pickle ]] && sink="pickle_sink.py"
  python3 "$here/$sink" "$out" >"$out.port" 2>/dev/null </dev/null &
  pids+=($!)
  for _ in $(seq 100); do [[ -s "$out.port" ]] && break; sleep 0.05; done
}
