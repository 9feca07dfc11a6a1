#!/usr/bin/env bash
# End-to-end: operators in the loop, through a real `stopgap serve` fed by a
# real Prometheus Alertmanager 0.25. A workaround in `mode: approve` whose
# action touches a file:
#  - the file does not exist while the execution awaits approval, and exists
#    once `curl -X POST .../approve` (scope approve) was answered; the decision
#    is recorded with the token's name;
#  - Alertmanager's re-sends (repeat_interval 2s) of the same firing alert
#    while it waits create no second pending execution;
#  - a deny leaves its file untouched; a restart of serve keeps a pending one
#    pending (and approvable); a short approval_timeout expires one;
#  - the storm breaker (max_runs) trips, refuses every workaround, survives a
#    restart, and only `stopgap reset` clears it; GET /api/v1/breaker says so.
# Env: STOPGAP_BIN (the binary), STOPGAP_SRC (the source tree).
set -euo pipefail

# shellcheck source=../e2e/lib.sh
source "$(dirname "$0")/../e2e/lib.sh"
AM=$SRC/scripts/services/alertmanager.sh

TMP=$(mktemp -d /tmp/stopgap-approvals.XXXXXX)
SERVE_PID=""
cleanup() {
  [[ -n $SERVE_PID ]] && kill "$SERVE_PID" 2>/dev/null || true
  "$AM" stop "$TMP/am" >/dev/null 2>&1 || true
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  echo "--- stopgap log" >&2; tail -40 "$TMP/serve.log" >&2 || true
  echo "--- alertmanager log" >&2; tail -20 "$TMP/am/alertmanager.log" 2>/dev/null >&2 || true
  exit 1
}

"$AM" install >/dev/null
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
EXPIRES=$(date -u -d '+20 days' +%F)
umask 077
for t in am ops admin; do "$PY" -c 'import secrets; print(secrets.token_hex(32))' >"$TMP/$t.token"; done
# One workaround per scenario, each matching its own alert: a file per host
# ({{labels.host}}) is what the action touches.
wa() {  # wa ID ALERTNAME MODE TIMEOUT [LIMITS]
  cat <<YAML
  - id: $1
    issue: acme/infra#77
    cause: in-house
    diagnosed: false
    expires: $EXPIRES
    mode: $3
$([[ $3 == approve ]] && echo "    approval_timeout: $4")
    match: {alertname: $2}
    labels: {host: {pattern: "[a-z0-9-]+"}}
    diagnostics:
      - run: [sh, -c, 'echo diag >> "\$0/diag-\$1"', "$TMP", "{{labels.host}}"]
    action:
      - run: [sh, -c, 'touch "\$0/touched-\$1"', "$TMP", "{{labels.host}}"]
    limits: {concurrency: 5${5:+, $5}}
YAML
}
{
  cat <<YAML
server:
  listen: "127.0.0.1:$PORT"
  tokens:
    - {name: alertmanager, file: "$TMP/am.token", scopes: [alerts]}
    - {name: oncall-ops, file: "$TMP/ops.token", scopes: [read, approve]}
    - {name: ops-admin, file: "$TMP/admin.token", scopes: [read, admin]}
ledger: "sqlite://$TMP/ledger.db"
bundles: "$TMP/bundles"
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 60}
workarounds:
YAML
  wa gated GatedFix approve 15m
  wa shadow ShadowFix observe 15m
  wa hurry HurryFix approve 4s
  wa stormy StormFix auto 15m "max_runs: {count: 2, per: 1h}"
} >"$TMP/stopgap.yaml"

out=$("$BIN" check -c "$TMP/stopgap.yaml" --offline) || fail "check: $out"
grep -q "gated: mode approve: .*approval_timeout 15m" <<<"$out" || fail "check does not explain mode: $out"
grep -q "shadow: mode observe" <<<"$out" || fail "check does not explain observe: $out"

