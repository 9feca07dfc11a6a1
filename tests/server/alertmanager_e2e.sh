#!/usr/bin/env bash
# End-to-end: a real Prometheus Alertmanager 0.25 whose webhook receiver is a
# real `stopgap serve`. A firing alert posted to Alertmanager's API v2 must make
# stopgap run the matching workaround (diagnostics before the action, both
# timestamped in the ledger), Alertmanager's re-send must be recorded as a
# duplicate (no second run), and the resolve (same labels, endsAt in the past)
# must be recorded against the execution without acting. Also: 401 without the
# token, 400 naming the field for a bad payload, SIGTERM exits 0.
# Env: STOPGAP_BIN (the binary), STOPGAP_SRC (the source tree).
set -euo pipefail

# SRC, BIN, PY, free_port, json, start_serve/stop_serve (fail is ours, below).
# shellcheck source=../e2e/lib.sh
source "$(dirname "$0")/../e2e/lib.sh"
AM=$SRC/scripts/services/alertmanager.sh

TMP=$(mktemp -d /tmp/stopgap-am-e2e.XXXXXX)
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
  echo "--- alertmanager log" >&2; tail -20 "$TMP/am/alertmanager.log" >&2 || true
  exit 1
}

"$AM" install
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
EXPIRES=$(date -u -d '+20 days' +%F)
LOG="$TMP/steps.log"
cat >"$TMP/stopgap.yaml" <<YAML
server: {listen: "127.0.0.1:$PORT", token_file: "$TMP/token"}
ledger: "sqlite://$TMP/ledger.db"
bundles: "$TMP/bundles"
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 60}
workarounds:
  - id: e2e-restart
    issue: acme/infra#42
    cause: in-house
    diagnosed: false
    expires: $EXPIRES
    match: {alertname: StopgapE2E, labels: {severity: critical}}
    diagnostics:
      - run: [sh, -c, 'echo "diagnostics \$(date +%s%N)" >> "\$0"', "$LOG"]
    action:
      - run: [sh, -c, 'echo "action \$1 \$(date +%s%N)" >> "\$0"', "$LOG", "{{labels.service}}"]
    verify:
      - run: ["true"]
    limits: {cooldown: 10m, concurrency: 1}
YAML

start_serve "$TMP/stopgap.yaml" "$TMP/serve.log" "$URL"
[[ $(stat -c %a "$TMP/token") == 600 ]] || fail "token file is not 0600"
TOKEN=$(cat "$TMP/token")
grep -q "$TOKEN" "$TMP/serve.log" && fail "the token appeared in the log"
AUTH=(-H "Authorization: Bearer $TOKEN")

# Auth and bad input, before Alertmanager is involved.
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data '{"alerts":[]}' "$URL/api/v1/alerts/alertmanager")
[[ $code == 401 ]] || fail "no token: want 401, got $code"
body=$(curl -s -w '\n%{http_code}' "${AUTH[@]}" -X POST \
  --data '{"alerts":[{"status":"firing","labels":{"alertname":"X","n":1}}]}' "$URL/api/v1/alerts/alertmanager")
[[ $(tail -1 <<<"$body") == 400 ]] || fail "bad payload: want 400, got $body"
grep -q 'alerts\[0\].labels.n' <<<"$body" || fail "400 reason must name the field: $body"

AMURL=$("$AM" start "$TMP/am" "$URL/api/v1/alerts/alertmanager" "$TMP/token" 0 2s)
echo "alertmanager at $AMURL, stopgap at $URL"

alert() {  # alert ENDS_AT_OR_EMPTY
  local ends=""
  [[ -n $1 ]] && ends=",\"endsAt\":\"$1\""
  curl -fsS -X POST -H 'Content-Type: application/json' "$AMURL/api/v2/alerts" --data \
    "[{\"labels\":{\"alertname\":\"StopgapE2E\",\"severity\":\"critical\",\"service\":\"nova-compute\"},\"annotations\":{\"summary\":\"e2e\"},\"generatorURL\":\"http://127.0.0.1/e2e\"$ends}]" \
    >/dev/null
}
T0=$(date +%s)
alert ""

# 1. The workaround ran, diagnostics first.
EXEC=""
for _ in $(seq 1 150); do
  EXEC=$(curl -fsS "${AUTH[@]}" "$URL/api/v1/executions?workaround=e2e-restart" |
    json '" ".join(str(e["id"]) for e in d["executions"] if e["state"]=="succeeded")')
  [[ -n $EXEC ]] && break
  sleep 0.1
