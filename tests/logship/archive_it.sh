#!/usr/bin/env bash
# Integration test for finding archived logs again (issue #18) and the S3
# upload defects found with another implementation (issue #15): the real
# `stopgap logship` against a real single-node Swift 2.30 through its Swift
# API and its S3 API, and file://, with a loopback proxy (store_proxy.py)
# that records requests and damages some on purpose.
# Covers: stale multipart uploads aborted; a completion answer with another
# root element accepted by HEAD; real Content-Types; metadata at upload; ls
# --since/--until over the five dateext forms with no --dateformat, undated
# objects listed and counted; get; --layout date lists one prefix per day;
# Content-MD5 makes the store refuse a damaged body (retried, nothing lost);
# grep across 3 hosts finds exactly what zgrep finds in the originals.
# Needs: STOPGAP_BIN, STOPGAP_SRC (set by CTest). Exits non-zero on failure.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
logship_it_init logship_archive_it
unset AWS_CA_BUNDLE

# The recording/damaging proxy in front of Swift (both APIs on one port).
echo '{}' >"$T/control.json"
: >"$T/proxy.log"
python3 "$SRC/tests/logship/store_proxy.py" "${S3_ENDPOINT##*:}" "$T/proxy.port" \
  "$T/control.json" "$T/proxy.log" &
extra_pids+=($!)
for _ in $(seq 1 100); do [[ -s $T/proxy.port ]] && break; sleep 0.05; done
PROXY=http://127.0.0.1:$(cat "$T/proxy.port")
proxy_set() { echo "$1" >"$T/control.json"; : >"$T/proxy.log"; }
s3head() {  # s3head BUCKET KEY FIELD: one field of `swift stat` (S3 buckets are containers)
  swift stat "$1" "$2" | sed -n "s/^ *$3: //p"
}

# ---------------------------------------------------------------- issue #15
d=$T/s15/var/log
mkdir -p "$d"
head -c 12000000 /dev/urandom >"$d/app.log-20261110.gz"
head -c 100000 /dev/urandom >"$d/app.log-20261111.gz"
echo plain >"$d/app.log-20261112"
printf '(zstd bytes)' >"$d/app.log-20261113.zst"
big_key="s15/web1$d/app.log-20261110.gz"

# A multipart upload an earlier run left open on a key this run owns, and
# one on a key it does not own.
AWS_BIN=$(command -v aws)
aws() { "$AWS_BIN" --endpoint-url "$S3_ENDPOINT" --region us-east-1 "$@"; }
aws s3api create-bucket --bucket logs3 >/dev/null 2>&1 || true
aws s3api create-multipart-upload --bucket logs3 --key "$big_key" >/dev/null
aws s3api create-multipart-upload --bucket logs3 --key "s15/other/x.gz" >/dev/null
proxy_set '{"rewrite_complete": true}'
out=$("$BIN" logship upload --to s3://logs3/s15 --endpoint "$PROXY" --hostname web1 \
  --multipart-threshold 6M --part-size 5M "$d"/app.log-2026111* 2>&1) ||
  bad "s3: uploads through the proxy ($out)"
check "s3: a completion answered as ...Response is judged by HEAD and accepted" \
  grep -q "app.log-20261110.gz.*3 parts, verified" <<<"$out"
check "s3: the rewritten answer really was sent" \
  test "$(grep -c '"rewritten": true' "$T/proxy.log")" -eq 1
check "s3: 4 uploaded, none failed" grep -q "4 uploaded .*0 failed" <<<"$out"
open_uploads=$(aws s3api list-multipart-uploads --bucket logs3 --prefix s15/ \
  --query 'Uploads[].Key' --output text)
check "s3: the stale upload of an owned key was aborted" \
  test "$(grep -c "app.log-20261110.gz" <<<"$open_uploads")" -eq 0
check "s3: ...and said so" grep -q "aborted 1 unfinished multipart upload" <<<"$out"
check "s3: the stale upload of a key it does not own stays" grep -q "s15/other/x.gz" <<<"$open_uploads"
check "s3: multipart object is application/gzip" \
  test "$(s3head logs3 "$big_key" "Content Type")" = application/gzip
check "s3: single PUT .gz is application/gzip" \
  test "$(s3head logs3 "s15/web1$d/app.log-20261111.gz" "Content Type")" = application/gzip
check "s3: plain rotation is text/plain" \
  test "$(s3head logs3 "s15/web1$d/app.log-20261112" "Content Type")" = text/plain
check "s3: .zst is application/zstd" \
  test "$(s3head logs3 "s15/web1$d/app.log-20261113.zst" "Content Type")" = application/zstd
