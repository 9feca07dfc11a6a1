#!/usr/bin/env bash
# A real Graphite carbon-cache (Debian graphite-carbon) on 127.0.0.1 with all
# state in DIR, for tests. Prints its PID once the line receiver accepts.
#   carbon.sh start DIR LINE_PORT PICKLE_PORT QUERY_PORT
#   carbon.sh stop PID
# Storage: 1s:6h,10s:7d,60s:90d; MAX_CREATES_PER_MINUTE = inf (the default 50
# silently delays new metrics); USER empty (no chown to _graphite).
set -euo pipefail
case "${1:-}" in
  start)
    dir="$2"; line="$3"; pickle="$4"; query="$5"
    mkdir -p "$dir/whisper" "$dir/log" "$dir/run"
    cat >"$dir/carbon.conf" <<CONF
[cache]
STORAGE_DIR = $dir
LOCAL_DATA_DIR = $dir/whisper
WHITELISTS_DIR = $dir
CONF_DIR = $dir
LOG_DIR = $dir/log
PID_DIR = $dir/run
USER =
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = inf
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = $line
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = $pickle
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = $query
LOG_LISTENER_CONNECTIONS = False
ENABLE_TAGS = False
CONF
    cat >"$dir/storage-schemas.conf" <<CONF
[default]
pattern = .*
retentions = 1s:6h,10s:7d,60s:90d
CONF
    : >"$dir/storage-aggregation.conf"
    carbon-cache --config="$dir/carbon.conf" --nodaemon --pidfile="$dir/run/carbon.pid" start \
      >"$dir/log/stdout.log" 2>&1 </dev/null &
    pid=$!
    for _ in $(seq 200); do
      if python3 -c "import socket,sys;socket.create_connection(('127.0.0.1',$line),0.2)" 2>/dev/null; then
        echo "$pid"; exit 0
      fi
      kill -0 "$pid" 2>/dev/null || { cat "$dir/log/stdout.log" >&2; exit 1; }
      sleep 0.1
    done
    echo "carbon-cache did not start" >&2; exit 1
    ;;
  stop)
    kill "$2" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$2" 2>/dev/null || exit 0; sleep 0.1; done
    kill -9 "$2" 2>/dev/null || true
    ;;
  *) echo "usage: $0 start DIR LINE_PORT PICKLE_PORT QUERY_PORT | stop PID" >&2; exit 2 ;;
esac
