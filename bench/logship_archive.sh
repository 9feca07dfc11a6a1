#!/usr/bin/env bash
# Benchmark: finding archived logs by date (issue #18) on a real single-node
# Swift 2.30 (scripts/services/swift.sh). A bulk loader (bench/archive_load.py,
# not the product) fills one container with HOSTS x LOGS x DAYS small objects
# under each key layout; then `stopgap logship ls` answers "one day, whole
# fleet" and "one month, whole fleet" with each layout (median wall time of
# RUNS, and the listing requests from --stats). Then `logship grep` over
# GREP_OBJECTS rotations of ~3 MB gzip'd logs vs zgrep on local copies of
# the same files (MB/s of compressed input).
#
#   bench/logship_archive.sh       # HOSTS=100 LOGS=3 DAYS=31 RUNS=3 by default (make bench)
#   DAYS=365 RUNS=5 bash bench/logship_archive.sh   # the issue's 109,500 objects per layout
#   HOSTS=100 LOGS=3 DAYS=60 bash bench/logship_archive.sh
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${STOPGAP_BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$SRC/$BUILD
BIN=${STOPGAP_BIN:-$BUILD/stopgap}
HOSTS=${HOSTS:-100} LOGS=${LOGS:-3} DAYS=${DAYS:-31} RUNS=${RUNS:-3}
THREADS=${THREADS:-4} GREP_OBJECTS=${GREP_OBJECTS:-30}
SWIFT_DIR_BASE=${SWIFT_DIR_BASE:-/dev/shm} LOADER=${LOADER:-rows}
[[ $LOADER == objects ]] && export SWIFT_WORKERS=${SWIFT_WORKERS:-2}
[[ -x $BIN ]] || { echo "bench: no stopgap binary at $BIN" >&2; exit 1; }

T=$(mktemp -d /var/tmp/logship_archive_bench.XXXXXX)
SW=$(mktemp -d "$SWIFT_DIR_BASE/logship_archive_swift.XXXXXX")
cleanup() {
  "$SRC/scripts/services/swift.sh" stop "$SW" >/dev/null 2>&1 || true
  rm -rf "$T" "$SW"
}
trap cleanup EXIT
"$SRC/scripts/services/swift.sh" start "$SW" >/dev/null
# shellcheck disable=SC1091
source "$SW/env"
hdrs=$(curl -s -D - -o /dev/null -H "X-Auth-User: $ST_USER" -H "X-Auth-Key: $ST_KEY" "$ST_AUTH" |
  tr -d '\r')
TOKEN=$(sed -n 's/^[Xx]-[Aa]uth-[Tt]oken: //p' <<<"$hdrs")
STORAGE=$(sed -n 's/^[Xx]-[Ss]torage-[Uu]rl: //p' <<<"$hdrs")
swift -q post arch

n=$((HOSTS * LOGS * DAYS))
echo "bench: loading $n objects per layout ($((2 * n)) in all), LOADER=$LOADER" >&2
start=$(date +%s.%N)
if [[ $LOADER == rows ]]; then
  nice -n 10 /usr/bin/python3 "$SRC/bench/archive_load.py" --rows "$SW" arch "$HOSTS" "$LOGS" "$DAYS" >&2
else
  nice -n 10 python3 "$SRC/bench/archive_load.py" "$STORAGE" "$TOKEN" arch "$HOSTS" "$LOGS" "$DAYS" \
    "$THREADS" >&2
fi
echo "bench: loaded at $(date -u +%T), load average $(cut -d' ' -f1-3 /proc/loadavg), in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.0f", e-s}') s" >&2

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# query LAYOUT SINCE UNTIL: "seconds listing-requests lines" (median seconds of RUNS).
query() {
  local layout=$1 since=$2 until=$3 secs=() reqs lines
  for _ in $(seq 1 "$RUNS"); do
    local s e
    s=$(date +%s.%N)
    lines=$("$BIN" logship ls --from "swift://arch/$layout" --layout "$layout" --since "$since" \
      --until "$until" --stats 2>"$T/stats" | wc -l)
    e=$(date +%s.%N)
    secs+=("$(awk -v s="$s" -v e="$e" 'BEGIN{printf "%.3f", e-s}')")
    reqs=$(sed -n 's/^store requests: \([0-9]*\) listing.*/\1/p' "$T/stats")
  done
  echo "$(printf '%s\n' "${secs[@]}" | median) $reqs $lines"
}
printf '\narchive: %d hosts x %d logs x %d days = %d objects per layout\n' "$HOSTS" "$LOGS" "$DAYS" "$n"
printf '%-28s %-6s %10s %10s %8s\n' query layout seconds listings objects
mid=$(date -d "2025-01-01 + $((DAYS / 2)) days" +%F)
for layout in host date; do
  read -r s r l < <(query "$layout" "$mid" "$mid")
  printf '%-28s %-6s %10s %10s %8s\n' "one day ($mid)" "$layout" "$s" "$r" "$l"
done
if ((DAYS >= 31)); then
  for layout in host date; do
    read -r s r l < <(query "$layout" 2025-01-01 2025-01-31)
    printf '%-28s %-6s %10s %10s %8s\n' "one month (2025-01)" "$layout" "$s" "$r" "$l"
  done
fi

# grep throughput: GREP_OBJECTS rotations of gzip'd log lines.
mkdir -p "$T/grep"
for i in $(seq 1 "$GREP_OBJECTS"); do
  h=web$(((i - 1) % 3 + 1))
  d=$(printf '%02d' $(((i - 1) / 3 % 28 + 1)))
  mkdir -p "$T/grep/$h"
  awk -v h="$h" -v d="$d" -v seed="$i" 'BEGIN{srand(seed); for (n = 0; n < 120000; n++)
    printf "%s 2025-02-%s %02d:%02d:%02d %s GET /api/v1/item/%d status=%d ms=%d\n", h, d,
      n/5000%24, n/60%60, n%60, (n%97 == 0 ? "ERROR" : "INFO"), int(rand()*1e6),
      (n%97 == 0 ? 502 : 200), int(rand()*900)}' | gzip -6 >"$T/grep/$h/app.log-202502$d.gz"
done
for h in web1 web2 web3; do
  "$BIN" logship upload --to swift://arch/grep --hostname "$h" -q "$T/grep/$h"/*.gz
done
bytes=$(cat "$T/grep"/*/*.gz | wc -c)
s=$(date +%s.%N)
m1=$("$BIN" logship grep --from swift://arch/grep --parallel 2 'ERROR.*status=502' | wc -l)
e=$(date +%s.%N)
g=$(awk -v s="$s" -v e="$e" 'BEGIN{printf "%.2f", e-s}')
s=$(date +%s.%N)
m2=$(zgrep -H 'ERROR.*status=502' "$T/grep"/*/*.gz | wc -l)
e=$(date +%s.%N)
z=$(awk -v s="$s" -v e="$e" 'BEGIN{printf "%.2f", e-s}')
printf '\ngrep over %d objects, %.1f MB compressed:\n' "$GREP_OBJECTS" "$(awk -v b="$bytes" 'BEGIN{print b/1e6}')"
printf '  stopgap logship grep (from Swift, --parallel 2): %s s, %.0f MB/s, %d lines\n' "$g" \
  "$(awk -v b="$bytes" -v t="$g" 'BEGIN{print b/1e6/t}')" "$m1"
printf '  zgrep -H on local copies:                        %s s, %.0f MB/s, %d lines\n' "$z" \
  "$(awk -v b="$bytes" -v t="$z" 'BEGIN{print b/1e6/t}')" "$m2"
