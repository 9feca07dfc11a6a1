#!/usr/bin/env bash
# The web UI in a real browser: Debian's headless chromium driven by
# playwright-core (scripts/services/playwright.sh, pinned) against two real
# `stopgap serve` daemons:
#   A: seeded through the daemon: alerts POSTed to it run real workarounds
#      (one collects the thread stacks of a live process, one carries a label
#      holding <script>, one is a storm for live updates and the breaker; one
#      in `mode: approve` when this build's catalog knows `mode:`);
#   B: 200 workarounds and 10,000 executions over 90 days, written by SQL
#      into the ledger of a stopped daemon (B's own file; it is then restarted)
#      for the first-paint figure.
# Then tests/web/webui_browser.js runs one named check per UI feature; checks
# needing routes this build lacks print SKIP with the reason. Screenshots go to
# $STOPGAP_SCREENSHOTS (default: a temp dir; docs/screenshots/ when refreshing them).
set -euo pipefail
# shellcheck source=../e2e/lib.sh
source "$(dirname "$0")/../e2e/lib.sh"

[[ -x /usr/bin/chromium ]] || fail "no /usr/bin/chromium: run scripts/install-deps --services"
PW_DIR=$("$SRC/scripts/services/playwright.sh" install)

TMP=$(mktemp -d /tmp/stopgap-webui.XXXXXX)
SERVE_LOG=$TMP/a/serve.log
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
SHOTS=${STOPGAP_SCREENSHOTS:-$TMP/screenshots}
mkdir -p "$TMP/a" "$TMP/b" "$SHOTS"

# A process with a few threads whose stacks the diagnostics collect.
$PY -c 'import os, sys, threading, time
for _ in range(3): threading.Thread(target=time.sleep, args=(600,), daemon=True).start()
open(sys.argv[1], "w").write(str(os.getpid())); time.sleep(600)' "$TMP/a/target.pid" &
PIDS+=($!)
wait_for 10 test -s "$TMP/a/target.pid" || fail "target process wrote no pidfile"