"$BIN" logship upload --to swift://logs/s15 --hostname web1 --multipart-threshold 6M \
  --part-size 5M -q "$d/app.log-20261110.gz" "$d/app.log-20261112"
check "swift: SLO is application/gzip" \
  test "$(s3head logs "s15/web1$d/app.log-20261110.gz" "Content Type")" = application/gzip
check "swift: plain rotation is text/plain" \
  test "$(s3head logs "s15/web1$d/app.log-20261112" "Content Type")" = text/plain

# ------------------------------------------- #18: dates kept with the object
# The five common dateext forms, a format no guess can read (-%d.%m.%Y,
# uploaded with its --dateformat: only the metadata knows its day), and a
# name with no date at all.
mk_forms() {  # DIR
  local dir=$1
  mkdir -p "$dir"
  for n in app.log-2025112313.gz app.log-2025-11-24.gz app.log-20251125-1764072000.gz \
    app.log-20251126.gz app.log-20251127.1.gz app.log-20251120.gz app.log-20251130.gz; do
    echo "line of $n" | gzip >"$dir/$n"
  done
  echo odd | gzip >"$dir/odd.log-26.11.2025.gz"
  echo nodate | gzip >"$dir/nodate.log.gz"
}
in_range="app.log-2025112313.gz app.log-2025-11-24.gz app.log-20251125-1764072000.gz
app.log-20251126.gz app.log-20251127.1.gz odd.log-26.11.2025.gz"
forms_api() {  # NAME URL [flags]
  local api=$1 url=$2
  shift 2
  local dir=$T/forms/$api/var/log
  mk_forms "$dir"
  "$BIN" logship upload --to "$url" "$@" --hostname web1 -q "$dir"/app.log-* "$dir/nodate.log.gz"
  "$BIN" logship upload --to "$url" "$@" --hostname web1 -q --dateformat -%d.%m.%Y \
    "$dir/odd.log-26.11.2025.gz"
  local out err
  out=$("$BIN" logship ls --from "$url" "$@" --since 2025-11-23 --until 2025-11-27 2>"$T/ls.err")
  err=$(cat "$T/ls.err")
  local n
  for n in $in_range; do
    check "$api: ls --since/--until finds $n with no --dateformat" grep -q "/$n\$" <<<"$out"
  done
  check "$api: ls leaves out the days outside the range" \
    test "$(grep -c -e 20251120 -e 20251130 <<<"$out")" -eq 0
  check "$api: the undated object is listed with '-'" grep -q "^- .* web1 $dir/nodate.log.gz$" <<<"$out"
  check "$api: ...and counted on stderr" grep -q "1 object(s) with no known date" <<<"$err"
  check "$api: exactly 7 lines" test "$(wc -l <<<"$out")" -eq 7
  check "$api: odd dateformat dated from metadata" \
    grep -q "^2025-11-26 .*odd.log-26.11.2025.gz$" <<<"$out"
  check "$api: %s name dated by its instant" grep -q "^2025-11-25 .*1764072000.gz$" <<<"$out"
  "$BIN" logship get --from "$url" "$@" --since 2025-11-23 --until 2025-11-27 \
    --out "$T/forms/$api/got" -q 2>/dev/null
  for n in $in_range nodate.log.gz; do
    check "$api: get fetched $n identical" cmp -s "$dir/$n" "$T/forms/$api/got/web1/$n"
  done
}
forms_api swift swift://logs/forms
forms_api s3 s3://logs3/forms --endpoint "$S3_ENDPOINT"
forms_api file "file://$T/filestore"
fdir=$T/forms/swift/var/log
check "swift: metadata holds the rotation's date" \
  test "$(s3head logs "forms/web1$fdir/app.log-2025112313.gz" "Meta Stopgap-Date")" = 2025-11-23T13:00:00
check "swift: metadata holds the uncompressed size" \
  test "$(s3head logs "forms/web1$fdir/app.log-2025112313.gz" "Meta Stopgap-Uncompressed-Size")" = \
  "$(gunzip -c "$fdir/app.log-2025112313.gz" | wc -c)"
sdir=$T/forms/s3/var/log
check "s3: x-amz-meta holds the host and path" \
  grep -q "stopgap-path.*$sdir/app.log-20251126.gz" \
  <(aws s3api head-object --bucket logs3 --key "forms/web1$sdir/app.log-20251126.gz")
check "file: a sidecar holds the metadata" \
  grep -q '"stopgap-date":"2025-11-26T00:00:00"' \
  "$T/filestore/web1$T/forms/file/var/log/app.log-20251126.gz.stopgap-meta"

