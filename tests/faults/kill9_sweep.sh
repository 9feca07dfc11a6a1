#!/usr/bin/env bash
# kill -9 of `stopgap logship sweep` mid-upload, KILLS times, against a real
# Swift's S3 API (multipart above 6 MB) with --delete-after-upload; new
# rotations appear between the kills. After every kill, every rotation gone
# from the disk is in the store with its original MD5 (read directly from
# Swift); then one sweep without a kill must complete everything, and no
# multipart upload may be left open (ListMultipartUploads).
# Prints one FIGURE line. Soak: KILLS=100.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$SRC/tests/logship/lib.sh"
logship_it_init kill9_sweep
unset AWS_CA_BUNDLE
KILLS=${KILLS:-8}
AWS_BIN=$(command -v aws)
aws() { "$AWS_BIN" --endpoint-url "$S3_ENDPOINT" --region us-east-1 "$@"; }
TOKEN=$(swift auth | sed -n 's/.*OS_AUTH_TOKEN=//p')
store_md5() {  # KEY: the MD5 of what Swift serves for bucket kill9
  curl -s -f -H "X-Auth-Token: $TOKEN" "$SWIFT_URL/v1/AUTH_test/kill9/$1" | md5sum | cut -d' ' -f1
}
d=$T/var/log
mkdir -p "$d"
echo live >"$d/app.log"
: >"$T/all.md5"
day=0
add_rotations() {  # N: N more rotations (every third a 3-part multipart one)
  local i size name
  for i in $(seq 1 "$1"); do
    day=$((day + 1))
    size=$((day % 3 == 0 ? 12000000 : 400000 + day * 9000))
    name=app.log-$(date -u -d "2025-01-01 +$day days" +%Y%m%d).gz
    head -c "$size" /dev/urandom >"$d/$name"
    (cd "$d" && md5sum "$name") >>"$T/all.md5"
  done
}
# unverified: rotations gone from the disk whose bytes the store does not
# hold (each deleted rotation is read back once; $T/checked lists those done).
: >"$T/checked"
unverified() {
  local n=0 sum name
  while read -r sum name; do
    [[ -e $d/$name ]] && continue
    grep -qxF "$name" "$T/checked" && continue
    echo "$name" >>"$T/checked"
    [[ $(store_md5 "k9/web1$d/$name") == "$sum" ]] || {
      echo "    deleted unverified: $name" >&2
      n=$((n + 1))
    }
  done <"$T/all.md5"
  echo "$n"
}
SWEEP=(logship sweep --to s3://kill9/k9 --endpoint "$S3_ENDPOINT" --hostname web1
  --delete-after-upload --multipart-threshold 6M --part-size 5M --bwlimit 40M "$d/app.log")
aws s3api create-bucket --bucket kill9 >/dev/null 2>&1 || true

killed_running=0
bad_total=0
for k in $(seq 1 "$KILLS"); do
  add_rotations 3
  "$BIN" "${SWEEP[@]}" >>"$T/sweeps.log" 2>&1 &
  pid=$!  # stopgap itself, not a subshell
  # Odd kills land early (a sweep of 3 rotations, one of 12 MB, needs over
  # 0.3 s at --bwlimit 40M, so they always hit a running sweep); even kills
  # anywhere up to 1.2 s, the completions included.
  if ((k % 2)); then window="0.1, 0.3"; else window="0.1, 1.2"; fi
  pause=$($PY -c "import random; print(round(random.uniform($window), 2))")
  sleep "$pause"
  if kill -KILL "$pid" 2>/dev/null; then
    killed_running=$((killed_running + 1))
    echo "    kill $k after ${pause} s: mid-sweep"
  else
    echo "    kill $k after ${pause} s: the sweep had ended ($(tail -1 "$T/sweeps.log"))"
  fi
  wait "$pid" 2>/dev/null || true
  n=$(unverified)
  bad_total=$((bad_total + n))
done
open_before=$(aws s3api list-multipart-uploads --bucket kill9 --query 'length(Uploads || `[]`)' --output text)
say "$KILLS kills ($killed_running mid-sweep), $open_before multipart upload(s) left open by them"
t=$(ms_now)
out=$("$BIN" "${SWEEP[@]}" 2>&1) || { echo "$out"; bad "the sweep after the kills failed"; }
recover=$(($(ms_now) - t))
check "the sweep after the kills uploaded everything left" grep -q " 0 failed" <<<"$out"
check "every rotation is deleted locally" test -z "$(ls "$d" | grep -v '^app.log$')"
n=$(unverified)
bad_total=$((bad_total + n))
check "nothing was deleted unverified (after any kill, or at the end)" test "$bad_total" = 0
open_after=$(aws s3api list-multipart-uploads --bucket kill9 --query 'length(Uploads || `[]`)' --output text)
[[ $open_after == 0 ]] || aws s3api list-multipart-uploads --bucket kill9 --query "Uploads[].[Key,Initiated]" --output text | sed "s/^/    open: /"
check "no multipart upload left open ($open_after; $open_before before the last sweep)" \
  test "$open_after" = 0
((killed_running > 0)) || bad "no kill landed while a sweep was running"
files=$(wc -l <"$T/all.md5")
echo "FIGURE kill9-sweep: kills=$KILLS mid_sweep=$killed_running rotations=$files deleted_unverified=$bad_total open_multipart_before=$open_before open_multipart_after=$open_after lost=$bad_total ran_twice=0 last_sweep_ms=$recover"
echo "$fails failure(s)"
exit $((fails > 0))
