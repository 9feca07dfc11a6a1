#!/usr/bin/env bash
# limits.group_by, time degraded and live events, driving a real `stopgap
# serve` from outside with curl:
#   - `stopgap check` says how each workaround's limits count;
#   - DiskFull on db1 and then db2 both run (limits per host), a second db2
#     alert (another mount, so not the same firing instance) is refused
#     `cooldown` for group host=db2 only, and db3 still runs; the alerts API
#     shows each disposition (ran / refused with reason and group);
#   - a failing bandaid's alert resolves: its execution's degraded_seconds is
#     endsAt - startsAt, and GET /api/v1/cost and `report --format json` give
#     the same figures, ranking it first where to invest;
#   - `curl -N /api/v1/events?token=` sees the executions and alerts appear.
# Env: STOPGAP_BIN (the binary), STOPGAP_SRC (the source tree).
set -euo pipefail

# shellcheck source=../e2e/lib.sh
source "$(dirname "$0")/../e2e/lib.sh"

TMP=$(mktemp -d /tmp/stopgap-groupcost.XXXXXX)
SERVE_LOG=$TMP/serve.log
SERVE_PID=""
EVENTS_PID=""
cleanup() {
  [[ -n $EVENTS_PID ]] && kill "$EVENTS_PID" 2>/dev/null || true
  [[ -n $SERVE_PID ]] && kill "$SERVE_PID" 2>/dev/null || true
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
cat >"$TMP/stopgap.yaml" <<YAML
server: {listen: "127.0.0.1:$PORT", token_file: "$TMP/token"}
ledger: "sqlite://$TMP/ledger.db"
bundles: "$TMP/bundles"
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 100}
workarounds:
  - id: disk-full-cleanup
    issue: acme/infra#101
    cause: in-house
    diagnosed: false
    expires: $(date -u -d '+20 days' +%F)
    match: {alertname: DiskFull}
    labels: {host: {pattern: "db[0-9]{1,3}"}}
    diagnostics:
      - run: ["true"]
    action:
      - run: [echo, cleaning, "{{labels.host}}"]
    verify:
      - run: ["true"]
    limits: {cooldown: 10m, concurrency: 1, group_by: [host]}
  - id: flaky-restart
    issue: acme/infra#202
    cause: in-house
    diagnosed: false
    expires: $(date -u -d '+20 days' +%F)
    match: {alertname: Flaky}
    diagnostics:
      - run: ["true"]
    action:
      - run: ["true"]
    verify:
      - run: ["false"]
  - id: shared-cooldown
    issue: acme/infra#303
    cause: in-house
    diagnosed: true
    root_cause: known
    expires: $(date -u -d '+20 days' +%F)
    match: {alertname: Other}
    diagnostics:
      - run: ["true"]
    action:
      - run: ["true"]
    limits: {cooldown: 10m}
YAML

step "check explains how limits count"
"$BIN" check --offline -c "$TMP/stopgap.yaml" >"$TMP/check.out" 2>&1 || fail "check: $(cat "$TMP/check.out")"
grep -q "disk-full-cleanup: limits count per group of host" "$TMP/check.out" ||
  fail "check does not explain group_by: $(cat "$TMP/check.out")"
grep -q "shared-cooldown: limits count per workaround (no limits.group_by)" "$TMP/check.out" ||
  fail "check does not explain the default: $(cat "$TMP/check.out")"
found "$(grep -c 'limits count' "$TMP/check.out") workaround(s) explained"

start_serve "$TMP/stopgap.yaml" "$SERVE_LOG" "$URL"
TOKEN=$(cat "$TMP/token")
AUTH=(-H "Authorization: Bearer $TOKEN")
api() { curl -fsS "${AUTH[@]}" "$URL$1"; }
post() { curl -fsS "${AUTH[@]}" -H 'Content-Type: application/json' -X POST "$URL/api/v1/alerts" --data "$1"; }
state_of() { api "/api/v1/executions/$1" | json "d['state']"; }
finished() { [[ $(state_of "$1") =~ ^(succeeded|failed)$ ]]; }

