#!/usr/bin/env bash
# Integration test: the real `stopgap logship` against a real single-node
# Swift 2.30 (scripts/services/swift.sh), through both its Swift API
# (TempAuth) and its S3 API (SigV4), and Debian's real logrotate.
# Covers: upload/verify/idempotent re-run, S3 multipart and Swift SLO above a
# small threshold (an SLO overwrite deletes the old segments), a server that
# goes away mid-upload, wrong credentials, the progress bar on a TTY,
# ls/get by date, rename-dateext with a collision, logrotate -f + lastaction.
# Needs: STOPGAP_BIN, STOPGAP_SRC (set by CTest). Exits non-zero on failure.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
logship_it_init logship_it

mk_logs() {  # DIR: a live log, two gzip'd dateext rotations, one delaycompress one
  local d=$1
  mkdir -p "$d"
  echo "live line" >"$d/app.log"
  head -c 300000 /dev/urandom | base64 | gzip -1 >"$d/app.log-20261101.gz"
  head -c 2000000 /dev/urandom >"$d/app.log-20261102.gz"  # incompressible, 2 MB
  echo "not compressed yet" >"$d/app.log-20261103"
}

run_api() {  # run_api NAME URL [store flags...]: the same scenario over one API
  local api=$1 url=$2
  shift 2
  local flags=("$@") d=$T/$api/log out
  mk_logs "$d"

  out=$("$BIN" logship sweep --to "$url" "${flags[@]}" --hostname web1 "$d/app.log " 2>&1) ||
    { bad "$api: first sweep ($out)"; return; }
  check "$api: first sweep uploads 2 and skips the uncompressed one" \
    grep -q "2 uploaded .*0 already archived, 1 skipped, 0 failed" <<<"$out"
  out=$("$BIN" logship sweep --to "$url" "${flags[@]}" --hostname web1 "$d/app.log" 2>&1)
  check "$api: re-run is a no-op" grep -q "0 uploaded .*2 already archived" <<<"$out"
  check "$api: state file is 0600" test "$(stat -c %a "$STOPGAP_LOGSHIP_STATE")" = 600

  # What is in the store is byte-identical (fetched back, by date).
  "$BIN" logship get --from "$url" "${flags[@]}" --host web1 --since 2026-11-02 \
    --until 2026-11-02 --out "$T/$api/got" -q
  check "$api: get by date returns the same bytes" \
    cmp -s "$T/$api/got/web1/app.log-20261102.gz" "$d/app.log-20261102.gz"
  "$BIN" logship get --from "$url" "${flags[@]}" --until 2026-11-01 --decompress \
    --out "$T/$api/unz" -q
  check "$api: get --decompress" \
    cmp -s <(gunzip -c "$d/app.log-20261101.gz") "$T/$api/unz/web1/app.log-20261101"
  out=$("$BIN" logship ls --from "$url" "${flags[@]}" --since 2026-11-02 app.log)
  check "$api: ls --since lists one rotation" test "$(wc -l <<<"$out")" -eq 1
  check "$api: ls shows host, day and absolute path" \
    grep -q "^2026-11-02 *2000000 web1 $d/app.log-20261102.gz$" <<<"$out"

  # Above the (small) threshold: S3 multipart / Swift SLO with parallel parts.
  head -c 12000000 /dev/urandom >"$d/app.log-20261104.gz"
  out=$("$BIN" logship upload --to "$url" "${flags[@]}" --hostname web1 \
    --multipart-threshold 6M --part-size 5M --parallel 3 "$d/app.log-20261104.gz" 2>&1) ||
    { bad "$api: large upload ($out)"; }
  check "$api: large file goes in 3 verified parts" grep -q "3 parts, verified" <<<"$out"
  "$BIN" logship get --from "$url" "${flags[@]}" --since 2026-11-04 --out - \
    >"$T/$api/big.out"
  check "$api: large object reads back identical" cmp -s "$T/$api/big.out" "$d/app.log-20261104.gz"
  out=$("$BIN" logship upload --to "$url" "${flags[@]}" --hostname web1 \
    --multipart-threshold 6M --part-size 5M "$d/app.log-20261104.gz" 2>&1)
  check "$api: large re-upload is a no-op" grep -q "1 already archived" <<<"$out"
  if [[ $api == swift ]]; then
    # Overwriting an SLO with another size: the old segments are deleted once
    # the new manifest is verified.
    head -c 9000000 /dev/urandom >"$d/app.log-20261104.gz"
    out=$("$BIN" logship upload --to "$url" "${flags[@]}" --hostname web1 \
      --multipart-threshold 6M --part-size 5M "$d/app.log-20261104.gz" 2>&1) ||
      bad "swift: SLO overwrite ($out)"
    check "swift: SLO overwrite goes in 2 verified parts" grep -q "2 parts, verified" <<<"$out"
    segs=$(swift list logs_segments --prefix "it/web1$d/app.log-20261104.gz/slo/")
    check "swift: only the new SLO's 2 segments remain" \
      test "$(grep -c '/slo/9000000/' <<<"$segs")" -eq 2 -a "$(wc -l <<<"$segs")" -eq 2
    "$BIN" logship get --from "$url" "${flags[@]}" --since 2026-11-04 --out - >"$T/$api/big2.out"
    check "swift: overwritten SLO reads back identical" \
      cmp -s "$T/$api/big2.out" "$d/app.log-20261104.gz"
  fi

  # --delete-after-upload removes only verified-archived rotations.
  out=$("$BIN" logship sweep --to "$url" "${flags[@]}" --hostname web1 \
    --delete-after-upload "$d/app.log" 2>&1)
  check "$api: delete-after-upload removes archived rotations" \
    test ! -e "$d/app.log-20261101.gz" -a ! -e "$d/app.log-20261102.gz"
  check "$api: ...but keeps the live log and the unshipped one" \
    test -e "$d/app.log" -a -e "$d/app.log-20261103"
}

