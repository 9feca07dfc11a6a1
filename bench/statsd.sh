#!/usr/bin/env bash
# StatsD benchmark (make bench): stopgap statsd vs the reference statsd 0.9.0
# (npm) vs a recvmmsg drain loop, side by side in one run. Server pinned to
# CPU 1, load generator (sendmmsg, paced, bounded) to CPU 0; 20 counter lines
# per datagram, 1,000 distinct names; a Graphite sink sums the flushed
# stats_counts.* so loss = 1 - flushed/sent. CPU per metric from
# /proc/PID/stat (utime+stime) over the run. Medians of $REPS runs.
# Then memory per name and flush time at 1M names (stopgap).
#   STOPGAP_BUILD=build-x bench/statsd.sh     (REPS=3 SECS=5 by default)
#   STOPGAP_RATES="1000000 0" REF_RATES=" " SKIP_MILLION=1 ... for a subset ("0" = max rate)
# Peers statsite and brubeck run when STATSITE_BIN / BRUBECK_BIN name their
# binaries (built from their public sources: docs/benchmarks.md, 'Building the peers'), at
# PEER_RATES (default: STOPGAP_RATES); skipped with a message otherwise. The
# drain loop is the floor. STOPGAP_STATSD_FLAGS adds flags to the stopgap
# server of the rate runs (e.g. "--receive-nap-us 0": no nap, as the drain).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${STOPGAP_BUILD:-$root/build}"
bin="$build/stopgap"
lg="$build/bench/statsd_loadgen"
drain="$build/bench/statsd_drain"
REPS="${REPS:-3}"
SECS="${SECS:-5}"
STOPGAP_RATES="${STOPGAP_RATES:-1000000 3000000 5000000 0}"
REF_RATES="${REF_RATES:-100000 300000 600000}"
PEER_RATES="${PEER_RATES:-$STOPGAP_RATES}"
STATSITE_BIN="${STATSITE_BIN:-}"
BRUBECK_BIN="${BRUBECK_BIN:-}"
for f in "$bin" "$lg" "$drain"; do [[ -x "$f" ]] || { echo "missing $f (build the stopgap, statsd_loadgen, statsd_drain targets)"; exit 1; }; done
work="$(mktemp -d /tmp/stopgap-statsd-bench.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
refpkg="$("$root/scripts/services/reference-statsd.sh" install)"
tck="$(getconf CLK_TCK)"
port_udp() { python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
rss_kb() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
rcvbuf_errors() { awk '/^Udp:/{if(!h){for(i=1;i<=NF;i++)n[$i]=i;h=1}else print $n["RcvbufErrors"]}' /proc/net/snmp; }

start_sink() {  # sets sink_pid (run_one runs in a subshell: it kills its own sink)
  : >"$1"
  python3 "$root/tests/statsd/graphite_sink.py" "$1" >"$1.port" 2>/dev/null </dev/null &
  sink_pid=$!
  pids+=($sink_pid)
  for _ in $(seq 100); do [[ -s "$1.port" ]] && break; sleep 0.05; done
}
flushed_sum() {  # file kind: the flushed per-interval counts of the bench.* counters
  case "$2" in
    statsite) awk -F'|' '$1 ~ /^counts\.bench\./ {s+=$2} END {printf "%d", s}' "$1" ;;
    brubeck) awk '$1 ~ /^bench\./ {s+=$2} END {printf "%d", s}' "$1" ;;
    *) awk '$1 ~ /^stats_counts\.bench\./ {s+=$2} END {printf "%d", s}' "$1" ;;
  esac
}