start_serve "$TMP/stopgap.yaml" "$TMP/serve.log" "$URL"
READ=(-H "Authorization: Bearer $(cat "$TMP/ops.token")")
OPS=(-H "Authorization: Bearer $(cat "$TMP/ops.token")")
ADMIN=(-H "Authorization: Bearer $(cat "$TMP/admin.token")")
AMURL=$("$AM" start "$TMP/am" "$URL/api/v1/alerts/alertmanager" "$TMP/am.token" 0 2s)
echo "alertmanager at $AMURL, stopgap at $URL"

fire() {  # fire ALERTNAME HOST
  curl -fsS -X POST -H 'Content-Type: application/json' "$AMURL/api/v2/alerts" --data \
    "[{\"labels\":{\"alertname\":\"$1\",\"host\":\"$2\"},\"annotations\":{\"summary\":\"e2e\"}}]" >/dev/null
}
execs() {  # execs WORKAROUND -> the executions JSON
  curl -fsS "${READ[@]}" "$URL/api/v1/executions?workaround=$1"
}
# wait_state WORKAROUND STATE: prints the id of its newest execution in STATE.
wait_state() {
  local id=""
  for _ in $(seq 1 150); do
    id=$(execs "$1" | json "next((str(e['id']) for e in d['executions'] if e['state']=='$2'), '')")
    [[ -n $id ]] && { echo "$id"; return 0; }
    sleep 0.1
  done
  fail "no execution of $1 in state $2 within 15 s: $(execs "$1")"
}
post() {  # post AUTH_ARRAY_NAME PATH BODY -> "<code> <body>"
  local -n auth=$1
  curl -s -o "$TMP/resp" -w '%{http_code}' "${auth[@]}" -X POST --data "$3" "$URL$2"
}

step "1. approve mode: nothing acts before the approval"
fire GatedFix web1
GATED=$(wait_state gated awaiting-approval)
e=$(curl -fsS "${READ[@]}" "$URL/api/v1/executions/$GATED")
$PY - "$e" <<'PY' || fail "awaiting execution: $e"
import json, sys
e = json.loads(sys.argv[1])
assert e["mode"] == "approve", e["mode"]
assert e["approval"] is None and e["approval_deadline"], e
assert [s["phase"] for s in e["steps"]] == ["diagnostics"], e["steps"]
PY
[[ -f $TMP/diag-web1 ]] || fail "the diagnostics did not run before the wait"
[[ ! -e $TMP/touched-web1 ]] || fail "the action ran before any approval"
pending=$(curl -fsS "${READ[@]}" "$URL/api/v1/approvals" | json '[e["id"] for e in d["pending"]]')
[[ $pending == "[$GATED]" ]] || fail "GET /api/v1/approvals: $pending"
found "execution $GATED awaits approval; the file is not there"

step "2. Alertmanager's re-sends while it waits start nothing"
dups=0
for _ in $(seq 1 100); do
  dups=$(curl -fsS "${READ[@]}" "$URL/api/v1/alerts?limit=200" |
    json "sum(1 for a in d['alerts'] if a['disposition']['kind']=='duplicate' and a['disposition']['duplicate_of']==$GATED)")
  ((dups >= 2)) && break
  sleep 0.1
done
((dups >= 2)) || fail "Alertmanager's re-sends were not recorded as duplicates of $GATED ($dups)"
n=$(execs gated | json 'len(d["executions"])')
[[ $n == 1 ]] || fail "re-sends created $n executions of gated"
[[ ! -e $TMP/touched-web1 ]] || fail "a re-send made the action run"
found "$dups re-sends recorded as duplicates of $GATED, one execution"

step "3. scopes: the Alertmanager token may not approve"
AMTOK=(-H "Authorization: Bearer $(cat "$TMP/am.token")")
code=$(post AMTOK "/api/v1/executions/$GATED/approve" '{"comment":"x"}')
[[ $code == 403 ]] || fail "approve with the alerts token: want 403, got $code $(cat "$TMP/resp")"

