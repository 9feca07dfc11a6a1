#!/usr/bin/env bash
# Benchmark: `stopgap logship` against the usual object-store clients, side by
# side in one run, on a real single-node Swift 2.30 (scripts/services/swift.sh)
# over both its Swift API and its S3 API. Two sets: 40 x 25 MB compressed
# rotations, and one 1 GiB file. Reports the median of RUNS runs of: MB/s,
# client CPU seconds per GiB (user+sys of the client and its children, from
# getrusage via GNU time) and peak RSS. `curl -T` (one stream) is the ceiling.
#
#   bench/logship.sh                 # STOPGAP_BIN=build/stopgap by default
#   STOPGAP_BUILD=build-x RUNS=3 PEERS="curl stopgap swift rclone aws s3cmd" \
#     SETS="many big" bench/logship.sh
#
# rclone, s3cmd and awscli are installed here (apt) when missing; a peer that
# is still absent is skipped. Data lives in a temp dir and is deleted after.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
# STOPGAP_BIN, else $STOPGAP_BUILD/stopgap (relative to the source tree), else build/stopgap.
BUILD=${STOPGAP_BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$SRC/$BUILD
BIN=${STOPGAP_BIN:-$BUILD/stopgap}
# Extra flags for stopgap (e.g. STOPGAP_FLAGS="--part-size 32M --parallel 3").
STOPGAP_FLAGS=${STOPGAP_FLAGS:-}
RUNS=${RUNS:-3}
PEERS=${PEERS:-"curl stopgap swift rclone aws s3cmd"}
SETS=${SETS:-"many big"}
[[ -x $BIN ]] || { echo "bench/logship.sh: no stopgap binary at $BIN (make build)" >&2; exit 1; }

T=$(mktemp -d /var/tmp/logship_bench.XXXXXX)
cleanup() {
  "$SRC/scripts/services/swift.sh" stop "$T/swift" >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT

# Peers from Debian (bench only; never needed by the product or its tests).
want=()
command -v rclone >/dev/null || want+=(rclone)
command -v s3cmd >/dev/null || want+=(s3cmd)
[[ -x /usr/bin/aws ]] || want+=(awscli)
if ((${#want[@]})); then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${want[@]}" >/dev/null 2>&1 || echo "bench: could not install ${want[*]}; skipping them" >&2
fi
AWS=/usr/bin/aws  # aws-cli 2 from Debian; a pyenv shim may shadow it with 1.x

"$SRC/scripts/services/swift.sh" start "$T/swift" >/dev/null
# shellcheck disable=SC1091
source "$T/swift/env"
TOKEN=$(curl -s -D - -o /dev/null -H "X-Auth-User: $ST_USER" -H "X-Auth-Key: $ST_KEY" "$ST_AUTH" |
  tr -d '\r' | sed -n 's/^[Xx]-[Aa]uth-[Tt]oken: //p')
ACCOUNT_URL=$SWIFT_URL/v1/AUTH_test

echo "bench: generating data in $T/data (incompressible, like gzip'd logs)" >&2
mkdir -p "$T/data/many" "$T/data/big"
for i in $(seq -w 1 40); do
  head -c 25000000 /dev/urandom >"$T/data/many/app.log-$((20261000 + 10#$i % 28 + 1))-$i.gz"
done
head -c 1073741824 /dev/urandom >"$T/data/big/app.log-20261124.gz"
declare -A BYTES=([many]=1000000000 [big]=1073741824)

cat >"$T/s3cfg" <<EOF
[default]
access_key = $AWS_ACCESS_KEY_ID
secret_key = $AWS_SECRET_ACCESS_KEY
host_base = ${S3_ENDPOINT#http://}
host_bucket = ${S3_ENDPOINT#http://}
use_https = False
signature_v2 = False
bucket_location = us-east-1
EOF
export RCLONE_CONFIG_SW_TYPE=swift RCLONE_CONFIG_SW_AUTH=$ST_AUTH RCLONE_CONFIG_SW_USER=$ST_USER \
  RCLONE_CONFIG_SW_KEY=$ST_KEY
export RCLONE_CONFIG_S3_TYPE=s3 RCLONE_CONFIG_S3_PROVIDER=Other \
  RCLONE_CONFIG_S3_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID \
  RCLONE_CONFIG_S3_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
  RCLONE_CONFIG_S3_ENDPOINT=$S3_ENDPOINT RCLONE_CONFIG_S3_REGION=us-east-1 \
  RCLONE_CONFIG_S3_FORCE_PATH_STYLE=true

# One upload of SET into container C by CLIENT/API. Runs in a child bash under
# GNU time, so everything it spawns is counted.
upload() {
  local client=$1 api=$2 set=$3 c=$4 d=$T/data/$3 SG_FLAGS
  read -r -a SG_FLAGS <<<"$STOPGAP_FLAGS"
  case $client/$api in
    curl/swift)
      for f in "$d"/*; do
        curl -sS -f -o /dev/null -T "$f" -H "X-Auth-Token: $TOKEN" "$ACCOUNT_URL/$c/$(basename "$f")"
      done ;;
    stopgap/swift)
      STOPGAP_LOGSHIP_STATE=$T/state.$c "$BIN" logship upload --quiet --hostname bench \
        "${SG_FLAGS[@]}" --to "swift://$c/p" "$d"/* ;;
    stopgap/s3)
      STOPGAP_LOGSHIP_STATE=$T/state.$c "$BIN" logship upload --quiet --hostname bench \
        "${SG_FLAGS[@]}" --endpoint "$S3_ENDPOINT" --to "s3://$c/p" "$d"/* ;;
    swift/swift)
      (cd "$d" && swift -q upload -S 104857600 "$c" ./*) ;;
    rclone/swift) env -u AWS_CA_BUNDLE rclone copy -q "$d" "sw:$c/p" ;;
    rclone/s3) env -u AWS_CA_BUNDLE rclone copy -q "$d" "s3:$c/p" ;;
    aws/s3) $AWS --endpoint-url "$S3_ENDPOINT" s3 cp --quiet --recursive "$d" "s3://$c/p/" ;;
    s3cmd/s3) s3cmd -q -c "$T/s3cfg" put --recursive "$d/" "s3://$c/p/" >/dev/null ;;
    *) return 3 ;;
  esac
}
export -f upload
export T BIN TOKEN ACCOUNT_URL AWS STOPGAP_FLAGS

available() {
  case $1 in
    curl) command -v curl ;;
    stopgap) echo "$BIN" ;;
    swift) command -v swift ;;
    rclone) command -v rclone ;;
    aws) [[ -x $AWS ]] && echo "$AWS" ;;
    s3cmd) command -v s3cmd ;;
  esac >/dev/null
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '\nstopgap: %s %s\n' "$BIN" "${STOPGAP_FLAGS:-(default flags)}"
printf 'load before: %s\n' "$(cat /proc/loadavg)"
printf '%-8s %-5s %-5s %9s %12s %10s %s\n' client api set "MB/s" "CPU-s/GiB" "RSS-MiB" "runs (MB/s)"
declare -A RESULT
n=0
for set in $SETS; do
  for client in $PEERS; do
    available "$client" || { echo "bench: $client not available; skipped" >&2; continue; }
    for api in swift s3; do
      [[ $client/$api == curl/s3 || $client/$api == swift/s3 || $client/$api == aws/swift ||
         $client/$api == s3cmd/swift ]] && continue
      rates=() cpus=() rsss=()
      for run in $(seq 1 "$RUNS"); do
        n=$((n + 1))
        c=bench$n  # S3 bucket names need 3+ characters
        swift -q post "$c"
        sync
        if ! /usr/bin/time -f "%e %U %S %M" -o "$T/time" \
          bash -c "upload $client $api $set $c" >"$T/out" 2>&1; then
          echo "bench: $client/$api/$set failed: $(tail -3 "$T/out")" >&2
          continue 2
        fi
        read -r wall user sys rss <"$T/time"
        rates+=("$(awk -v b="${BYTES[$set]}" -v w="$wall" 'BEGIN{printf "%.0f", b/1e6/w}')")
        cpus+=("$(awk -v b="${BYTES[$set]}" -v u="$user" -v s="$sys" 'BEGIN{printf "%.2f", (u+s)/(b/1073741824)}')")
        rsss+=("$(awk -v r="$rss" 'BEGIN{printf "%.0f", r/1024}')")
        for x in "$c" "${c}_segments" "${c}+segments"; do swift -q delete "$x" >/dev/null 2>&1 || true; done
      done
      r=$(printf '%s\n' "${rates[@]}" | median)
      cpu=$(printf '%s\n' "${cpus[@]}" | median)
      m=$(printf '%s\n' "${rsss[@]}" | median)
      RESULT[$client/$api/$set]=$r
      printf '%-8s %-5s %-5s %9s %12s %10s %s\n' "$client" "$api" "$set" "$r" "$cpu" "$m" "${rates[*]}"
    done
  done
done
printf 'load after: %s\n' "$(cat /proc/loadavg)"
for set in $SETS; do
  ceil=${RESULT[curl/swift/$set]:-}
  [[ -z $ceil ]] && continue
  for k in "${!RESULT[@]}"; do
    [[ $k == stopgap/*/$set ]] || continue
    awk -v a="${RESULT[$k]}" -v c="$ceil" -v k="$k" 'BEGIN{printf "%s: %.0f%% of the curl -T ceiling\n", k, 100*a/c}'
  done
done
# The MD5 kernels behind stopgap's verification, vs OpenSSL (same machine).
if [[ -x $BUILD/bench/md5_bench ]]; then
  echo
  "$BUILD/bench/md5_bench" --benchmark_min_time=0.3 2>/dev/null | grep -E '^BM_' || true
fi
