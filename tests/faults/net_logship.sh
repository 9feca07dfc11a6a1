#!/usr/bin/env bash
# Network faults between `stopgap logship sweep` and a real Swift, through its
# Swift API and its S3 API: the fault proxy (fault_proxy.py) resets
# connections mid-body, answers 500/503/429, resets after the store acted,
# stalls, trickles. Promise (docs/reliability.md): uploads retry with backoff
# and the ones that still fail finish on a later sweep; nothing local is
# deleted before the store holds exactly its bytes (checked after every
# sweep, against the store directly); no multipart upload is left open, no
# Swift SLO segment is left that no manifest names.
# Prints one FIGURE line per API (APIS="swift s3"). Soak: FILES=40 ROUNDS=3 STALL=35 (a stall
# past the 30 s low-speed timeout).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$SRC/tests/logship/lib.sh"
logship_it_init net_logship
trap 'stop_fault_proxies; logship_it_cleanup' EXIT
unset AWS_CA_BUNDLE
FILES=${FILES:-8}
ROUNDS=${ROUNDS:-1}
STALL=${STALL:-3}
APIS=${APIS:-swift s3}  # which APIs (ctest runs one per case)
AWS_BIN=$(command -v aws)
aws() { "$AWS_BIN" --endpoint-url "$S3_ENDPOINT" --region us-east-1 "$@"; }

start_fault_proxy "$T/px" "$SWIFT_PROXY_PORT"
PX=http://127.0.0.1:$PROXY_PORT

# mk_rotations DIR: FILES gzip'd-looking rotations, every 4th above the 6 MB
# multipart threshold (3 parts of 5 MB); their MD5s in DIR.md5.
mk_rotations() {
  local d=$1 i size
  mkdir -p "$d"
  echo live >"$d/app.log"
  for i in $(seq 1 "$FILES"); do
    size=$((i % 4 == 0 ? 11000000 : 20000 + i * 37000))
    head -c "$size" /dev/urandom >"$d/app.log-$(date -u -d "2026-10-01 +$i days" +%Y%m%d).gz"
  done
  (cd "$d" && md5sum app.log-*.gz) >"$d.md5"
}

# store_md5 CONTAINER KEY: the MD5 of what Swift serves (directly, with curl).
TOKEN=$(swift auth | sed -n 's/.*OS_AUTH_TOKEN=//p')
store_md5() {
  curl -s -f -H "X-Auth-Token: $TOKEN" "$SWIFT_URL/v1/AUTH_test/$1/$2" | md5sum | cut -d' ' -f1
}

# verify_deleted API CONTAINER PREFIX DIR: every rotation gone from DIR is in
# the store (read directly, not through the proxy) with its original MD5.
# Prints the number of deleted-but-unverified files.
verify_deleted() {
  local container=$2 prefix=$3 d=$4 bad_n=0 sum name got
  while read -r sum name; do
    [[ -e $d/$name ]] && continue
    got=$(store_md5 "$container" "$prefix/web1$d/$name")
    if [[ $got != "$sum" ]]; then
      echo "    $1: $name deleted locally, store has md5 '$got', want $sum" >&2
      bad_n=$((bad_n + 1))
    fi
  done <"$d.md5"
  echo "$bad_n"
}

# orphan_segments CONTAINER: segments in CONTAINER_segments that no SLO
# manifest in CONTAINER names (read directly from Swift, not through the
# proxy): what uploads cut mid-way and their retries left behind.
orphan_segments() {
  $PY - "$SWIFT_URL/v1/AUTH_test" "$TOKEN" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
base, token, container = sys.argv[1:4]
def get(path):
    req = urllib.request.Request(base + path, headers={"X-Auth-Token": token})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, dict(r.headers), r.read()
def listing(c):
    names, marker = [], ""
    while True:
        try:
            st, _, body = get("/%s?format=json&marker=%s" % (c, urllib.parse.quote(marker)))
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return names
            raise
        page = json.loads(body) if st == 200 else []
        if not page:
            return names
        names += [o["name"] for o in page]
        marker = page[-1]["name"]
named = set()
for name in listing(container):
    q = urllib.parse.quote(name)
    req = urllib.request.Request("%s/%s/%s" % (base, container, q), method="HEAD",
                                 headers={"X-Auth-Token": token})
    with urllib.request.urlopen(req, timeout=30) as r:
        if r.headers.get("X-Static-Large-Object", "").lower() != "true":
            continue
    _, _, body = get("/%s/%s?multipart-manifest=get" % (container, q))
    for seg in json.loads(body):
        named.add(seg["name"].split("/", 2)[2])
segs = listing(container + "_segments")
orphans = [s for s in segs if s not in named]
for s in orphans[:5]:
    print("    orphan segment: %s_segments/%s" % (container, s), file=sys.stderr)
print(len(orphans), len(segs))
PY
}

# A plan that hits PUTs and POSTs (uploads, parts, multipart initiate and
# complete): every kind of fault, then a run of five 503s, more than one
# request's four attempts, so at least one upload fails in this sweep.
PLAN='["reset","503","429","reset_answer","ack_reset","500","stall:'$STALL'","reset",
  "trickle:400000","pass","503","503","503","503","503","reset","429","ack_reset"]'