# run_one KIND RATE -> "offered sent flushed cpu_s rss_kb rcvbuf_drops"
run_one() {
  local kind="$1" rate="$2" d="$work/$1.$2.$RANDOM" sink_pid=""
  mkdir -p "$d"
  local up; up="$(port_udp)"
  local spid
  if [[ "$kind" == drain ]]; then
    taskset -c 1 "$drain" "$up" >"$d/drain.out" &
    spid=$!
  elif [[ "$kind" == statsite ]]; then
    # statsite streams each flush to a command: append it to the sink file.
    : >"$d/sink"
    printf '[statsite]\nport = 0\nudp_port = %s\nbind_address = 127.0.0.1\nudp_rcvbuf = 33554432\nflush_interval = 1\nstream_cmd = cat >> %s\nlog_level = ERROR\ndaemonize = 0\npid_file = %s\n' \
      "$up" "$d/sink" "$d/statsite.pid" >"$d/statsite.ini"
    taskset -c 1 "$STATSITE_BIN" -f "$d/statsite.ini" >"$d/server.log" 2>&1 &
    spid=$!
  elif [[ "$kind" == brubeck ]]; then
    start_sink "$d/sink"
    local bp; bp="$(cat "$d/sink.port")"
    # One worker, recvmsg (its multimsg option walks the whole batch: a known bug).
    echo "{\"sharding\": false, \"server_name\": \"brubeck\", \"dumpfile\": \"$d/brubeck.dump\", \"capacity\": 15, \"expire\": 20, \"backends\": [{\"type\": \"carbon\", \"address\": \"127.0.0.1\", \"port\": $bp, \"frequency\": 1}], \"samplers\": [{\"type\": \"statsd\", \"address\": \"127.0.0.1\", \"port\": $up, \"workers\": 1, \"multisock\": false}]}" >"$d/brubeck.json"
    taskset -c 1 "$BRUBECK_BIN" --config "$d/brubeck.json" >"$d/server.log" 2>&1 &
    spid=$!
  else
    start_sink "$d/sink"
    local gp; gp="$(cat "$d/sink.port")"
    if [[ "$kind" == stopgap ]]; then
      taskset -c 1 "$bin" statsd --udp "127.0.0.1:$up" --admin "" --graphite "127.0.0.1:$gp" \
        --flush-interval 1s --receivers 1 --log-level warn ${STOPGAP_STATSD_FLAGS:-} 2>"$d/server.log" &
      spid=$!
    else
      echo "{ port: $up, address: \"127.0.0.1\", mgmt_port: 0, mgmt_address: \"127.0.0.1\", graphiteHost: \"127.0.0.1\", graphitePort: $gp, flushInterval: 1000, automaticConfigReload: false }" >"$d/ref.js"
      (cd "$refpkg" && exec taskset -c 1 node stats.js "$d/ref.js" >"$d/server.log" 2>&1) &
      spid=$!
    fi
  fi
  pids+=($spid)
  sleep 1.5
  local c0 e0; c0="$(cpu_ticks $spid)"; e0="$(rcvbuf_errors)"
  local out; out="$(taskset -c 0 "$lg" --port "$up" --rate "$rate" --seconds "$SECS" --names 1000 --per-packet 20)"
  sleep 0.5
  local c1 e1 rss; c1="$(cpu_ticks $spid)"; e1="$(rcvbuf_errors)"; rss="$(rss_kb $spid)"
  local sent offered; sent="$(python3 -c "import json,sys;print(json.loads(sys.argv[1])['metrics'])" "$out")"
  offered="$(python3 -c "import json,sys;print(int(json.loads(sys.argv[1])['offered_per_s']))" "$out")"
  local got
  if [[ "$kind" == drain ]]; then
    kill -TERM $spid; wait $spid 2>/dev/null || true
    got=$(( $(python3 -c "import json;print(json.load(open('$d/drain.out'))['packets'])") * 20 ))
  else
    sleep 2.2  # two more flushes
    kill -TERM $spid; wait $spid 2>/dev/null || true
    got="$(flushed_sum "$d/sink" "$kind")"
    [[ -n "${sink_pid:-}" ]] && kill "$sink_pid" 2>/dev/null || true
  fi
  echo "$offered $sent $got $(( c1 - c0 )) $rss $(( e1 - e0 ))"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2)? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

report_rows=()
declare -A med_cpu med_loss med_off
bench_kind() {  # kind rates...
  local kind="$1"; shift
  for rate in "$@"; do
    local offs=() losses=() cpus=() cpups=() rsss=() drops=()
    for r in $(seq "$REPS"); do
      read -r offered sent got ticks rss rdrop < <(run_one "$kind" "$rate")
      local loss cpu
      loss="$(python3 -c "print(max(0.0, 1 - $got / $sent) * 100 if $sent else 0)")"
      cpu="$(python3 -c "print($ticks / $tck * 1e6 / $sent if $sent else 0)")"
      cpup="$(python3 -c "print($ticks / $tck * 1e6 / $got if $got else 0)")"
      echo "  $kind rate=$rate run=$r offered=$offered/s sent=$sent flushed=$got loss=${loss}% cpu=${cpu}us/metric rss=${rss}kB rcvbuf_drops=$rdrop" >&2
      offs+=("$offered"); losses+=("$loss"); cpus+=("$cpu"); cpups+=("$cpup"); rsss+=("$rss"); drops+=("$rdrop")
    done
    local mo ml mc mcp mr md
    mo="$(printf '%s\n' "${offs[@]}" | median)"; ml="$(printf '%s\n' "${losses[@]}" | median)"
    mc="$(printf '%s\n' "${cpus[@]}" | median)"; mcp="$(printf '%s\n' "${cpups[@]}" | median)"; mr="$(printf '%s\n' "${rsss[@]}" | median)"
    md="$(printf '%s\n' "${drops[@]}" | median)"
    med_cpu[$kind:$rate]="$mc"; med_loss[$kind:$rate]="$ml"; med_off[$kind:$rate]="$mo"
    report_rows+=("| $kind | $( [[ $rate == 0 ]] && echo max || echo "$rate" ) | $(printf '%.0f' "$mo") | $(printf '%.3f' "$ml") % [$(printf '%s ' "${losses[@]}" | xargs printf '%.2f ')] | $(printf '%.3f' "$mc") | $(printf '%.3f' "$mcp") | $(( ${mr%.*} / 1024 )) MiB | $md |")
  done
}