step "daemon A: seeded through the API"
PORT_A=$(free_port)
URL_A="http://127.0.0.1:$PORT_A"
SOON=$(date -u -d '+10 days' +%F)
LATER=$(date -u -d '+25 days' +%F)
workaround() {  # id issue alertname expires diagnosed extra-lines
  cat <<YAML
  - id: $1
    issue: "$2"
    cause: in-house
    diagnosed: $5
    root_cause: "$([[ $5 == true ]] && echo "a leaked file descriptor in the agent")"
    description: "seeded for the browser test"
    expires: $4
    match: {alertname: $3}
    limits: {concurrency: 5}  # no cooldown: the storm and approval checks post back to back
$6
YAML
  # Diagnostics are required: a trivial one unless the caller gave its own.
  [[ $6 == *diagnostics:* ]] || printf '    diagnostics:\n      - run: ["true"]\n'
}
{
  cat <<YAML
server: {listen: "127.0.0.1:$PORT_A", token_file: "$TMP/a/token"}
ledger: "sqlite://$TMP/a/ledger.db"
bundles: "$TMP/a/bundles"
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 12}
workarounds:
YAML
  workaround disk-full "acme/infra#7" DiskFull "$LATER" false "    diagnostics:
      - {collect: [process], pidfile: \"$TMP/a/target.pid\", stacks: true, timeout: 20s}
      - run: [uname, -a]
    action:
      - run: [sh, -c, 'seq 1 3; echo cleaned \"\$0\"', '{{labels.host}}']
    labels: {host: {pattern: \"[a-z0-9-]{1,32}\"}}
    verify:
      - run: [\"true\"]"
  workaround labelled "acme/infra#8" Labelled "$SOON" true "    diagnostics:
      - run: [echo, diagnosing]
    action:
      - run: [\"true\"]"
  workaround storm "acme/infra#9" Storm "$LATER" false "    action:
      - run: [\"true\"]"
} >"$TMP/a/stopgap.yaml"
# The approvals branch adds `mode:`; until then the catalog check refuses it.
cp "$TMP/a/stopgap.yaml" "$TMP/a/with-approve.yaml"
workaround approve-me "acme/infra#10" NeedsApproval "$LATER" false "    mode: approve
    action:
      - run: [\"true\"]" >>"$TMP/a/with-approve.yaml"
APPROVE=0
if "$BIN" check --offline -c "$TMP/a/with-approve.yaml" >"$TMP/a/check.log" 2>&1; then
  cp "$TMP/a/with-approve.yaml" "$TMP/a/stopgap.yaml"
  APPROVE=1
fi
"$BIN" check --offline -c "$TMP/a/stopgap.yaml" >/dev/null || fail "catalog A refused: $("$BIN" check --offline -c "$TMP/a/stopgap.yaml" 2>&1)"
start_serve "$TMP/a/stopgap.yaml" "$SERVE_LOG" "$URL_A"
PIDS+=("$SERVE_PID")
TOKEN_A=$(head -c 64 "$TMP/a/token")
post() {
  curl -fsS -H "Authorization: Bearer $TOKEN_A" -H 'Content-Type: application/json' \
    -X POST "$URL_A$1" -d "$2"
}
exec_state() {
  curl -fsS -H "Authorization: Bearer $TOKEN_A" "$URL_A/api/v1/executions/$1" | json 'd["state"]'
}
first_exec() { json 'd["executions"][0]'; }
STACKS=$(post /api/v1/alerts '{"name":"DiskFull","labels":{"alertname":"DiskFull","host":"db1"}}' | first_exec)
XSS=$(post /api/v1/alerts '{"name":"Labelled","labels":{"alertname":"Labelled","host":"web1","note":"<script>window.__xss=1</script><img src=x onerror=\"window.__xss=2\">"}}' | first_exec)
STORM=$(post /api/v1/alerts '{"name":"Storm","labels":{"alertname":"Storm","host":"s0"}}' | first_exec)
post /api/v1/alerts '{"name":"NoSuchAlert","labels":{"alertname":"NoSuchAlert"}}' >/dev/null
for id in "$STACKS" "$XSS" "$STORM"; do
  wait_for 30 bash -c "[[ \$(curl -fsS -H 'Authorization: Bearer $TOKEN_A' $URL_A/api/v1/executions/$id | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"state\"])') == succeeded ]]" ||
    fail "execution $id: $(exec_state "$id")"
done
found "executions $STACKS (stacks), $XSS (<script> label), $STORM (storm) succeeded"
if [[ $APPROVE == 1 ]]; then
  for h in a1 a2; do
    post /api/v1/alerts "{\"name\":\"NeedsApproval\",\"labels\":{\"alertname\":\"NeedsApproval\",\"host\":\"$h\"}}" >/dev/null
  done
  found "two alerts for the approve-mode workaround"
else
  found "this build's catalog has no mode: (approve checks will skip): $(head -c 200 "$TMP/a/check.log")"
fi

step "daemon B: 200 workarounds, 10,000 executions (SQL into its stopped ledger)"
PORT_B=$(free_port)
URL_B="http://127.0.0.1:$PORT_B"
{
  cat <<YAML
server: {listen: "127.0.0.1:$PORT_B", token_file: "$TMP/b/token"}
ledger: "sqlite://$TMP/b/ledger.db"
bundles: "$TMP/b/bundles"
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d}
workarounds:
YAML
  for i in $(seq -w 1 200); do
    d=$((10#$i % 3 == 0))
    workaround "perf-$i" "acme/svc$((10#$i % 40))#$i" "Perf$i" \
      "$(date -u -d "+$((10#$i % 28 + 1)) days" +%F)" "$([[ $d == 1 ]] && echo true || echo false)" \
      "    action:
      - run: [\"true\"]"
  done
} >"$TMP/b/stopgap.yaml"
start_serve "$TMP/b/stopgap.yaml" "$TMP/b/serve.log" "$URL_B"
stop_serve
NOW_MS=$(($(date +%s) * 1000))
sqlite3 "$TMP/b/ledger.db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 9999)
-- ids grow with time, as in a real ledger (one every 776 s: 90 days).
INSERT INTO executions (workaround_id, issue, fingerprint, source, labels_json, state,
                        refusal_reason, detail, created_at, updated_at, finished_at)
SELECT printf('perf-%03d', (i * 7919) % 200 + 1),
       printf('acme/svc%d#%03d', ((i * 7919) % 200 + 1) % 40, (i * 7919) % 200 + 1),
       printf('%016x', i), 'alertmanager', printf('{"alertname":"Perf","host":"h%d"}', i % 50),
       CASE WHEN i % 10 = 0 THEN 'refused' WHEN i % 7 = 0 THEN 'failed' ELSE 'succeeded' END,
       CASE WHEN i % 10 = 0 THEN 'cooldown' ELSE '' END, '',
       $NOW_MS - ((9999 - i) * 776) * 1000, $NOW_MS - ((9999 - i) * 776) * 1000 + 2000,
       $NOW_MS - ((9999 - i) * 776) * 1000 + 2000
FROM n;
INSERT INTO workaround_totals (workaround_id, issue, runs_total, refusals_total)
  SELECT workaround_id, issue, SUM(state != 'refused'), SUM(state = 'refused') FROM executions GROUP BY workaround_id;
INSERT INTO issue_totals (issue, runs_total, refusals_total)
  SELECT issue, SUM(state != 'refused'), SUM(state = 'refused') FROM executions GROUP BY issue;
SQL
N=$(sqlite3 "$TMP/b/ledger.db" 'SELECT COUNT(*) FROM executions')
[[ $N == 10000 ]] || fail "seeded $N executions"
start_serve "$TMP/b/stopgap.yaml" "$TMP/b/serve.log" "$URL_B"
PIDS+=("$SERVE_PID")
found "$N executions over 90 days for 200 workarounds"

step "browser (chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'), playwright-core $(basename "$PW_DIR"))"
cat >"$TMP/facts.json" <<JSON
{"url": "$URL_A", "token": "$TOKEN_A", "screenshots": "$SHOTS",
 "xss_execution": $XSS, "stacks_execution": $STACKS, "issue": "acme/infra#7",
 "storm_alert": "Storm", "perf_url": "$URL_B", "perf_token": "$(head -c 64 "$TMP/b/token")",
 "perf_executions": $N}
JSON
PLAYWRIGHT_DIR=$PW_DIR node "$SRC/tests/web/webui_browser.js" "$TMP/facts.json" "$@" 2>&1 |
  grep -v 'unexpected operator' || fail "browser checks failed"
