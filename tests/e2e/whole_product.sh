#!/usr/bin/env bash
# The test of the whole product (issue 11): a real Alertmanager fires at a real
# `stopgap serve` whose catalog uses every step kind (collect system/tcp,
# process with stacks of the multi-threaded example guru-service, guru, run)
# and every catalog section (server, ledger, bundles, archive, statsd, tracker:
# redmine, policy, workarounds), with the real Swift (S3, then Swift API),
# Redmine, and carbon behind `stopgap statsd`. Checked only from outside (the
# HTTP API, files, the services): steps ok and diagnostics first, the bundle,
# the archive, the Redmine comment, StatsD in carbon, re-sends are duplicates,
# a resolve never acts, two alerts of a group with concurrency 1 both act once,
# and a closed issue retires its workaround within one refresh.
# Env: STOPGAP_BIN, STOPGAP_SRC, STOPGAP_BUILD, GURU_SERVICE (set by CTest).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

TMP=$(mktemp -d /var/tmp/stopgap-e2e.XXXXXX)  # not tmpfs: Swift needs user xattrs
chmod 755 "$TMP"                             # Redmine (www-data) keeps its database here
SERVE_LOG=$TMP/serve.log
SERVE_PID="" GURU_PID="" STATSD_PID="" CARBON_PID=""
AM=$SRC/scripts/services/alertmanager.sh
cleanup() {
  [[ -n $SERVE_PID ]] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
  [[ -n $GURU_PID ]] && kill "$GURU_PID" 2>/dev/null
  [[ -n $STATSD_PID ]] && kill "$STATSD_PID" 2>/dev/null
  [[ -n $CARBON_PID ]] && "$SRC/scripts/services/carbon.sh" stop "$CARBON_PID" >/dev/null 2>&1
  "$AM" stop "$TMP/am" >/dev/null 2>&1
  "$SRC/scripts/services/swift.sh" stop "$TMP/swift" >/dev/null 2>&1
  "$SRC/scripts/services/redmine.sh" stop "$TMP/redmine" >/dev/null 2>&1
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
  return 0
}
trap cleanup EXIT

step "starting Redmine, Swift and carbon (in parallel)"
"$SRC/scripts/services/redmine.sh" start "$TMP/redmine" >"$TMP/redmine.out" 2>"$TMP/redmine.err" &
redmine_job=$!
"$SRC/scripts/services/swift.sh" start "$TMP/swift" >"$TMP/swift.out" 2>&1 &
swift_job=$!
read -r CL CP CQ <<<"$(free_port) $(free_port) $(free_port)"
CARBON_PID=$("$SRC/scripts/services/carbon.sh" start "$TMP/carbon" "$CL" "$CP" "$CQ") ||
  fail "carbon-cache did not start"
UDP=$(free_udp_port)
"$BIN" statsd --udp "127.0.0.1:$UDP" --admin "" --graphite "127.0.0.1:$CL" --flush-interval 1s \
  --receivers 1 --log-level warn >"$TMP/statsd.log" 2>&1 &
STATSD_PID=$!
start_guru "$TMP/guru"
"$AM" install
wait "$swift_job" || { cat "$TMP/swift.out" >&2; fail "Swift did not start"; }
# shellcheck disable=SC1091
source "$TMP/swift/env"
wait "$redmine_job" || { cat "$TMP/redmine.err" >&2; fail "Redmine did not start"; }
read -r RM_URL RM_KEY <"$TMP/redmine.out"
(umask 077 && printf '%s\n' "$RM_KEY" >"$TMP/redmine.key")
found "Redmine $RM_URL, Swift $SWIFT_URL, carbon :$CL, stopgap statsd :$UDP, guru-service $GURU_PID"

rm_api() {  # METHOD PATH [JSON]
  curl -sS -f -X "$1" -H "X-Redmine-API-Key: $RM_KEY" -H "Content-Type: application/json" \
    ${3:+-d "$3"} "$RM_URL$2"
}
rm_api POST /projects.json '{"project":{"name":"ops","identifier":"ops"}}' >/dev/null
new_issue() {
  rm_api POST /issues.json "{\"issue\":{\"project_id\":\"ops\",\"subject\":\"$1\"}}" | json 'd["issue"]["id"]'
}
I_ALL=$(new_issue "nova-compute hangs")
I_PAIR=$(new_issue "disk fills on db hosts")

PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
EXPIRES=$(date -u -d '+20 days' +%F)
MARK=$TMP/marks
mkdir -p "$MARK"
# catalog ARCHIVE_YAML: the whole catalog, every section, on stdout.
catalog() {
  cat <<YAML
server: {listen: "127.0.0.1:$PORT", token_file: "$TMP/token"}
ledger: "sqlite://$TMP/ledger.db"
bundles: "$TMP/bundles"
archive: $1
statsd: "127.0.0.1:$UDP"
tracker: {kind: redmine, url: "$RM_URL", token_file: "$TMP/redmine.key", refresh: 2s, update_interval: 1s}
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 60, retain: 30d, retain_bundles: 7d}
workarounds:
  - id: w-all
    issue: "#$I_ALL"
    cause: in-house
    diagnosed: false
    expires: $EXPIRES
    match: {alertname: StopgapWhole}
    diagnostics:
      - collect: [system, tcp]
      - collect: [process]
        pidfile: "$TMP/guru/guru.pid"
        stacks: true
        timeout: 20s
      - guru: {pidfile: "$TMP/guru/guru.pid", signal: USR2, report: "$TMP/guru/reports/guru-service_gurumeditation_*", timeout: 10s}
      - run: [sh, -c, 'echo "diag \$(date +%s%N)" >> "\$0"', "$MARK/all"]
    action:
      - run: [sh, -c, 'echo "action \$1 \$(date +%s%N)" >> "\$0"', "$MARK/all", "{{labels.host}}"]
    verify:
      - run: [sh, -c, 'echo "verify \$(date +%s%N)" >> "\$0"', "$MARK/all"]
  - id: w-pair
    issue: "#$I_PAIR"
    cause: vendor
    diagnosed: false
    expires: $EXPIRES
    match: {alertname: StopgapPair}
    diagnostics:
      - run: [sh, -c, 'echo "diag \$1 \$(date +%s%N)" >> "\$0"', "$MARK/pair", "{{labels.host}}"]
    action:
      - run: [sh, -c, 'echo "start \$1 \$(date +%s%N)" >> "\$0"; sleep 1.5; echo "end \$1 \$(date +%s%N)" >> "\$0"', "$MARK/pair", "{{labels.host}}"]
    verify:
      - run: [test, -s, "$MARK/pair"]
    limits: {concurrency: 1}
YAML
}
catalog "{url: \"s3://stopgap-e2e/s3\", endpoint: \"$S3_ENDPOINT\", region: us-east-1, path_style: true}" \
  >"$TMP/catalog-s3.yaml"
catalog "{url: \"swift://stopgap-e2e-swift/sw\"}" >"$TMP/catalog-swift.yaml"
"$BIN" check -c "$TMP/catalog-s3.yaml" >"$TMP/check.out" 2>&1 || fail "check: $(cat "$TMP/check.out")"

step "stopgap serve (archive over S3) behind a real Alertmanager"
start_serve "$TMP/catalog-s3.yaml" "$SERVE_LOG" "$URL"
TOKEN=$(cat "$TMP/token")
AUTH=(-H "Authorization: Bearer $TOKEN")
api() { curl -fsS "${AUTH[@]}" "$URL$1"; }
AMURL=$("$AM" start "$TMP/am" "$URL/api/v1/alerts/alertmanager" "$TMP/token" 0 3s)
found "Alertmanager $AMURL (group_wait 1s, group_interval 2s, repeat_interval 3s)"
am_alert() {  # NAME HOST [ENDS_AT]
  local ends=""
  [[ -n ${3:-} ]] && ends=",\"endsAt\":\"$3\""
  printf '{"labels":{"alertname":"%s","host":"%s","severity":"critical"},"annotations":{"summary":"e2e"}%s}' \
    "$1" "$2" "$ends"
}
am_post() { curl -fsS -X POST -H 'Content-Type: application/json' "$AMURL/api/v2/alerts" --data "[$1]" >/dev/null; }
# execs WORKAROUND PYFILTER: ids of its executions matching a filter over `e`.
execs() {
  api "/api/v1/executions?workaround=$1&limit=100" |
    json "' '.join(str(e['id']) for e in sorted(d['executions'], key=lambda e: e['id']) if $2)"
}
have_execs() {  # WORKAROUND FILTER N
  local ids
  ids=$(execs "$1" "$2")
  [[ $(wc -w <<<"$ids") -ge $3 ]]
}