step "4. approve: the action runs, the decision names the token"
code=$(curl -s -o "$TMP/resp" -w '%{http_code}' "${OPS[@]}" -X POST \
  --data '{"comment":"disk checked, go"}' "$URL/api/v1/executions/$GATED/approve")
[[ $code == 200 ]] || fail "approve: $code $(cat "$TMP/resp")"
wait_for 15 test -e "$TMP/touched-web1" || fail "the approved action did not run"
wait_state gated succeeded >/dev/null
e=$(curl -fsS "${READ[@]}" "$URL/api/v1/executions/$GATED")
$PY - "$e" <<'PY' || fail "approved execution: $e"
import json, sys
e = json.loads(sys.argv[1])
a = e["approval"]
assert a["decision"] == "approved" and a["by"] == "oncall-ops" and a["comment"] == "disk checked, go", a
assert [s["phase"] for s in e["steps"]] == ["diagnostics", "action"], e["steps"]
PY
code=$(post OPS "/api/v1/executions/$GATED/approve" '{}')
[[ $code == 409 ]] || fail "a second approve: want 409, got $code"
found "approved by oncall-ops; the file exists; a second approve is 409"

step "5. deny leaves the file untouched"
fire GatedFix web2
DENY=$(wait_state gated awaiting-approval)
code=$(post OPS "/api/v1/executions/$DENY/deny" '{"comment":"not during the sale"}')
[[ $code == 200 ]] || fail "deny: $code $(cat "$TMP/resp")"
[[ $(json 'd["state"]' <"$TMP/resp") == denied ]] || fail "deny answered $(cat "$TMP/resp")"
sleep 3  # two repeat intervals: Alertmanager re-sends web2, nothing may act
[[ ! -e $TMP/touched-web2 ]] || fail "a denied action ran"
n=$(execs gated | json "sum(1 for e in d['executions'] if e['labels'].get('host')=='web2')")
[[ $n == 1 ]] || fail "the denied instance was asked again ($n executions)"
found "execution $DENY denied; no file; re-sends asked nobody again"

step "6. observe mode records the action as would-run"
fire ShadowFix db1
OBS=$(wait_state shadow observed)
e=$(curl -fsS "${READ[@]}" "$URL/api/v1/executions/$OBS")
$PY - "$e" "$TMP" <<'PY' || fail "observed execution: $e"
import json, sys
e = json.loads(sys.argv[1])
act = [s for s in e["steps"] if s["phase"] == "action"]
assert act and act[0]["outcome"] == "would-run", e["steps"]
assert act[0]["argv"][-2:] == [sys.argv[2], "db1"], act[0]["argv"]
PY
[[ ! -e $TMP/touched-db1 ]] || fail "observe mode ran the action"
found "observed; the action recorded as would-run with its argv"

step "7. a restart keeps a pending approval pending, and it still acts when approved"
fire GatedFix web3
KEEP=$(wait_state gated awaiting-approval)
stop_serve
start_serve "$TMP/stopgap.yaml" "$TMP/serve.log" "$URL"
st=$(curl -fsS "${READ[@]}" "$URL/api/v1/executions/$KEEP" | json 'd["state"]')
[[ $st == awaiting-approval ]] || fail "after a restart execution $KEEP is $st"
[[ ! -e $TMP/touched-web3 ]] || fail "the restart made the action run"
code=$(post OPS "/api/v1/executions/$KEEP/approve" '{"comment":"after restart"}')
[[ $code == 200 ]] || fail "approve after restart: $code $(cat "$TMP/resp")"
wait_for 15 test -e "$TMP/touched-web3" || fail "the action approved after a restart did not run"
found "execution $KEEP survived the restart and acted once approved"

