#!/usr/bin/env bash
# One firing instance acts once, however often a real Alertmanager notifies.
# Alertmanager 0.25 (group_interval 2s, repeat_interval 3s) fires at a real
# `stopgap serve` for a minute: host a alone, then host b joins the same group
# (a group update re-sends a), then both are repeated every few seconds. The
# workaround has no cooldown and concurrency 1 (on_busy: queue), so b waits
# for a's slot. Checks: each instance acted exactly once (action log and
# ledger), every later notification is a duplicate of its instance's
# execution, the resolve of a never acts, and a re-fired a (a new startsAt:
# a new instance) acts once more.
# Env: STOPGAP_BIN (the binary), STOPGAP_SRC (the source tree), FIRE_SECONDS.
set -euo pipefail

# SRC, BIN, PY, free_port, json, start_serve/stop_serve (fail is ours, below).
# shellcheck source=../e2e/lib.sh
source "$(dirname "$0")/../e2e/lib.sh"
AM=$SRC/scripts/services/alertmanager.sh
FIRE_SECONDS=${FIRE_SECONDS:-60}

TMP=$(mktemp -d /tmp/stopgap-am-instances.XXXXXX)
SERVE_PID=""
cleanup() {
  [[ -n $SERVE_PID ]] && kill "$SERVE_PID" 2>/dev/null || true
  "$AM" stop "$TMP/am" >/dev/null 2>&1 || true
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  echo "--- actions" >&2; cat "$TMP/actions.log" >&2 || true
  echo "--- stopgap log" >&2; tail -30 "$TMP/serve.log" >&2 || true
  exit 1
}

"$AM" install
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
LOG="$TMP/actions.log"
cat >"$TMP/stopgap.yaml" <<YAML
server: {listen: "127.0.0.1:$PORT", token_file: "$TMP/token"}
ledger: "sqlite://$TMP/ledger.db"
bundles: "$TMP/bundles"
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 100}
workarounds:
  - id: restart-web
    issue: acme/infra#77
    cause: in-house
    diagnosed: false
    expires: $(date -u -d '+20 days' +%F)
    match: {alertname: WebDown}
    diagnostics:
      - run: ["true"]
    action:
      - run: [sh, -c, 'sleep 2; echo "\$1 \$(date +%s%N)" >> "\$0"', "$LOG", "{{labels.host}}"]
    limits: {concurrency: 1}
YAML
start_serve "$TMP/stopgap.yaml" "$TMP/serve.log" "$URL"
TOKEN=$(cat "$TMP/token")
AUTH=(-H "Authorization: Bearer $TOKEN")
api() { curl -fsS "${AUTH[@]}" "$URL$1"; }
AMURL=$("$AM" start "$TMP/am" "$URL/api/v1/alerts/alertmanager" "$TMP/token" 0 3s)
echo "alertmanager at $AMURL, stopgap at $URL"

fire() {  # fire HOST [ENDS_AT]
  local ends=""
  [[ -n ${2:-} ]] && ends=",\"endsAt\":\"$2\""
  curl -fsS -X POST -H 'Content-Type: application/json' "$AMURL/api/v2/alerts" \
    --data "[{\"labels\":{\"alertname\":\"WebDown\",\"host\":\"$1\"}$ends}]" >/dev/null
}
count_actions() { [[ -f $LOG ]] && grep -c "^$1 " "$LOG" || echo 0; }

T0=$(date +%s)
fire a
sleep 5
fire b  # a group update: Alertmanager re-sends a beside b
while (( $(date +%s) - T0 < FIRE_SECONDS )); do sleep 1; done

[[ $(count_actions a) == 1 ]] || fail "host a acted $(count_actions a) times in ${FIRE_SECONDS}s, want 1"
[[ $(count_actions b) == 1 ]] || fail "host b acted $(count_actions b) times in ${FIRE_SECONDS}s, want 1"
execs=$(api "/api/v1/executions?workaround=restart-web")
n=$(json 'len(d["executions"])' <<<"$execs")
[[ $n == 2 ]] || fail "want 2 executions (one per instance), got $n: $execs"
json 'all(e["state"]=="succeeded" for e in d["executions"])' <<<"$execs" | grep -q True ||
  fail "not every execution succeeded: $execs"
alerts=$(api "/api/v1/alerts?limit=1000")
$PY - "$alerts" "$execs" <<'PY' || fail "alert log: duplicates do not point at their instance's execution"
import json, sys
alerts = json.loads(sys.argv[1])["alerts"]
execs = {e["id"]: e for e in json.loads(sys.argv[2])["executions"]}
firing = [a for a in alerts if a["status"] == "firing"]
matched = [a for a in firing if a["disposition"]["kind"] in ("ran", "refused")]
dups = [a for a in firing if a["disposition"]["kind"] == "duplicate"]
assert len(matched) == 2, matched
by_fp = {execs[a["execution"]]["fingerprint"]: a["execution"] for a in matched}
assert len(dups) >= 10, f"Alertmanager re-sent only {len(dups)} times"
for a in dups:
    assert a["execution"] == by_fp[a["fingerprint"]], a
print(f"{len(firing)} firing notifications: 2 acted, {len(dups)} duplicates of their instance")
PY

# The resolve of a never acts; a re-fired a is a new instance and acts once.
fire a "$(date -u -d '-1 min' +%Y-%m-%dT%H:%M:%SZ)"
for _ in $(seq 1 100); do
  r=$(api "/api/v1/alerts?limit=1000" | json "sum(1 for a in d['alerts'] if a['status']=='resolved')")
  (( r > 0 )) && break
  sleep 0.1
done
(( r > 0 )) || fail "the resolve did not arrive"
sleep 3
[[ $(count_actions a) == 1 ]] || fail "the resolve acted"
fire a
for _ in $(seq 1 150); do
  [[ $(count_actions a) == 2 ]] && break
  sleep 0.1
done
[[ $(count_actions a) == 2 ]] || fail "the re-fired instance of a did not act"
sleep 7  # two more repeats of the new instance
[[ $(count_actions a) == 2 ]] || fail "the new instance of a acted more than once"
[[ $(count_actions b) == 1 ]] || fail "host b acted again"
echo "PASS: $(wc -l <"$LOG") actions for 3 firing instances in $(( $(date +%s) - T0 )) s"