step "live events: curl -N with ?token="
curl -sN "$URL/api/v1/events?token=$TOKEN" >"$TMP/events.txt" 2>"$TMP/events.err" &
EVENTS_PID=$!
wait_for 10 grep -q '^retry: 3000' "$TMP/events.txt" || fail "no event stream: $(cat "$TMP/events.txt" "$TMP/events.err")"
head -c 300 "$TMP/events.txt" | grep -q "^retry" || fail "stream does not start with retry"
curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/events" | grep -q 401 || fail "events without a token not refused"

now_minus() { date -u -d "-$1 seconds" +%Y-%m-%dT%H:%M:%SZ; }
step "group_by: db1 then db2 both run"
DB1_START=$(now_minus 120)
E1=$(post "{\"name\":\"DiskFull\",\"labels\":{\"host\":\"db1\"},\"starts_at\":\"$DB1_START\"}" | json "d['execution_details'][0]['id'] if d['execution_details'][0]['state']=='matched' else 'refused'")
[[ $E1 =~ ^[0-9]+$ ]] || fail "db1 not admitted: $E1"
E2=$(post '{"name":"DiskFull","labels":{"host":"db2"}}' | json "d['execution_details'][0]['state']+' '+str(d['execution_details'][0]['id'])")
[[ $E2 == matched* ]] || fail "db2 right after db1 not admitted (the per-workaround cooldown?): $E2"
E2=${E2#matched }
wait_for 20 finished "$E1" || fail "execution $E1 did not finish"
wait_for 20 finished "$E2" || fail "execution $E2 did not finish"
[[ $(state_of "$E1") == succeeded && $(state_of "$E2") == succeeded ]] || fail "db1/db2 did not succeed"
api "/api/v1/executions/$E2" | json "d['group']" | grep -q "'host': 'db2'" || fail "execution has no group"
found "db1 ran as $E1, db2 as $E2"

step "db2's repeat is refused cooldown for host=db2 only; db3 runs"
R=$(post '{"name":"DiskFull","labels":{"host":"db2","mount":"/var"}}')
echo "$R" | json "d['execution_details'][0]['state'], d['execution_details'][0].get('reason')" |
  grep -q "refused cooldown" || fail "second db2 alert not refused cooldown: $R"
E3=$(echo "$R" | json "d['execution_details'][0]['id']")
api "/api/v1/executions/$E3" | json "d['group'] == {'host': 'db2'} and 'for host=db2' in d['detail']" | grep -qx True ||
  fail "refusal does not name its group: $(api "/api/v1/executions/$E3")"
E4=$(post '{"name":"DiskFull","labels":{"host":"db3"}}' | json "d['execution_details'][0]['state']")
[[ $E4 == matched ]] || fail "db3 not admitted: $E4"
A=$(api "/api/v1/alerts?limit=20")
echo "$A" | json "[a['disposition'] for a in d['alerts'] if a['execution']==$E3][0]" >"$TMP/disp.txt"
$PY - "$TMP/disp.txt" <<'PY' || fail "refused alert's disposition: $(cat "$TMP/disp.txt")"
import ast, sys
d = ast.literal_eval(open(sys.argv[1]).read())
assert d["kind"] == "refused" and d["reason"] == "cooldown" and d["group"] == {"host": "db2"}, d
assert d["execution_id"] is not None and d["duplicate_of"] is None, d
PY
echo "$A" | json "[a['disposition']['kind'] for a in d['alerts'] if a['execution']==$E1][0]" | grep -qx ran ||
  fail "db1's alert is not 'ran'"
found "refused $E3 for host=db2, db3 ran"

step "time degraded: a failing bandaid until its alert resolves"
F_START=$(now_minus 600)
F_END=$(now_minus 100)
F=$(post "{\"name\":\"Flaky\",\"labels\":{\"svc\":\"x\"},\"starts_at\":\"$F_START\"}" | json "d['execution_details'][0]['id']")
wait_for 20 finished "$F" || fail "flaky execution did not finish"
[[ $(state_of "$F") == failed ]] || fail "flaky execution did not fail"
[[ $(api "/api/v1/executions/$F" | json "d['degraded_seconds']") == None ]] || fail "degraded set while the alert fires"
post "{\"name\":\"Flaky\",\"labels\":{\"svc\":\"x\"},\"status\":\"resolved\",\"starts_at\":\"$F_START\",\"endsAt\":\"$F_END\"}" >/dev/null
DEG=$(api "/api/v1/executions/$F" | json "d['degraded_seconds']")
[[ $DEG == 500.0 ]] || fail "degraded_seconds $DEG, want 500 (endsAt - startsAt)"
D1=$(api "/api/v1/executions/$E1" | json "d['degraded_seconds']")
$PY -c "import sys; d=float('$D1'); sys.exit(0 if 120 <= d < 150 else 1)" ||
  fail "db1 degraded $D1 s, want startsAt (120 s ago) to its verify"
api /api/v1/cost >"$TMP/cost.json"
"$BIN" report -c "$TMP/stopgap.yaml" --format json >"$TMP/report.json" || fail "report failed"
$PY - "$TMP/cost.json" "$TMP/report.json" "$D1" <<'PY' || fail "cost figures: $(cat "$TMP/cost.json")"
import json, sys
api = json.load(open(sys.argv[1]))
rep = json.load(open(sys.argv[2]))["cost"]
d1 = float(sys.argv[3])
for c in (api, rep):
    w = {x["id"]: x for x in c["workarounds"]}
    f = w["flaky-restart"]
    assert f["runs"] == 1 and f["degraded_seconds"] == 500 and f["median_resolve_seconds"] == 500, f
    assert f["diagnosed"] is False and f["mode"] == "auto" and f["acting_seconds"] >= 0, f
    assert f["weekly"][-1]["runs"] == 1 and f["weekly"][-1]["degraded_seconds"] == 500, f
    dk = w["disk-full-cleanup"]
    assert dk["runs"] == 3, dk  # db1, db2, db3; the refusal is not a run
    assert d1 <= dk["degraded_seconds"], dk
    i = {x["issue"]: x for x in c["issues"]}
    assert i["acme/infra#202"]["degraded_seconds"] == 500, i
    assert [x["id"] for x in c["invest"]][:2] == ["flaky-restart", "disk-full-cleanup"], c["invest"]
    assert "shared-cooldown" not in [x["id"] for x in c["invest"]]
assert [x["id"] for x in api["invest"]] == [x["id"] for x in rep["invest"]]
PY
found "degraded 500 s from startsAt to endsAt; cost and report agree"

step "the event stream saw the executions and alerts"
wait_for 10 grep -q "\"id\":$F," "$TMP/events.txt" || fail "no event for execution $F: $(head -c 2000 "$TMP/events.txt")"
grep -q '^event: execution$' "$TMP/events.txt" || fail "no execution event"
grep -q '^event: alert$' "$TMP/events.txt" || fail "no alert event"
$PY - "$TMP/events.txt" "$E1" <<'PY' || fail "execution events for $E1: $(head -c 2000 "$TMP/events.txt")"
import json, sys
text = open(sys.argv[1]).read()
eid = int(sys.argv[2])
states = []
for block in text.split("\n\n"):
    lines = block.split("\n")
    if "event: execution" not in lines:
        continue
    data = "\n".join(l[6:] for l in lines if l.startswith("data: "))
    e = json.loads(data)
    if e["id"] == eid:
        states.append(e["state"])
assert states[0] == "matched" and states[-1] == "succeeded", states
PY
found "$(grep -c '^event: execution$' "$TMP/events.txt") execution events, $(grep -c '^event: alert$' "$TMP/events.txt") alert events"
kill "$EVENTS_PID" 2>/dev/null || true
EVENTS_PID=""
stop_serve
echo "PASS"