step "8. a short approval_timeout expires (also one made before a restart)"
fire HurryFix app1
HURRY=$(wait_state hurry awaiting-approval)
stop_serve  # its deadline (4 s) passes while serve is down or just back
start_serve "$TMP/stopgap.yaml" "$TMP/serve.log" "$URL"
wait_state hurry approval-expired >/dev/null
e=$(curl -fsS "${READ[@]}" "$URL/api/v1/executions/$HURRY")
[[ $(json 'd["approval"]["decision"]' <<<"$e") == expired ]] || fail "expiry: $e"
code=$(post OPS "/api/v1/executions/$HURRY/approve" '{}')
[[ $code == 409 ]] || fail "approving an expired one: want 409, got $code"
[[ ! -e $TMP/touched-app1 ]] || fail "an expired approval acted"
found "execution $HURRY ended approval-expired; approving it is 409"

step "9. the storm breaker trips, refuses, survives a restart; only reset clears it"
b=$(curl -fsS "${READ[@]}" "$URL/api/v1/breaker")
[[ $(json 'd["tripped"]' <<<"$b") == False ]] || fail "breaker tripped before the storm: $b"
for h in s1 s2 s3; do fire StormFix "$h"; done
for _ in $(seq 1 150); do
  b=$(curl -fsS "${READ[@]}" "$URL/api/v1/breaker")
  [[ $(json 'd["tripped"]' <<<"$b") == True ]] && break
  sleep 0.1
done
[[ $(json 'd["tripped"]' <<<"$b") == True ]] || fail "max_runs 2 did not trip the breaker: $b"
grep -q "stormy" <<<"$(json 'd["reason"]' <<<"$b")" || fail "the reason does not name the workaround: $b"
# Tripped: another workaround is refused too, whatever its own limits say.
fire GatedFix web4
REF=$(wait_state gated refused)
[[ $(curl -fsS "${READ[@]}" "$URL/api/v1/executions/$REF" | json 'd["refusal_reason"]') == circuit-breaker ]] ||
  fail "a workaround ran past the tripped breaker"
stop_serve
start_serve "$TMP/stopgap.yaml" "$TMP/serve.log" "$URL"
b=$(curl -fsS "${READ[@]}" "$URL/api/v1/breaker")
[[ $(json 'd["tripped"]' <<<"$b") == True ]] || fail "a restart cleared the breaker: $b"
code=$(curl -s -o /dev/null -w '%{http_code}' "${OPS[@]}" -X POST --data '{}' "$URL/api/v1/breaker/reset")
[[ $code == 403 ]] || fail "reset without the admin scope: want 403, got $code"
if "$BIN" reset -c "$TMP/stopgap.yaml" --comment "storm over: disk replaced" >"$TMP/reset.out" 2>&1; then
  :
else
  fail "stopgap reset: $(cat "$TMP/reset.out")"
fi
b=$(curl -fsS "${READ[@]}" "$URL/api/v1/breaker")
$PY - "$b" <<'PY' || fail "breaker after reset: $b"
import json, sys
b = json.loads(sys.argv[1])
assert b["tripped"] is False, b
r = b["last_reset"]
assert r["by"] == "ops-admin" and r["comment"] == "storm over: disk replaced" and r["at"], r
PY
found "tripped by stormy's max_runs, refused gated, survived a restart, cleared by stopgap reset"

step "10. report: approvals, denials, expiries and the success rate"
rep=$("$BIN" report -c "$TMP/stopgap.yaml" --format json)
$PY - "$rep" <<'PY' || fail "report: $rep"
import json, sys
r = {w["id"]: w for w in json.loads(sys.argv[1])["workarounds"]}
g = r["gated"]["approvals"]
assert g["approved"] == 2 and g["denied"] == 1 and g["expired"] == 0, g
assert g["success_rate"] == 1.0, g
h = r["hurry"]["approvals"]
assert h["expired"] == 1 and h["approved"] == 0, h
assert r["stormy"]["approvals"] is None and r["stormy"]["mode"] == "auto"
PY
"$BIN" report -c "$TMP/stopgap.yaml" | grep -Eq '^gated +approve +2 +1 +0 +[0-9]+ +100% \(2/2\)' ||
  fail "report text: $("$BIN" report -c "$TMP/stopgap.yaml" | tail -6)"
found "report: gated 2 approved, 1 denied, 100% success; hurry 1 expired"
stop_serve
echo "PASS"