am_post "$(am_alert StopgapWhole web1)"
am_post "$(am_alert StopgapPair db1),$(am_alert StopgapPair db2)"

step "w-all: every step ok, diagnostics before the action"
wait_for 60 have_execs w-all "e['state'] in ('succeeded','failed')" 1 ||
  fail "no finished execution of w-all within 60 s: $(api '/api/v1/executions?workaround=w-all')"
EXEC=$(execs w-all "e['state'] in ('succeeded','failed')")
api "/api/v1/executions/$EXEC" >"$TMP/exec.json"
$PY - "$TMP/exec.json" <<'PY' || fail "execution $EXEC: $(cat "$TMP/exec.json")"
import json, sys
e = json.load(open(sys.argv[1]))
bad = [(s["phase"], s["kind"], s["outcome"], s.get("error")) for s in e["steps"] if s["outcome"] != "ok"]
assert not bad, "steps not ok: %s" % bad
assert e["state"] == "succeeded", e["state"]
kinds = [(s["phase"], s["kind"]) for s in e["steps"]]
assert [k for p, k in kinds if p == "diagnostics"] == ["collect", "collect", "guru", "run"], kinds
assert [p for p, k in kinds if p != "diagnostics"] == ["action", "verify"], kinds
diag_end = max(s["finished_at"] for s in e["steps"] if s["phase"] == "diagnostics")
act = min(s["started_at"] for s in e["steps"] if s["phase"] == "action")
assert diag_end <= act, "diagnostics finished %s after the action started %s" % (diag_end, act)
print("    ok: execution %d: %d steps ok; diagnostics done %s, action at %s" % (e["id"], len(kinds), diag_end, act))
PY
[[ $(grep -c '^action web1 ' "$MARK/all") == 1 ]] || fail "action marker: $(cat "$MARK/all")"
awk '/^diag/{d=$2} /^action/{a=$3} END{exit !(d>0 && a>=d)}' "$MARK/all" ||
  fail "marker timestamps: diagnostics after the action: $(cat "$MARK/all")"
found "markers: $(tr '\n' ';' <"$MARK/all")"

step "the bundle: every collector, every thread's stack of guru-service"
check_bundle "$TMP/exec.json" "$GURU_PID" || fail "bundle of execution $EXEC"

step "two alerts in one group, concurrency 1: both act once, the second after the first"
wait_for 40 have_execs w-pair "e['state'] == 'succeeded'" 2 ||
  fail "want 2 succeeded w-pair executions: $(api '/api/v1/executions?workaround=w-pair')"
$PY - "$MARK/pair" <<'PY' || fail "pair markers: $(cat "$MARK/pair")"
import sys
ev = {}
for line in open(sys.argv[1]):
    k, host, t = line.split()
    ev.setdefault(host, {}).setdefault(k, []).append(int(t))
assert set(ev) == {"db1", "db2"}, ev
for h in ev: assert len(ev[h]["start"]) == 1 and len(ev[h]["end"]) == 1, (h, ev[h])
a, b = sorted(ev, key=lambda h: ev[h]["start"][0])
assert ev[b]["start"][0] >= ev[a]["end"][0], "the two actions overlapped (concurrency 1)"
print("    ok: %s acted, then %s (%.1f s later), each once" % (a, b, (ev[b]["start"][0] - ev[a]["start"][0]) / 1e9))
PY
[[ -z $(execs w-pair "e['state'] == 'refused'") ]] || fail "a w-pair instance was refused instead of waiting"

step "group update: a third alert joins the group; the first two are re-sent"
am_post "$(am_alert StopgapPair db3)"
wait_for 30 have_execs w-pair "e['state'] == 'succeeded'" 3 || fail "db3 did not act"

step "re-sends over ~20 s are duplicates (repeat_interval 3s)"
dups_of() {  # EXEC MIN
  local n
  n=$(api "/api/v1/alerts?limit=1000" |
    json "sum(1 for a in d['alerts'] if a['disposition']['kind']=='duplicate' and a['execution']==$1)")
  [[ $n -ge $2 ]]
}
wait_for 30 dups_of "$EXEC" 4 || fail "fewer than 4 re-sends of $EXEC recorded as duplicates"
for x in $(execs w-pair "e['labels'].get('host') in ('db1','db2')"); do
  wait_for 15 dups_of "$x" 3 || fail "the group update/repeats of execution $x were not duplicates"
done
found "w-all $EXEC and both first w-pair executions have >=3 duplicates each"

