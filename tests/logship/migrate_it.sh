#!/usr/bin/env bash
# Integration test for `stopgap logship migrate-layout` (issue #18): a real
# archive on the real single-node Swift, through its Swift API and its S3 API,
# moved from the host layout to the date layout with server-side copies. The
# migration is killed with SIGKILL halfway, then run again: it finishes, every
# object is under its date key with its original bytes (multipart / SLO
# objects too), nothing is left under the old keys, and a one-day `ls --layout
# date` finds exactly that day's rotations. On Swift the copies keep their
# expiry (X-Delete-At, which Swift's own copy drops); on S3 a source above the
# CopyObject limit (lowered for the test: STOPGAP_TEST_S3_MAX_SINGLE_COPY) is
# copied in parts (UploadPartCopy). Needs: STOPGAP_BIN, STOPGAP_SRC.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
logship_it_init logship_migrate_it
unset AWS_CA_BUNDLE

# 2 hosts x 12 days of small rotations, and one rotation big enough to go
# as an S3 multipart upload / a Swift SLO.
for h in web1 web2; do
  mkdir -p "$T/src/$h/var/log"
  for d in $(seq -w 1 12); do
    printf 'host %s day %s\n' "$h" "$d" | gzip -c >"$T/src/$h/var/log/app.log-202611$d.gz"
  done
done
head -c 12000000 /dev/urandom >"$T/src/web1/var/log/big.log-20261105.gz"
# One PUT (under the 6M multipart threshold), but above the S3 copy limit
# the test sets (5,000,000): copied as 2 parts of 5M.
head -c 5500000 /dev/urandom >"$T/src/web2/var/log/mid.log-20261106.gz"
(cd "$T/src" && find . -type f -name '*.gz' -exec md5sum {} + | sed 's| \./| |' | sort -k2) \
  >"$T/want.md5"
total=$(wc -l <"$T/want.md5")