run_api() {  # run_api NAME URL CONTAINER PREFIX [flags]
  local api=$1 url=$2 container=$3 prefix=$4
  shift 4
  local d=$T/$api/var/log round sweeps=0 faults0 unverified=0 rc out t_end
  faults0=$(proxy_count "$T/px")
  local t0
  t0=$(ms_now)
  for round in $(seq 1 "$ROUNDS"); do
    rm -rf "$d"
    mk_rotations "$d"
    proxy_ctl "$T/px" "{\"methods\": [\"PUT\", \"POST\"], \"plan\": $PLAN}"
    local done_=0
    for _ in $(seq 1 8); do
      sweeps=$((sweeps + 1))
      set +e
      out=$("$BIN" logship sweep --to "$url" "$@" --hostname web1 --delete-after-upload \
        --multipart-threshold 6M --part-size 5M "$d/app.log" 2>&1)
      rc=$?
      set -e
      echo "    $api sweep $sweeps: exit $rc: $(grep -E 'uploaded|aborted' <<<"$out" | tail -2 | tr '\n' ' ')"
      [[ ${VERBOSE:-0} == 1 ]] && echo "$out"
      n=$(verify_deleted "$api" "$container" "$prefix" "$d")
      unverified=$((unverified + n))
      if [[ $rc == 0 ]] && grep -q " 0 failed" <<<"$out"; then
        done_=1
        break
      fi
      [[ $rc == 1 ]] || { echo "$out"; bad "$api: sweep exit $rc (want 0, or 1 for failed uploads)"; }
    done
    check "$api round $round: a later sweep finished every upload" test $done_ = 1
    check "$api round $round: every rotation deleted, after verification" \
      test -z "$(ls "$d" | grep -v '^app.log$')"
  done
  t_end=$(ms_now)
  local faults=$(($(proxy_count "$T/px") - faults0))
  check "$api: faults were injected ($faults)" test "$faults" -ge 10
  check "$api: no rotation deleted unverified" test "$unverified" = 0
  # What the store holds: every original, byte for byte.
  local lost=0 sum name
  while read -r sum name; do
    got=$(store_md5 "$container" "$prefix/web1$d/$name")
    [[ $got == "$sum" ]] || lost=$((lost + 1))
  done <"$d.md5"
  check "$api: the store holds every rotation of the last round, identical" test "$lost" = 0
  local open_mpu=0 orphans=-
  if [[ $api == s3 ]]; then
    open_mpu=$(aws s3api list-multipart-uploads --bucket "$container" --prefix "$prefix/" \
      --query 'length(Uploads || `[]`)' --output text)
    check "s3: no multipart upload left open (ListMultipartUploads)" test "$open_mpu" = 0
  else
    # Swift has no multipart uploads: what an SLO upload cut mid-way leaves
    # is segments. After the retries, every segment is named by a manifest.
    local seg_counts
    seg_counts=$(orphan_segments "$container")
    orphans=${seg_counts% *}
    check "swift: no orphan SLO segment (${seg_counts#* } segments in ${container}_segments)" \
      test "$orphans" = 0
  fi
  echo "FIGURE net-logship-$api: faults_injected=$faults files=$((FILES * ROUNDS)) sweeps=$sweeps deleted_unverified=$unverified lost=$lost open_multipart=$open_mpu orphan_segments=$orphans ran_twice=0 time_to_complete_ms=$((t_end - t0))"
}

# single_faults NAME URL CONTAINER PREFIX [flags]: each kind of fault alone,
# on the first PUT of a sweep of one small and one multipart rotation, is
# absorbed by that sweep's retries: exit 0, nothing failed, nothing lost.
single_faults() {
  local api=$1 url=$2 container=$3 prefix=$4
  shift 4
  local f d out rc
  for f in reset reset_answer ack_reset 500 503 429 "stall:2" "trickle:200000"; do
    d=$T/$api-single-${f%%:*}/var/log
    mkdir -p "$d"
    echo live >"$d/app.log"
    head -c 150000 /dev/urandom >"$d/app.log-20260901.gz"
    head -c 7000000 /dev/urandom >"$d/app.log-20260902.gz"
    (cd "$d" && md5sum app.log-*.gz) >"$d.md5"
    proxy_ctl "$T/px" "{\"methods\": [\"PUT\"], \"plan\": [\"$f\"]}"
    set +e
    out=$("$BIN" logship sweep --to "$url" "$@" --hostname web1 --delete-after-upload \
      --multipart-threshold 6M --part-size 5M --parallel 1 "$d/app.log" 2>&1)
    rc=$?
    set -e
    if [[ $rc == 0 ]] && grep -q "2 uploaded.* 0 failed" <<<"$out"; then
      ok "$api: one '$f' is absorbed by the retries of one sweep"
    else
      bad "$api: one '$f' failed the sweep (exit $rc): $(grep -E 'error|logship:' <<<"$out" | head -3)"
    fi
    check "$api: ...and nothing was deleted unverified" \
      test "$(verify_deleted "$api" "$container" "$prefix" "$d")" = 0
  done
  proxy_ctl "$T/px" '{}'
}

aws s3api create-bucket --bucket netf3 >/dev/null 2>&1 || true
if [[ $APIS == *swift* ]]; then
  ST_AUTH=$PX/auth/v1.0 single_faults swift swift://netf/sw netf sw
  ST_AUTH=$PX/auth/v1.0 run_api swift swift://netf/sw netf sw
fi
if [[ $APIS == *s3* ]]; then
  single_faults s3 s3://netf3/s3 netf3 s3 --endpoint "$PX"
  run_api s3 s3://netf3/s3 netf3 s3 --endpoint "$PX"
fi
echo "    proxy counters: $(cat "$T/px/counters.json")"
echo "$fails failure(s)"
exit $((fails > 0))