done
[[ -n $EXEC ]] || fail "no succeeded execution of e2e-restart within 15 s"
echo "execution $EXEC succeeded after $(( $(date +%s) - T0 )) s"
detail=$(curl -fsS "${AUTH[@]}" "$URL/api/v1/executions/$EXEC")
$PY - "$detail" <<'PY' || fail "execution record: $detail"
import json, sys
e = json.loads(sys.argv[1])
assert e["source"] == "alertmanager", e["source"]
assert e["labels"]["service"] == "nova-compute"
phases = [s["phase"] for s in e["steps"]]
assert phases == ["diagnostics", "action", "verify"], phases
d, a = e["steps"][0], e["steps"][1]
assert d["outcome"] == "ok" and a["outcome"] == "ok", (d, a)
assert d["finished_at"] <= a["started_at"], ("diagnostics must finish before the action", d, a)
assert a["argv"][-1] == "nova-compute", a["argv"]
assert len(e["fingerprint"]) > 0
PY
FP=$(json 'd["fingerprint"]' <<<"$detail")
AMFP=$(curl -fsS "$AMURL/api/v2/alerts" | json 'd[0]["fingerprint"]')
[[ $FP == "$AMFP" ]] || fail "fingerprint $FP != Alertmanager's $AMFP"
mapfile -t lines <"$LOG"
[[ ${#lines[@]} == 2 && ${lines[0]} == diagnostics* && ${lines[1]} == "action nova-compute"* ]] ||
  fail "steps log: ${lines[*]}"
(( ${lines[0]##* } <= ${lines[1]##* } )) || fail "diagnostics ran after the action"

# 2. Alertmanager re-sends the group (repeat_interval 2s): recorded as a duplicate.
dups=0
for _ in $(seq 1 100); do
  dups=$(curl -fsS "${AUTH[@]}" "$URL/api/v1/alerts?limit=100" |
    json "sum(1 for a in d['alerts'] if a['disposition']['kind']=='duplicate' and a['execution']==$EXEC)")
  (( dups > 0 )) && break
  sleep 0.1
done
(( dups > 0 )) || fail "Alertmanager's re-send was not recorded as a duplicate"
echo "re-send recorded as duplicate of $EXEC ($dups)"

# 3. Resolve: same labels, endsAt in the past -> recorded against the execution, no action.
alert "$(date -u -d '-1 min' +%Y-%m-%dT%H:%M:%SZ)"
res=0
for _ in $(seq 1 100); do
  res=$(curl -fsS "${AUTH[@]}" "$URL/api/v1/alerts?limit=100" |
    json "sum(1 for a in d['alerts'] if a['status']=='resolved' and a['disposition']['kind']=='resolved' and a['execution']==$EXEC)")
  (( res > 0 )) && break
  sleep 0.1
done
(( res > 0 )) || fail "the resolve was not recorded against execution $EXEC"
echo "resolve recorded against $EXEC"
n=$(curl -fsS "${AUTH[@]}" "$URL/api/v1/executions?workaround=e2e-restart" | json 'len(d["executions"])')
[[ $n == 1 ]] || fail "want exactly 1 execution, got $n"
[[ $(grep -c '^action' "$LOG") == 1 ]] || fail "the action ran more than once: $(cat "$LOG")"

# 4. Metrics and runs per issue.
metrics=$(curl -fsS "$URL/metrics")
grep -q '^stopgap_runs_total{issue="acme/infra#42",workaround="e2e-restart"} 1$' <<<"$metrics" ||
  fail "runs per issue missing from /metrics"
grep -q '^stopgap_alerts_deduplicated_total' <<<"$metrics" || fail "dedup counter missing"
issues=$(curl -fsS "${AUTH[@]}" "$URL/api/v1/issues")
[[ $(json '[i["runs_total"] for i in d["issues"] if i["issue"]=="acme/infra#42"][0]' <<<"$issues") == 1 ]] ||
  fail "issue counts: $issues"

# 5. SIGTERM: graceful stop, exit 0.
stop_serve
grep -q "$TOKEN" "$TMP/serve.log" && fail "the token appeared in the log"
echo "PASS: alertmanager end-to-end in $(( $(date +%s) - T0 )) s"
