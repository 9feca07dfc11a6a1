#!/usr/bin/env bash
# Compatibility: the same corpus (compat_corpus.py) goes to the reference
# statsd 0.9.0 (from npm) and to `stopgap statsd`, each flushing to its own
# Graphite sink; the flushed lines must be identical apart from timestamps and
# the values of timing metrics (processing/calculation/flush times), in both
# legacyNamespace modes and with prefixes, percentiles and histograms set.
# Modes "legacy", "everykey" and "example" start stopgap with `--config` on
# the very config.js the reference reads (only the listen and Graphite
# addresses are overridden by flags, so the two do not collide), which tests
# the config.js reader end to end; "example" is the npm package's own
# exampleConfig.js with its host and ports substituted; "everykey" uses the
# pickle protocol into pickle_sink.py, which checks the reference's exact
# pickle bytes for both servers.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
statsd_test_init compat
pkg="$("$src/scripts/services/reference-statsd.sh" install)"

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

# run_mode LABEL SINK CONFIG STOPGAP_FLAGS...: CONFIG is the reference's
# config.js with @UDP@ @MGMT@ @GRAPHITE@ for its ports; "flags" in
# STOPGAP_FLAGS[0] starts stopgap from flags alone, "config" from the same file.
run_mode() {
  local label="$1" sink="$2" conf="$3" how="$4"; shift 4
  local d="$work/$label"; mkdir -p "$d"
  local gref gsg uref usg mref
  start_sink "$d/ref.out" "$sink"; gref="$(cat "$d/ref.out.port")"
  start_sink "$d/sg.out" "$sink"; gsg="$(cat "$d/sg.out.port")"
  uref="$(free_udp_port)"; usg="$(free_udp_port)"; mref="$(free_port)"
  printf '%s\n' "$conf" | sed -e "s/@UDP@/$uref/g" -e "s/@MGMT@/$mref/g" -e "s/@GRAPHITE@/$gref/g" \
    >"$d/ref.js"
  (cd "$pkg" && exec node stats.js "$d/ref.js" >"$d/ref.log" 2>&1) &
  pids+=($!)
  local from=()
  [[ "$how" == config ]] && from=(--config "$d/ref.js")
  "$bin" statsd "${from[@]}" --udp "127.0.0.1:$usg" --admin "" --graphite "127.0.0.1:$gsg" \
    --receivers 1 "$@" >"$d/sg.log" 2>&1 &
  pids+=($!)
  python3 "$here/compat_send.py" "127.0.0.1:$uref" "$d/ref.out" 40 &
  local s1=$!
  python3 "$here/compat_send.py" "127.0.0.1:$usg" "$d/sg.out" 40 &
  local s2=$!
  wait $s1; wait $s2
  local rc=0
  if grep -q MALFORMED "$d/ref.out" "$d/sg.out"; then
    echo "FAIL [$label] a payload broke the format:"; grep -H MALFORMED "$d/ref.out" "$d/sg.out"
    rc=1
  fi
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

common='port: @UDP@, address: "127.0.0.1", mgmt_port: @MGMT@, mgmt_address: "127.0.0.1",
  graphiteHost: "127.0.0.1", graphitePort: @GRAPHITE@, graphitePicklePort: @GRAPHITE@,
  flushInterval: 2000, automaticConfigReload: false,'
rc=0
run_mode legacy text "{ $common
  percentThreshold: [90, 50, -10, 99.9],
  histogram: [ { metric: 'render', bins: [ 0.01, 0.1, 1, 10, 'inf' ] } ],
  graphite: { legacyNamespace: true } }" config || rc=1
run_mode modern text "{ $common
  percentThreshold: [90, 50, -10, 99.9],
  histogram: [ { metric: 'render', bins: [ 0.01, 0.1, 1, 10, 'inf' ] } ],
  graphite: { legacyNamespace: false, globalPrefix: 'pfx', prefixCounter: 'cnt', prefixTimer: '', globalSuffix: 'host1' } }" \
  flags --flush-interval 2s --percentiles 90,50,-10,99.9 --histogram 'render=0.01,0.1,1,10,inf' \
  --legacy-namespace false --global-prefix pfx --prefix-counter cnt --prefix-timer "" \
  --global-suffix host1 || rc=1
# Every key the reference reads, in the reference's own file syntax (comments,
# single quotes, trailing commas), with the pickle protocol.
run_mode everykey pickle "/* every key */ {
  $common
  // listeners and backends
  servers: [ { server: './servers/udp', address: '127.0.0.1', port: @UDP@ }, ],
  backends: [ './backends/graphite' ],
  graphiteProtocol: 'pickle',
  percentThreshold: [ 95, -5, ],
  histogram: [ { metric: 't.', bins: [ 1, 100, 'inf' ] }, { metric: '', bins: [] } ],
  calculatedTimerMetrics: [ 'count', 'count_ps', 'upper_percent', 'mean', 'median', 'histogram', 'sum_percent' ],
  deleteIdleStats: true, deleteGauges: false, gaugesMaxTTL: 2,
  prefixStats: 'sd', flush_counts: true, keyNameSanitize: true, healthStatus: 'up',
  debug: false, dumpMessages: false, title: false, log: { backend: 'stdout' },
  graphite: { legacyNamespace: false, globalPrefix: 'pfx', prefixCounter: 'cnt',
              prefixTimer: 'tm', prefixGauge: 'gg', prefixSet: 'st', globalSuffix: 'h1', },
}" config || rc=1
# The npm package's exampleConfig.js, verbatim apart from host and ports.
example="$(sed -e 's/graphitePort: 2003/graphitePort: @GRAPHITE@/' \
  -e 's/"graphite.example.com"/"127.0.0.1"/' \
  -e 's/^, port: 8125$/, port: @UDP@, address: "127.0.0.1", mgmt_port: @MGMT@, mgmt_address: "127.0.0.1", flushInterval: 2000/' \
  "$pkg/exampleConfig.js")"
grep -q '@MGMT@' <<<"$example" || { echo "FAIL: exampleConfig.js changed shape"; exit 1; }
run_mode example text "$example" config || rc=1
exit $rc
