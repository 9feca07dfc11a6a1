#!/usr/bin/env bash
# The reference StatsD (etsy/statsd 0.9.0 from npm) for compatibility tests and
# benchmarks. Never committed: installed into a cache dir outside the tree.
#   reference-statsd.sh install            -> prints the statsd package dir
#   reference-statsd.sh start CONFIG.js LOG -> starts it in the background, prints its PID
#   reference-statsd.sh stop PID
# Cache dir: $STOPGAP_STATSD_REF_DIR (default /tmp/stopgap-statsd-ref-0.9.0).
set -euo pipefail
dir="${STOPGAP_STATSD_REF_DIR:-/tmp/stopgap-statsd-ref-0.9.0}"
cmd="${1:-}"
case "$cmd" in
  install)
    if [[ ! -f "$dir/node_modules/statsd/stats.js" ]]; then
      mkdir -p "$dir"
      (cd "$dir" && npm install --no-audit --no-fund --ignore-scripts --silent statsd@0.9.0 >&2)
    fi
    echo "$dir/node_modules/statsd"
    ;;
  start)
    pkg="$("$0" install)"
    conf="$2"
    log="$3"
    (cd "$pkg" && exec node stats.js "$conf" >"$log" 2>&1) &
    echo $!
    ;;
  stop)
    kill "$2" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$2" 2>/dev/null || exit 0; sleep 0.1; done
    kill -9 "$2" 2>/dev/null || true
    ;;
  *)
    echo "usage: $0 install | start CONFIG.js LOG | stop PID" >&2
    exit 2
    ;;
esac