echo "== statsd bench: $REPS runs x ${SECS}s per point; server on CPU 1, load on CPU 0" >&2
bench_kind drain 0
bench_kind stopgap $STOPGAP_RATES
bench_kind reference $REF_RATES
if [[ -n "$STATSITE_BIN" && -x "$STATSITE_BIN" ]]; then
  bench_kind statsite $PEER_RATES
else
  echo "== statsite skipped: set STATSITE_BIN to a statsite binary (docs/benchmarks.md, 'Building the peers')" >&2
fi
if [[ -n "$BRUBECK_BIN" && -x "$BRUBECK_BIN" ]]; then
  bench_kind brubeck $PEER_RATES
else
  echo "== brubeck skipped: set BRUBECK_BIN to a brubeck binary (docs/benchmarks.md, 'Building the peers')" >&2
fi

echo
echo "| server | target rate (metrics/s) | offered (median) | loss (median) [runs] | CPU µs per sent metric (median) | CPU µs per flushed metric | RSS | kernel RcvbufErrors (median) |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${report_rows[@]}"
echo
for k in stopgap statsite brubeck reference; do
  for key in "${!med_cpu[@]}"; do
    [[ "$key" == "$k:"* ]] || continue
    r="${key#*:}"
    python3 -c "import sys;k,r,c,f,l,o=sys.argv[1:];print('%s at %s: %.3f us/metric = %.2fx the drain floor (%.3f), %.2f M/s offered, loss %.3f %%' % (k, 'max rate' if r == '0' else r + '/s', float(c), float(c) / float(f), float(f), float(o) / 1e6, float(l)))" \
      "$k" "$r" "${med_cpu[$key]}" "${med_cpu[drain:0]}" "${med_loss[$key]}" "${med_off[$key]}"
  done
done

# 1M distinct names: memory per name and flush time (stopgap).
[[ "${SKIP_MILLION:-0}" == 1 ]] && exit 0
echo >&2 "== 1M names"
d="$work/million"; mkdir -p "$d"
up="$(port_udp)"; start_sink "$d/sink"; gp="$(cat "$d/sink.port")"
taskset -c 1 "$bin" statsd --udp "127.0.0.1:$up" --admin "" --graphite "127.0.0.1:$gp" \
  --flush-interval 10s --receivers 1 --log-level warn 2>"$d/server.log" &
spid=$!; pids+=($spid)
sleep 1
rss0="$(rss_kb $spid)"
taskset -c 0 "$lg" --port "$up" --rate 200000 --seconds 30 --names 1000000 --per-packet 20 --once >"$d/lg.json"
sleep 0.5
rss1="$(rss_kb $spid)"
for _ in $(seq 300); do grep -q "stats.statsd.processing_time" "$d/sink" 2>/dev/null && break; sleep 0.1; done
for _ in $(seq 300); do [[ "$(grep -c '^#END' "$d/sink")" -ge 2 ]] && break; sleep 0.1; done
rss2="$(rss_kb $spid)"
names_flushed="$(awk '$1 ~ /^stats_counts\.bench\./ && $2 > 0 {seen[$1]=1} END {print length(seen)}' "$d/sink")"
proc_ms="$(awk '$1=="stats.statsd.processing_time"{v=$2} END{print v}' "$d/sink")"
calc_ms="$(awk '$1=="stats.statsd.graphiteStats.calculationtime"{v=$2} END{print v}' "$d/sink")"
ft_ms="$(awk '$1=="stats.statsd.graphiteStats.flush_time"{v=$2} END{print v}' "$d/sink")"
fl="$(awk '$1=="stats.statsd.graphiteStats.flush_length"{v=$2} END{print v}' "$d/sink")"
# Steady state: the same names again in two later intervals, so that both of
# the receive thread's tables (live and spare, swapped at each flush) hold them.
for round in 2 3; do
  taskset -c 0 "$lg" --port "$up" --rate 200000 --seconds 30 --names 1000000 --per-packet 20 --once >"$d/lg$round.json"
  ends="$(grep -c '^#END' "$d/sink")"
  for _ in $(seq 400); do [[ "$(grep -c '^#END' "$d/sink")" -gt $ends ]] && break; sleep 0.1; done
done
rss3="$(rss_kb $spid)"
proc2_ms="$(awk '$1=="stats.statsd.processing_time"{v=$2} END{print v}' "$d/sink")"
kill -TERM $spid; wait $spid 2>/dev/null || true
echo
echo "| 1M names (stopgap) | value |"
echo "| --- | --- |"
echo "| names seen in the flush | $names_flushed |"
echo "| RSS before / after intake / after flush | $((rss0/1024)) / $((rss1/1024)) / $((rss2/1024)) MiB |"
echo "| memory per name (after flush - before) | $(( (rss2 - rss0) * 1024 / 1000000 )) bytes |"
echo "| steady state: RSS after the same names in two later intervals | $((rss3/1024)) MiB = $(( (rss3 - rss0) * 1024 / 1000000 )) bytes per name |"
echo "| flush: merge+render (processing_time / calculationtime) | $proc_ms / $calc_ms ms (steady state: $proc2_ms ms) |"
echo "| flush: previous payload write to the sink (flush_time, flush_length) | $ft_ms ms, $fl bytes (previous flush) |"