# Swift API (TempAuth v1 from ST_AUTH/ST_USER/ST_KEY).
run_api swift "swift://logs/it"
# S3 API of the same server (SigV4, path-style because the endpoint is an IP).
run_api s3 "s3://logs3/it" --endpoint "$S3_ENDPOINT"

# Wrong credentials: clear error, exit 1, nothing deleted, nothing recorded.
mk_logs "$T/creds/log"
before=$(stat -c %s "$STOPGAP_LOGSHIP_STATE")
set +e
out=$(AWS_SECRET_ACCESS_KEY=wrong "$BIN" logship sweep --to s3://logs3/creds \
  --endpoint "$S3_ENDPOINT" --delete-after-upload "$T/creds/log/app.log" 2>&1)
rc=$?
set -e
check "s3 wrong secret: exit 1" test $rc -eq 1
check "s3 wrong secret: says 403 and what to check" grep -q "403.*AWS_SECRET_ACCESS_KEY" <<<"$out"
set +e
out=$(ST_KEY=wrong "$BIN" logship sweep --to swift://logs/creds --delete-after-upload \
  "$T/creds/log/app.log" 2>&1)
rc=$?
set -e
check "swift wrong key: exit 1" test $rc -eq 1
check "swift wrong key: says 401 and what to check" grep -q "401.*ST_KEY" <<<"$out"
check "wrong credentials: nothing deleted" test -e "$T/creds/log/app.log-20261101.gz"
check "wrong credentials: nothing recorded" test "$(stat -c %s "$STOPGAP_LOGSHIP_STATE")" = "$before"

# The server goes away mid-upload: the local file stays, the next sweep completes.
mkdir -p "$T/outage/log"
echo live >"$T/outage/log/app.log"
head -c 40000000 /dev/urandom >"$T/outage/log/app.log-20261105.gz"
"$BIN" logship sweep --to swift://logs/outage --bwlimit 8M --parallel 1 --delete-after-upload \
  "$T/outage/log/app.log" >"$T/outage/first.out" 2>&1 &
sweep_pid=$!
sleep 1.5
"$SWIFT_SH" stop-proxy "$T/swift"
set +e
wait $sweep_pid
rc=$?
set -e
check "outage: sweep fails with exit 1" test $rc -eq 1
check "outage: local file stays" test -e "$T/outage/log/app.log-20261105.gz"
"$SWIFT_SH" start-proxy "$T/swift"
out=$("$BIN" logship sweep --to swift://logs/outage --delete-after-upload \
  "$T/outage/log/app.log" 2>&1) || true
check "outage: next sweep uploads and verifies" grep -q "1 uploaded" <<<"$out"
check "outage: and only then deletes" test ! -e "$T/outage/log/app.log-20261105.gz"

# Progress bar: drawn on a TTY for a transfer over a second, never otherwise.
pb=$T/pbar
mkdir -p "$pb"
head -c 6000000 /dev/urandom >"$pb/app.log-20261106.gz"
cp "$pb/app.log-20261106.gz" "$pb/app.log-20261107.gz"
script -qec "STOPGAP_LOGSHIP_STATE=$pb/state $BIN logship upload --to swift://logs/pbar \
  --bwlimit 3M $pb/app.log-20261106.gz" /dev/null >"$pb/tty.out" 2>&1 || true