migrate_store() {  # migrate_store NAME URL [store flags...]; $UPLOAD_FLAGS: upload's only
  local name=$1 url=$2
  shift 2
  for h in web1 web2; do
    # shellcheck disable=SC2086
    "$BIN" logship upload --to "$url" "$@" ${UPLOAD_FLAGS:-} --hostname "$h" \
      --multipart-threshold 6M --part-size 5M -q "$T/src/$h"/var/log/*.gz
  done
  # Killed halfway: one object at a time, SIGKILL once 8 have moved.
  : >"$T/$name.mig1"
  "$BIN" logship migrate-layout --from "$url" "$@" --to-layout date --parallel 1 \
    >"$T/$name.mig1" 2>&1 &
  local pid=$! n=0
  [[ -n ${BEFORE_MIGRATE:-} ]] && $BEFORE_MIGRATE
  for _ in $(seq 1 400); do
    n=$(grep -c '^moved' "$T/$name.mig1" || true)
    ((n >= 8)) && break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  n=$(grep -c '^moved' "$T/$name.mig1" || true)
  check "$name: the first run was killed halfway ($n of $total moved)" \
    test "$n" -ge 8 -a "$n" -lt "$total"

  local out rc=0
  out=$("$BIN" logship migrate-layout --from "$url" "$@" --to-layout date 2>&1) || rc=$?
  # The killed run may have moved one more object than it printed (killed
  # between the delete and the line): what was not moved by then is now.
  # Its counts depend on where the kill landed (and on Swift's container
  # listings, updated after the objects): what matters is that it finishes
  # without a failure, and the third run below finds everything in place.
  local summary
  summary=$(grep '^migrate-layout:' <<<"$out" || true)
  check "$name: the second run finishes (rc $rc): $summary" \
    test "$rc" -eq 0 -a "$(grep -c ' moved .* 0 undated .* 0 failed$' <<<"$summary")" -eq 1
  check "$name: a third run has nothing left to move" \
    grep -q "migrate-layout: 0 moved (0 resumed), $total already in the date layout" \
    <<<"$("$BIN" logship migrate-layout --from "$url" "$@" --to-layout date 2>&1)"

  # (A date key also reads as a host key of host "2026": ask per host.)
  check "$name: nothing is left under the host layout" test -z "$(
    "$BIN" logship ls --from "$url" "$@" --layout host --host web1 2>/dev/null
    "$BIN" logship ls --from "$url" "$@" --layout host --host web2 2>/dev/null
  )"
  out=$("$BIN" logship ls --from "$url" "$@" --layout date --stats --since 2026-11-05 \
    --until 2026-11-05 2>"$T/$name.stats")
  check "$name: one day lists that day's 3 rotations" test "$(wc -l <<<"$out")" -eq 3
  check "$name: ... with one listing request" grep -q "^store requests: 1 listing" \
    "$T/$name.stats"

  rm -rf "$T/got"
  "$BIN" logship get --from "$url" "$@" --layout date --out "$T/got" -q
  (cd "$T/got" && find . -type f -exec md5sum {} + | sed 's| \./| |' | sort -k2) >"$T/got.md5"
  # get writes <host>/<file name>; the originals are <host>/var/log/<name>.
  sed 's|/var/log/|/|' "$T/want.md5" >"$T/want.flat.md5"
  check "$name: every object's bytes came through the move ($total)" \
    diff "$T/want.flat.md5" "$T/got.md5"
}

TOKEN=$(curl -s -D - -o /dev/null -H "X-Auth-User: $ST_USER" -H "X-Auth-Key: $ST_KEY" "$ST_AUTH" |
  tr -d '\r' | sed -n 's/^[Xx]-[Aa]uth-[Tt]oken: //p')
delete_at() {  # delete_at CONTAINER KEY: the object's X-Delete-At, "" when none
  curl -s -I -H "X-Auth-Token: $TOKEN" "$SWIFT_URL/v1/AUTH_test/$1/$2" | tr -d '\r' |
    sed -n 's/^[Xx]-[Dd]elete-[Aa]t: //p'
}
small=$T/src/web1/var/log/app.log-20261103.gz
slo=$T/src/web1/var/log/big.log-20261105.gz
record_expiry() {
  want_small=$(delete_at arch "p/web1$small")
  want_slo=$(delete_at arch "p/web1$slo")
}
# Swift: every object expires 400 days after its day (--remote-keep).
UPLOAD_FLAGS="--remote-keep 400d" BEFORE_MIGRATE=record_expiry migrate_store swift swift://arch/p
check "swift: the uploads carried X-Delete-At ($want_small, $want_slo)" \
  test -n "$want_small" -a -n "$want_slo"
check "swift: a moved object keeps its X-Delete-At" \
  test "$(delete_at arch "p/2026/11/03/web1$small")" = "$want_small"
check "swift: the moved SLO manifest keeps its X-Delete-At" \
  test "$(delete_at arch "p/2026/11/05/web1$slo")" = "$want_slo"
# Swift: the SLO's manifest was copied (segments shared), not its content.
check "swift: the moved big object is still an SLO manifest" \
  grep -qi "Manifest\|x-static-large-object" <<<"$(swift stat arch "p/2026/11/05/web1$slo" 2>&1)"

STOPGAP_TEST_S3_MAX_SINGLE_COPY=5000000 migrate_store s3 s3://arch3/p --endpoint "$S3_ENDPOINT"
# S3: the two objects above the lowered limit went as multipart copies
# (UploadPartCopy): Swift's s3api keeps their parts in arch3+segments, under
# the new key; the bytes were compared above.
check "s3: the 5.5 MB single-PUT object was copied in parts" \
  test -n "$(swift list arch3+segments --prefix "p/2026/11/06/web2$T/src/web2/var/log/mid")"
check "s3: the 12 MB multipart object was copied in parts" \
  test -n "$(swift list arch3+segments --prefix "p/2026/11/05/web1$slo")"

if ((fails > 0)); then
  echo "$fails check(s) failed"
  exit 1
fi
echo "all migrate-layout checks passed"