# ------------------------------------------------------ #18: --layout date
for h in web1 web2 web3; do
  for day in 22 23 24; do
    mkdir -p "$T/layout/$h"
    echo "$h $day" | gzip >"$T/layout/$h/app.log-202511$day.gz"
  done
  "$BIN" logship upload --to s3://logs3/bydate --endpoint "$PROXY" --layout date --hostname "$h" \
    -q "$T/layout/$h"/*.gz
  "$BIN" logship upload --to swift://logs/bydate --layout date --hostname "$h" -q "$T/layout/$h"/*.gz
done
check "swift: --layout date keys are <YYYY>/<MM>/<DD>/<host>/<path>" \
  grep -qx "bydate/2025/11/23/web2$T/layout/web2/app.log-20251123.gz" \
  <(swift list logs --prefix bydate/2025/11/23/)
proxy_set '{}'
out=$("$BIN" logship ls --from s3://logs3/bydate --endpoint "$PROXY" --layout date \
  --since 2025-11-23 --until 2025-11-23 --stats 2>"$T/stats.err")
check "s3 date layout: one day lists that day's 3 objects" test "$(wc -l <<<"$out")" -eq 3
check "s3 date layout: one listing request (client count)" \
  grep -q "store requests: 1 listing, 0 head" "$T/stats.err"
check "s3 date layout: one listing request at the store, for that day's prefix only" \
  test "$(grep -c '"method": "GET"' "$T/proxy.log")" -eq 1 -a \
  "$(grep -c 'prefix=bydate%2F2025%2F11%2F23%2F' "$T/proxy.log")" -eq 1
out=$("$BIN" logship ls --from swift://logs/bydate --layout date --host web1 \
  --since 2025-11-23 --until 2025-11-24 --stats 2>"$T/stats.err")
check "swift date layout: web1 on two days: 2 objects" test "$(wc -l <<<"$out")" -eq 2
check "swift date layout: one listing per host-day" \
  grep -q "store requests: 2 listing, 0 head" "$T/stats.err"
"$BIN" logship get --from swift://logs/bydate --layout date --host web3 --since 2025-11-24 \
  --until 2025-11-24 --decompress --out - >"$T/layout.out"
check "swift date layout: get fetches by day" test "$(cat "$T/layout.out")" = "web3 24"

# ------------------------------------- #18: Content-MD5 refuses a bad body
cm=$T/md5/var/log
mkdir -p "$cm"
head -c 300000 /dev/urandom >"$cm/app.log-20261201.gz"
head -c 11000000 /dev/urandom >"$cm/app.log-20261202.gz"
echo live >"$cm/app.log"
proxy_set '{"corrupt_puts": 1}'
out=$("$BIN" logship upload --to s3://logs3/md5 --endpoint "$PROXY" --hostname web1 \
  --delete-after-upload "$cm/app.log-20261201.gz" 2>&1) || bad "md5: damaged PUT not retried ($out)"
check "md5: the proxy damaged one PUT" test "$(grep -c '"damaged": true' "$T/proxy.log")" -eq 1
check "md5: the store refused it (BadDigest)" grep -q '"status": 400.*BadDigest' "$T/proxy.log"
check "md5: sent again and verified" grep -q "1 uploaded" <<<"$out"
check "md5: and only then deleted locally" test ! -e "$cm/app.log-20261201.gz"
# Multipart: a damaged part is refused and sent again.
cp "$cm/app.log-20261202.gz" "$T/md5.copy"
proxy_set '{"corrupt_puts": 1}'
out=$("$BIN" logship upload --to s3://logs3/md5 --endpoint "$PROXY" --hostname web1 \
  --multipart-threshold 6M --part-size 5M "$cm/app.log-20261202.gz" 2>&1) ||
  bad "md5: damaged part not retried ($out)"
check "md5: a damaged part is refused and sent again" \
  grep -q '"query": "partNumber=.*"status": 400.*BadDigest' "$T/proxy.log"
"$BIN" logship get --from s3://logs3/md5 --endpoint "$S3_ENDPOINT" --since 2026-12-02 \
  --until 2026-12-02 --out - \
  >"$T/md5.got" 2>/dev/null
check "md5: what the store holds is the file's bytes" \
  cmp -s "$T/md5.got" <(cat "$T/md5.copy")
# Every attempt damaged: the upload fails and nothing local is deleted.
head -c 300000 /dev/urandom >"$cm/app.log-20261203.gz"
proxy_set '{"corrupt_puts": 100}'
set +e
out=$("$BIN" logship sweep --to s3://logs3/md5 --endpoint "$PROXY" --hostname web1 \
  --delete-after-upload "$cm/app.log" 2>&1)
rc=$?
set -e
check "md5: always damaged: exit 1" test $rc -eq 1
check "md5: always damaged: the local file stays" test -e "$cm/app.log-20261203.gz"
proxy_set '{}'
set +e
"$BIN" logship upload --to s3://logs3/x --sse-kms-key-id k "$cm/app.log" >/dev/null 2>&1
rc=$?
set -e
check "--sse-kms-key-id without --sse aws:kms is a usage error" test $rc -eq 2

# ------------------------------------------------- #18: retention rules
rk=$T/keep/var/log
mkdir -p "$rk"
echo kept | gzip >"$rk/app.log-20251124.gz"
head -c 7000000 /dev/urandom >"$rk/app.log-20251125.gz"
"$BIN" logship upload --to swift://logs/keep --remote-keep 400d --hostname web1 -q \
  --multipart-threshold 6M --part-size 5M "$rk"/*.gz
want_at=$((($(date -u -d 2025-11-24 +%s) / 86400 + 401) * 86400))
check "swift --remote-keep 400d: X-Delete-At is the end of the rotation's day + 400 days" \
  test "$(curl -s -I -H "X-Auth-Token: $(swift auth | sed -n 's/.*OS_AUTH_TOKEN=//p')" \
    "$SWIFT_URL/v1/AUTH_test/logs/keep/web1$rk/app.log-20251124.gz" |
    tr -d '\r' | sed -n 's/^[Xx]-[Dd]elete-[Aa]t: //p')" = "$want_at"
seg=$(swift list logs_segments --prefix "keep/web1$rk/app.log-20251125.gz/" | head -1)
check "swift --remote-keep: SLO segments expire too" \
  test -n "$(swift stat logs_segments "$seg" | grep -i 'delete')"
out=$("$BIN" logship lifecycle --to s3://logs3/keep --endpoint "$S3_ENDPOINT" --keep 400d)
check "lifecycle prints the S3 rule: expire after 400 days under the prefix" \
  grep -q "<Prefix>keep/</Prefix>.*<Expiration><Days>400</Days>" <<<"$out"
check "...and abort incomplete multipart uploads" \
  grep -q "<AbortIncompleteMultipartUpload><DaysAfterInitiation>2<" <<<"$out"
out=$("$BIN" logship lifecycle --to swift://logs/keep --keep 400d)
check "lifecycle on Swift explains X-Delete-At at upload" grep -q "remote-keep 400d" <<<"$out"

# ------------------------------------------- #18: grep across three hosts
for h in web1 web2 web3; do
  g=$T/grep/$h/var/log
  mkdir -p "$g"
  for day in 22 23 24; do
    for i in $(seq 1 400); do
      case $((i % 7)) in
        0) echo "$h 2025-11-$day 10:$((i % 60)) ERROR upstream timed out id=$i" ;;
        3) echo "$h 2025-11-$day 10:$((i % 60)) WARN slow request id=$i" ;;
        *) echo "$h 2025-11-$day 10:$((i % 60)) INFO GET /index id=$i" ;;
      esac
    done | gzip >"$g/app.log-202511$day.gz"
  done
  "$BIN" logship upload --to swift://logs/grep --hostname "$h" -q "$g"/*.gz
done
"$BIN" logship grep --from swift://logs/grep --since 2025-11-23 --until 2025-11-24 \
  --host web1 --host web3 'ERROR.*timed out' | sort >"$T/grep.out"
for h in web1 web3; do
  for day in 23 24; do
    zgrep -H 'ERROR.*timed out' "$T/grep/$h/var/log/app.log-202511$day.gz" | sed "s|^|$h |"
  done
done | sort >"$T/zgrep.out"
check "grep: finds exactly the lines zgrep finds (2 of 3 hosts, 2 days)" \
  cmp -s "$T/grep.out" "$T/zgrep.out"
check "grep: ...and they are not none" test "$(wc -l <"$T/zgrep.out")" -gt 100
"$BIN" logship grep --from swift://logs/grep 'WARN' | sort >"$T/grep.all"
for h in web1 web2 web3; do
  zgrep -H 'WARN' "$T/grep/$h/var/log/"*.gz | sed "s|^|$h |"
done | sort >"$T/zgrep.all"
check "grep: all 3 hosts, all days: same as zgrep" cmp -s "$T/grep.all" "$T/zgrep.all"
out=$("$BIN" logship grep --from swift://logs/grep -m 5 -E 'ERROR|WARN' | wc -l)
check "grep -m 5 stops at 5 lines" test "$out" -eq 5
set +e
"$BIN" logship grep --from swift://logs/grep 'no such line anywhere' >/dev/null
rc=$?
set -e
check "grep: no match exits 1" test $rc -eq 1

echo "$fails failure(s)"
exit $((fails > 0))