step "resolve: recorded against the execution, never acts"
am_post "$(am_alert StopgapWhole web1 "$(date -u -d '-1 min' +%Y-%m-%dT%H:%M:%SZ)")"
resolved() {
  [[ $(api "/api/v1/alerts?limit=1000" |
    json "sum(1 for a in d['alerts'] if a['disposition']['kind']=='resolved' and a['execution']==$EXEC)") -ge 1 ]]
}
wait_for 20 resolved || fail "the resolve was not recorded against $EXEC"
[[ $(execs w-all True) == "$EXEC" ]] || fail "w-all: want exactly execution $EXEC, got $(execs w-all True)"
[[ $(grep -c '^action' "$MARK/all") == 1 ]] || fail "w-all acted again: $(cat "$MARK/all")"
[[ $(grep -c '^start' "$MARK/pair") == 3 ]] || fail "w-pair acted other than 3 times: $(cat "$MARK/pair")"
found "one execution per firing instance: w-all $EXEC; w-pair $(execs w-pair True)"

step "the bundle is archived in Swift over S3"
BUNDLE=$(basename "$(json 'd["bundle_dir"]' <"$TMP/exec.json")")
in_store() {  # CONTAINER NAME
  # bundles/<host>/<bundle dir>-<created>-<instance>.tar.zst (app/bundle_archiver.h)
  swift -A "$ST_AUTH" -U "$ST_USER" -K "$ST_KEY" list "$1" 2>/dev/null |
    grep -E "/$2-[^/]+\.tar\.zst\$" >"$TMP/obj"
}
# (no `producer | grep -q` under pipefail: grep's early exit would fail the producer)
archived_ok() { [[ $(api /metrics) =~ stopgap_bundles_archived_total\{result=\"ok\"\}\ [1-9] ]]; }
wait_for 30 in_store stopgap-e2e "$BUNDLE" || fail "bundle $BUNDLE not in bucket stopgap-e2e"
OBJ=$(head -1 "$TMP/obj")
wait_for 10 archived_ok || fail "/metrics: $(api /metrics | grep archived)"
(cd "$TMP" && swift -A "$ST_AUTH" -U "$ST_USER" -K "$ST_KEY" download stopgap-e2e "$OBJ" -o s3.tar.zst >/dev/null)
[[ $(tar --zstd -tf "$TMP/s3.tar.zst") == *manifest.json* ]] || fail "archived $OBJ holds no manifest.json"
grep -qE "\"object\":\"([^\"]*/)?bundles/[^\"]+/$BUNDLE-[^\"/]+\.tar\.zst\"" "$SERVE_LOG" ||
  fail "the serve log does not name the archived object $OBJ"
found "s3://stopgap-e2e/$OBJ (holds manifest.json); $(api /metrics | grep '^stopgap_bundles_archived_total{result="ok"}')"
# The real Alertmanager's deliveries were acknowledged, each 202 timed from
# its header to its ack (the group commit and fsync included).
acks=$(api /metrics | awk '$1 == "stopgap_alert_ack_seconds_count" {print $2}')
((${acks:-0} >= 1)) || fail "/metrics: no stopgap_alert_ack_seconds for the Alertmanager's deliveries"
found "stopgap_alert_ack_seconds_count $acks"

step "the Redmine issue's summary comment shows the run"
comment_shows() {
  rm_api GET "/issues/$I_ALL.json?include=journals" | $PY -c '
import json, sys
notes = [j["notes"] for j in json.load(sys.stdin)["issue"]["journals"] if j["notes"]]
s = [n for n in notes if "stopgap:workaround-summary" in n]
ok = len(s) == 1 and "Workaround w-all" in s[0] and "* runs: 1 in 24 h" in s[0] and "succeeded" in s[0]
if ok: print("    ok: " + " | ".join(l for l in s[0].splitlines() if l.startswith("* ")))
sys.exit(0 if ok else 1)'
}
wait_for 20 comment_shows ||
  fail "Redmine #$I_ALL comment: $(rm_api GET "/issues/$I_ALL.json?include=journals")"

step "stopgap's StatsD metrics arrive in carbon through stopgap statsd"
in_carbon() {  # PATH (under whisper/, without .wsp)
  local f="$TMP/carbon/whisper/$1.wsp"
  [[ -f $f ]] && whisper-fetch --from=$(($(date +%s) - 600)) "$f" |
    awk '$2 != "None" && $2+0 >= 1 {n++} END{exit !n}'
}
wait_for 20 in_carbon stats_counts/stopgap/runs/w-all ||
  fail "no stopgap.runs.w-all in carbon: $(cd "$TMP/carbon/whisper" 2>/dev/null && find . -name '*.wsp' | head -20)"
wait_for 10 in_carbon stats_counts/stopgap/executions/succeeded || fail "no stopgap.executions.succeeded"
found "carbon has $(cd "$TMP/carbon/whisper" && find . -path '*stopgap*' -name '*.wsp' | wc -l) stopgap series, runs/w-all >= 1"
LAST_ALERT=$(api "/api/v1/alerts?limit=1" | json 'max([a["id"] for a in d["alerts"]] or [0])')
PAIR_IDS=$(execs w-pair True | tr ' ' ,)
stop_serve

step "stopgap serve again, archive over the Swift API; the firing instances survive the restart"
start_serve "$TMP/catalog-swift.yaml" "$SERVE_LOG" "$URL"
LAST=$(execs w-all True)
code=$(curl -sS -o "$TMP/run.json" -w '%{http_code}' "${AUTH[@]}" -X POST \
  --data '{"labels":{"host":"web5"}}' "$URL/api/v1/workarounds/w-all/run")
[[ $code == 202 ]] || fail "hand run: $code $(cat "$TMP/run.json")"
wait_for 60 have_execs w-all "e['id'] > $LAST and e['state'] == 'succeeded'" 1 ||
  fail "the hand run did not succeed: $(api '/api/v1/executions?workaround=w-all')"
EXEC2=$(execs w-all "e['id'] > $LAST")
api "/api/v1/executions/$EXEC2" >"$TMP/exec2.json"
BUNDLE2=$(basename "$(json 'd["bundle_dir"]' <"$TMP/exec2.json")")
wait_for 30 in_store stopgap-e2e-swift "$BUNDLE2" || fail "bundle $BUNDLE2 not in container stopgap-e2e-swift"
wait_for 10 archived_ok || fail "/metrics: $(api /metrics | grep archived)"
found "swift://stopgap-e2e-swift/$(head -1 "$TMP/obj")"
# The still-firing w-pair alerts reach the new daemon on their next repeat:
# duplicates of the executions of before the restart, no new run.
resent_after_restart() {
  [[ $(api "/api/v1/alerts?limit=1000" | json "sum(1 for a in d['alerts'] if a['id'] > $LAST_ALERT
       and a['name'] == 'StopgapPair' and a['disposition']['kind'] == 'duplicate' and a['execution'] in ($PAIR_IDS,))") -ge 3 ]]
}
wait_for 20 resent_after_restart || fail "w-pair re-sends after the restart are not duplicates: $(api '/api/v1/alerts?limit=20')"
[[ $(grep -c '^start' "$MARK/pair") == 3 ]] || fail "w-pair acted again after the restart: $(cat "$MARK/pair")"
found "w-pair re-sends after the restart: duplicates of $PAIR_IDS"

step "closing the Redmine issue retires the workaround within one refresh"
rm_api PUT "/issues/$I_ALL.json" '{"issue":{"status_id":5,"notes":"fixed upstream"}}' >/dev/null
CLOSED_AT=$(date +%s)
retired() {
  [[ $(api /api/v1/workarounds | json "[w['state'] for w in d['workarounds'] if w['id']=='w-all'][0]") == retired ]]
}
wait_for 10 retired || fail "w-all not retired 10 s after its issue closed (refresh 2s)"
found "w-all retired $(($(date +%s) - CLOSED_AT)) s after the issue closed"
am_post "$(am_alert StopgapWhole web9)"
wait_for 20 have_execs w-all "e['state'] == 'refused' and e.get('refusal_reason') == 'retired'" 1 ||
  fail "the new firing instance was not refused retired: $(api '/api/v1/executions?workaround=w-all')"
[[ $(grep -c '^action' "$MARK/all") == 2 ]] || fail "a retired workaround acted: $(cat "$MARK/all")"
found "new instance web9 refused: retired"

stop_serve
grep -q "$TOKEN" "$SERVE_LOG" && fail "the API token appeared in the serve log"
grep -q "$RM_KEY" "$SERVE_LOG" && fail "the Redmine key appeared in the serve log"
echo "PASS: whole product in $(($(date +%s) - T0)) s"
