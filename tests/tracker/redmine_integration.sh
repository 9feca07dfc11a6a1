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

# ---- TrackerSync against the real Redmine, with a real SQLite ledger ----------
I3=$(new_issue "rabbitmq partitions")
I4=$(new_issue "web tier 502s")
EXPIRES=$(date -u -d "+20 days" +%F)
cat >"$TMP/stopgap.yaml" <<YAML
ledger: sqlite://$TMP/ledger.db
bundles: $TMP/bundles
tracker: {kind: redmine, url: "$URL", token_file: $TMP/token, refresh: 5m, update_interval: 15m}
workarounds:
YAML
for spec in "rpc:#$I1" "disk:#$I2" "rabbit:#$I3" "ghost:#999" "web:#$I4"; do
  cat >>"$TMP/stopgap.yaml" <<YAML
  - id: ${spec%%:*}
    issue: "${spec#*:}"
    cause: in-house
    diagnosed: false
    expires: $EXPIRES
    diagnostics:
      - run: [uptime]
    action:
      - run: ["true"]
YAML
done
S=("$DRV" --catalog "$TMP/stopgap.yaml" --ledger "$TMP/ledger.db" --state "$TMP/tracker-state.json")
journals() {  # ISSUE -> "<journals with notes> <with summary marker> <with text $2>"
  api GET "/issues/$1.json?include=journals" | python3 -c '
import json, sys
j = [x["notes"] for x in json.load(sys.stdin)["issue"]["journals"] if x["notes"]]
print(len(j), sum("stopgap:workaround-summary" in n for n in j), sum(sys.argv[1] in n for n in j))' "$2"
}

step "check: the unknown issue fails verification"
if "${S[@]}" verify >"$TMP/verify" 2>&1; then fail "verify must fail for #999"; fi
grep -q "unknown-issue" "$TMP/verify" || fail "verify: $(cat "$TMP/verify")"
grep -q "issue-closed" "$TMP/verify" || fail "closed #$I2 must be a warning: $(cat "$TMP/verify")"

step "sync: unknown issue refused, closed issue retired in one refresh"
out=$("${S[@]}" sync)
[[ $out == "closed=#$I2 unknown=#999 "* ]] || fail "sync: $out"
[[ $(journals "$I2" "workaround disk has stopped") == "2 0 1" ]] || fail "retirement note on #$I2: $(journals "$I2" "has stopped")"
"${S[@]}" sync >/dev/null
[[ $(journals "$I2" "has stopped") == "2 0 1" ]] || fail "retirement note repeated"

step "sync: one summary comment, created once, then edited in place"
"${S[@]}" record rpc succeeded >/dev/null
out=$("${S[@]}" sync)
[[ $out == *"pending=0 sent=1 "* ]] || fail "first summary: $out"
[[ $(journals "$I1" "1 in total") == "1 1 1" ]] || fail "summary on #$I1: $(journals "$I1" "1 in total")"
"${S[@]}" record rpc failed >/dev/null
"${S[@]}" --advance 16m sync >/dev/null
[[ $(journals "$I1" "2 in total") == "1 1 1" ]] || fail "summary not edited in place: $(journals "$I1" "2 in total")"

step "sync: closing an open issue retires its workaround within one refresh"
api PUT "/issues/$I3.json" '{"issue":{"status_id":5}}' >/dev/null
out=$("${S[@]}" --advance 5m sync)
[[ $out == "closed=#$I2,#$I3 "* ]] || fail "close of #$I3 not seen in one refresh: $out"

step "outage: Redmine stops, updates queue in the ledger, nothing is lost"
"$REDMINE" stop "$TMP/redmine"
"${S[@]}" record rpc succeeded >/dev/null
out=$("${S[@]}" --advance 40m sync)
[[ $out == "closed=#$I2,#$I3 unknown=#999 pending=1 sent=0 "* ]] || fail "during outage: $out"
"${S[@]}" record rpc succeeded >/dev/null
out=$("${S[@]}" --advance 60m --ticks 3 --step 1m sync)
[[ $out == *"pending="[12]" sent=0 "* ]] || fail "still down: $out"
"$REDMINE" restart "$TMP/redmine" >/dev/null
out=$("${S[@]}" --advance 90m sync)
[[ $out == "closed=#$I2,#$I3 unknown=#999 pending=0 "* ]] || fail "after restart: $out"
[[ $(journals "$I1" "4 in total") == "1 1 1" ]] || fail "lost update: $(journals "$I1" "4 in total")"

step "stopgap run asks the tracker first"
BIN=${STOPGAP_BIN:-${STOPGAP_BUILD:?}/stopgap}
run_case() {  # WANT_RC GREP ARGS...: runs `stopgap run`, checks the exit code and output
  local want=$1 pattern=$2 rc=0
  shift 2
  "$BIN" run -c "$TMP/stopgap.yaml" "$@" >"$TMP/run.out" 2>&1 || rc=$?
  [[ $rc == "$want" ]] || fail "stopgap run $*: exit $rc, want $want: $(cat "$TMP/run.out")"
  grep -q -- "$pattern" "$TMP/run.out" || fail "stopgap run $*: no '$pattern' in: $(cat "$TMP/run.out")"
}
run_case 1 "refused (retired)" disk
run_case 1 "refused (unknown-issue)" ghost
run_case 0 "tracker: issue #$I4: New" web
run_case 0 "not asked (--offline)" disk --offline
refused=$(sqlite3 "$TMP/ledger.db" "SELECT group_concat(workaround_id || ':' || refusal_reason) FROM executions WHERE state='refused' AND source='manual' ORDER BY id")
[[ $refused == "disk:retired,ghost:unknown-issue" ]] || fail "refusals recorded: $refused"


# stopgap run with the tracker down: the state file serve keeps decides.
"$REDMINE" stop "$TMP/redmine"
run_case 1 "last known state from $TMP/tracker-state.json: issue #$I3 closed" rabbit
run_case 1 "refused (retired)" rabbit

step "ok"
echo "redmine integration: $(($(date +%s) - T0)) s"