check "progress: a bar with percent and ETA on a TTY" grep -q '\[#*>* *\] *[0-9]*%.*MB/s ETA' "$pb/tty.out"
STOPGAP_LOGSHIP_STATE=$pb/state "$BIN" logship upload --to swift://logs/pbar --bwlimit 3M \
  "$pb/app.log-20261107.gz" >"$pb/pipe.out" 2>&1
check "progress: no bar when stderr is not a TTY" test "$(grep -c 'ETA' "$pb/pipe.out")" -eq 0
cp "$pb/app.log-20261106.gz" "$pb/app.log-20261108.gz"
script -qec "STOPGAP_LOGSHIP_STATE=$pb/state $BIN logship upload --quiet --to swift://logs/pbar \
  --bwlimit 3M $pb/app.log-20261108.gz" /dev/null >"$pb/quiet.out" 2>&1 || true
check "progress: no bar under --quiet" test "$(grep -c 'ETA' "$pb/quiet.out")" -eq 0

# rename-dateext on a tree of numbered rotations, with a collision.
r=$T/rename
mkdir -p "$r"
echo live >"$r/app.log"
echo one >"$r/app.log.1" && touch -d "2026-11-20 10:00" "$r/app.log.1"
echo two | gzip >"$r/app.log.2.gz" && touch -d "2026-11-19 10:00" "$r/app.log.2.gz"
echo three | gzip >"$r/app.log.3.gz" && touch -d "2026-11-19 11:00" "$r/app.log.3.gz"
echo prior >"$r/app.log-20261118.xz"
echo four | xz >"$r/app.log.4.xz" && touch -d "2026-11-18 10:00" "$r/app.log.4.xz"
out=$(TZ=UTC "$BIN" logship rename-dateext --dry-run "$r/app.log" || true)
check "rename --dry-run changes nothing" test -e "$r/app.log.1" -a ! -e "$r/app.log-20261120"
check "rename --dry-run says what it would do" grep -q "would rename $r/app.log.1 -> $r/app.log-20261120" <<<"$out"
set +e
out=$(TZ=UTC "$BIN" logship rename-dateext "$r/app.log")
rc=$?
set -e
check "rename: exit 1 when a collision was left" test $rc -eq 1
check "rename: app.log.1 -> -20261120" test "$(cat "$r/app.log-20261120")" = one
check "rename: app.log.2.gz -> -20261119.gz" test "$(gunzip -c "$r/app.log-20261119.gz")" = two
check "rename: same-day app.log.3.gz left as it is" test -e "$r/app.log.3.gz"
check "rename: existing target not overwritten" test "$(cat "$r/app.log-20261118.xz")" = prior
check "rename: collisions reported" test "$(grep -c '^collision' <<<"$out")" -eq 2

# Debian's real logrotate, its own state file, lastaction calls the sweep.
lr=$T/logrotate
mkdir -p "$lr/log"
for i in $(seq 1 2000); do echo "line $i"; done >"$lr/log/app.log"
for i in $(seq 1 100); do echo "other $i"; done >"$lr/log/worker.log"
echo "old rotation" | gzip >"$lr/log/app.log-20261001.gz"
cat >"$lr/logrotate.conf" <<EOF
$lr/log/*.log {
    daily
    rotate 30
    dateext
    compress
    missingok
    notifempty
    sharedscripts
    lastaction
        STOPGAP_LOGSHIP_STATE=$lr/state ST_AUTH=$ST_AUTH ST_USER=$ST_USER ST_KEY=$ST_KEY \\
          $BIN logship sweep --to swift://logs/lr --hostname web1 --quiet "\$1" >>$lr/sweep.out 2>&1
    endscript
}
EOF
logrotate -f -s "$lr/logrotate.state" "$lr/logrotate.conf"
today=$(date +%Y%m%d)
check "logrotate: rotated and compressed" test -e "$lr/log/app.log-$today.gz"
out=$("$BIN" logship ls --from swift://logs/lr --host web1)
check "logrotate: lastaction shipped today's app.log rotation" grep -q "$lr/log/app.log-$today.gz" <<<"$out"
check "logrotate: ...and worker.log's (glob)" grep -q "$lr/log/worker.log-$today.gz" <<<"$out"
check "logrotate: ...and the old one" grep -q "$lr/log/app.log-20261001.gz" <<<"$out"
check "logrotate: sweep printed no errors" test ! -s "$lr/sweep.out"
"$BIN" logship get --from swift://logs/lr --host web1 --since "$(date +%Y-%m-%d)" --decompress \
  --out "$lr/got" -q app.log
check "logrotate: fetched rotation has the log's lines" \
  test "$(wc -l <"$lr/got/web1/app.log-$today")" -eq 2000

echo "$fails failure(s)"
exit $((fails > 0))
