#!/usr/bin/env bash
# Compatibility: the same corpus (compat_corpus.py) goes to the reference
# statsd 0.9.0 (from npm) and to `stopgap statsd`, each flushing to its own
# Graphite sink; the flushed lines must be identical apart from timestamps and
# the values of timing metrics (processing/calculation/flush times), in both
# legacyNamespace modes and with prefixes, percentiles and histograms set.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="${STOPGAP_SRC:-$(cd "$here/../.." && pwd)}"
bin="${STOPGAP_BIN:?STOPGAP_BIN must point at the stopgap binary}"
work="$(mktemp -d /tmp/stopgap-statsd-compat.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ "${KEEP_WORK:-0}" != 1 ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT

pkg="$("$src/scripts/services/reference-statsd.sh" install)"
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
free_udp_port() { python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

start_sink() {  # $1 file; its port is written to $1.port
  local out="$1"
  python3 "$here/graphite_sink.py" "$out" >"$out.port" 2>/dev/null </dev/null &
  pids+=($!)
  for _ in $(seq 100); do [[ -s "$out.port" ]] && break; sleep 0.05; done
}

# Normalise: drop timestamps; mask values of timing metrics; sort.
normalise() {
  python3 - "$1" "$2" <<'PY'
import re, sys
data = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
flushes = data.split("#END\n")
want = int(sys.argv[2])
if len(flushes) <= want:
    sys.exit("sink has only %d flushes" % (len(flushes) - 1))
volatile = re.compile(r"(processing_time|calculationtime|graphiteStats\.(last_flush|last_exception|flush_time|flush_length)|timestamp_lag)")
out = []
for line in flushes[want].splitlines():
    parts = line.rsplit(" ", 2)
    if len(parts) != 3:
        out.append("MALFORMED " + line); continue
    name, value, _ts = parts
    if volatile.search(name):
        value = "*"
    out.append(name + " " + value)
print("\n".join(sorted(out)))
PY
}

run_mode() {  # $1 label, $2 reference graphite JS object, $3.. stopgap flags
  local label="$1" refgraphite="$2"; shift 2
  local d="$work/$label"; mkdir -p "$d"
  local gref gsg uref usg mref
  start_sink "$d/ref.out"; gref="$(cat "$d/ref.out.port")"
  start_sink "$d/sg.out"; gsg="$(cat "$d/sg.out.port")"
  uref="$(free_udp_port)"; usg="$(free_udp_port)"; mref="$(free_port)"
  cat >"$d/ref.js" <<JS
{ port: $uref, address: "127.0.0.1", mgmt_port: $mref, mgmt_address: "127.0.0.1",
  graphiteHost: "127.0.0.1", graphitePort: $gref, flushInterval: 2000,
  percentThreshold: [90, 50, -10, 99.9], automaticConfigReload: false,
  histogram: [ { metric: "render", bins: [ 0.01, 0.1, 1, 10, "inf" ] } ],
  graphite: $refgraphite }
JS
  (cd "$pkg" && exec node stats.js "$d/ref.js" >"$d/ref.log" 2>&1) &
  pids+=($!)
  "$bin" statsd --udp "127.0.0.1:$usg" --admin "" --graphite "127.0.0.1:$gsg" \
    --flush-interval 2s --percentiles 90,50,-10,99.9 --receivers 1 \
    --histogram 'render=0.01,0.1,1,10,inf' "$@" >"$d/sg.log" 2>&1 &
  pids+=($!)
  python3 "$here/compat_send.py" "127.0.0.1:$uref" "$d/ref.out" 30 &
  local s1=$!
  python3 "$here/compat_send.py" "127.0.0.1:$usg" "$d/sg.out" 30 &
  local s2=$!
  wait $s1; wait $s2
  local rc=0
  for flush in 1 2; do
    normalise "$d/ref.out" $flush >"$d/ref.$flush.txt"
    normalise "$d/sg.out" $flush >"$d/sg.$flush.txt"
    if ! diff -u "$d/ref.$flush.txt" "$d/sg.$flush.txt" >"$d/diff.$flush.txt"; then
      echo "FAIL [$label] flush $flush differs (reference -, stopgap +):"
      cat "$d/diff.$flush.txt"
      rc=1
    else
      echo "ok   [$label] flush $flush: $(wc -l <"$d/ref.$flush.txt") lines identical"
    fi
  done
  return $rc
}

rc=0
run_mode legacy "{ legacyNamespace: true }" || rc=1
run_mode modern '{ legacyNamespace: false, globalPrefix: "pfx", prefixCounter: "cnt", prefixTimer: "", globalSuffix: "host1" }' \
  --legacy-namespace false --global-prefix pfx --prefix-counter cnt --prefix-timer "" \
  --global-suffix host1 || rc=1
exit $rc
