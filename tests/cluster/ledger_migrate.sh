#!/usr/bin/env bash
# Moving off SQLite (issue 14), with the real binary and a real scratch
# PostgreSQL (scripts/pg-scratch on a free loopback port):
#   1. a real `stopgap serve` on a SQLite ledger builds history from alerts
#      posted over HTTP: runs that succeed and fail, an Alertmanager re-send
#      recorded as a duplicate, a cooldown refusal, an unmatched alert, a
#      resolve, and approve-mode executions approved and denied through the API;
#   2. `stopgap report` (table and JSON) and GET /api/v1/executions (every
#      execution, with its steps and transitions) are saved;
#   3. `stopgap ledger migrate --from sqlite:... --to postgresql://...` prints
#      its counts (the claims it made of each firing window among them) and
#      verifies; a second migrate into the same database is refused and
#      changes nothing;
#   4. `report` on the PostgreSQL ledger prints exactly the same (diff), and a
#      `stopgap serve` on it serves the same executions; a new alert gets the
#      next id;
#   5. export | import through a file, cut short, is refused with its line
#      number and writes nothing.
# PostgreSQL's schema takes the SQLite 5/6 columns with its migration 3. On a
# build whose PostgreSQL schema has not got it yet, step 3 must be a clear
# refusal that writes nothing; steps 4-5 then run against a SQLite target
# (the same code) and the test says so.
# Env: STOPGAP_BIN, STOPGAP_SRC. KEEP_TMP=1 keeps the scratch directory.
set -euo pipefail
# shellcheck source=../e2e/lib.sh
source "$(dirname "$0")/../e2e/lib.sh"
PG=$SRC/scripts/pg-scratch

TMP=$(mktemp -d /tmp/stopgap-ledger-migrate.XXXXXX)
chmod 0711 "$TMP"
SERVE_LOG=$TMP/serve.log
SERVE_PID=""
cleanup() {
  [[ -n $SERVE_PID ]] && kill -9 "$SERVE_PID" 2>/dev/null || true
  "$PG" stop "$TMP/pg" immediate || true
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

step "a scratch PostgreSQL"
PGPORT=$(free_port)
"$PG" start "$TMP/pg" "$PGPORT"
"$PG" createdb "$PGPORT" stopgap
PGURL="postgresql://postgres@127.0.0.1:$PGPORT/stopgap"
psql_() { psql "$PGURL" -qAt -c "$1"; }

PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
umask 077
"$PY" -c 'import secrets; print(secrets.token_hex(32))' >"$TMP/token"
AUTH=(-H "Authorization: Bearer $(cat "$TMP/token")")
EXPIRES=$(date -u -d '+20 days' +%F)
catalog() {  # catalog LEDGER_URL
  cat <<YAML
server: {listen: "127.0.0.1:$PORT", token_file: "$TMP/token"}
ledger: "$1"
bundles: "$TMP/bundles"
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 100}
workarounds:
  - id: disk-clean
    issue: acme/infra#101
    cause: in-house
    diagnosed: false
    expires: $EXPIRES
    match: {alertname: DiskFull}
    labels: {host: {pattern: "[a-z0-9]+"}}
    diagnostics:
      - run: [echo, df, "{{labels.host}}"]
    action:
      - run: [echo, cleaning, "{{labels.host}}"]
    verify:
      - run: ["true"]
    limits: {cooldown: 10m}
  - id: flaky-restart
    issue: acme/infra#202
    cause: in-house
    diagnosed: true
    root_cause: known
    expires: $EXPIRES
    match: {alertname: Flaky}
    diagnostics:
      - run: ["true"]
    action:
      - run: ["false"]
  - id: gated
    issue: acme/infra#303
    cause: in-house
    diagnosed: false
    expires: $EXPIRES
    mode: approve
    approval_timeout: 15m
    match: {alertname: Gated}
    labels: {host: {pattern: "[a-z0-9]+"}}
    diagnostics:
      - run: ["true"]
    action:
      - run: [echo, approved, "{{labels.host}}"]
YAML
}
catalog "sqlite://$TMP/ledger.db" >"$TMP/sqlite.yaml"
catalog "$PGURL" >"$TMP/pg.yaml"
"$BIN" check --offline -c "$TMP/sqlite.yaml" >"$TMP/check.out" 2>&1 || fail "check: $(cat "$TMP/check.out")"

post() {  # post ALERTNAME HOST STATUS STARTS_AT
  curl -fsS "${AUTH[@]}" -X POST -H 'Content-Type: application/json' \
    "$URL/api/v1/alerts/alertmanager" --data @- >/dev/null <<JSON
{"version":"4","status":"$3","alerts":[{"status":"$3","labels":{"alertname":"$1","host":"$2"},
 "annotations":{"summary":"$1 on $2"},"startsAt":"$4","fingerprint":"fp-$1-$2"}]}
JSON
}
execs() { curl -fsS "${AUTH[@]}" "$URL/api/v1/executions?limit=100"; }
# wait_n EXPR N: until EXPR (over the executions list `d`) reaches N.
wait_n() {
  for _ in $(seq 1 150); do
    [[ $(execs | json "$1") -ge $2 ]] && return 0
    sleep 0.1
  done
  fail "waited in vain for $1 >= $2: $(execs)"
}
state_of() { execs | json "[e['state'] for e in d['executions'] if e['workaround']=='$1' and e['labels'].get('host','')=='$2']"; }

step "1. history through a real stopgap serve on SQLite"
start_serve "$TMP/sqlite.yaml" "$SERVE_LOG" "$URL"
T1=$(date -u -d '-30 min' +%FT%TZ)
T2=$(date -u -d '-20 min' +%FT%TZ)
post DiskFull web1 firing "$T1"
wait_n "sum(1 for e in d['executions'] if e['state']=='succeeded')" 1
post DiskFull web1 firing "$T1"  # Alertmanager's re-send: a duplicate
post DiskFull web2 firing "$T2"  # another host inside the workaround's cooldown: refused
post Flaky app1 firing "$T1"
post NoSuchAlert x1 firing "$T1"  # unmatched
post Gated db1 firing "$T1"
post Gated db2 firing "$T2"
wait_n "sum(1 for e in d['executions'] if e['state']=='awaiting-approval')" 2
ID1=$(execs | json "[e['id'] for e in d['executions'] if e['labels'].get('host')=='db1'][0]")
ID2=$(execs | json "[e['id'] for e in d['executions'] if e['labels'].get('host')=='db2'][0]")
curl -fsS "${AUTH[@]}" -X POST --data '{"comment":"go"}' "$URL/api/v1/executions/$ID1/approve" >/dev/null
curl -fsS "${AUTH[@]}" -X POST --data '{"comment":"not now"}' "$URL/api/v1/executions/$ID2/deny" >/dev/null
wait_n "sum(1 for e in d['executions'] if e['state'] in ('succeeded','failed','denied','refused'))" 5
post DiskFull web1 resolved "$T1"
for _ in $(seq 1 50); do
  n=$(curl -fsS "${AUTH[@]}" "$URL/api/v1/alerts?limit=100" | json "len(d['alerts'])")
  ((n >= 8)) && break
  sleep 0.1
done
((n >= 8)) || fail "the alert log holds $n alerts, want 8"
[[ $(state_of disk-clean web1) == "['succeeded']" && $(state_of disk-clean web2) == "['refused']" ]] ||
  fail "disk-clean: $(state_of disk-clean web1) $(state_of disk-clean web2)"
[[ $(state_of flaky-restart app1) == "['failed']" ]] || fail "flaky-restart: $(state_of flaky-restart app1)"
[[ $(state_of gated db1) == "['succeeded']" && $(state_of gated db2) == "['denied']" ]] ||
  fail "gated: $(state_of gated db1) $(state_of gated db2)"
dups=$(curl -fsS "${AUTH[@]}" "$URL/api/v1/alerts?limit=100" | json "sum(1 for a in d['alerts'] if a['disposition']['kind']=='duplicate')")
((dups >= 1)) || fail "no duplicate recorded"
found "5 executions (succeeded, refused, failed, approved, denied), $n alerts, $dups duplicate(s)"

step "2. what report and the API say on SQLite"
# Every execution with its steps and transitions, as the API serves them.
snapshot() {  # snapshot FILE
  local ids
  ids=$(execs | json "' '.join(str(e['id']) for e in d['executions'])")
  {
    execs
    for id in $ids; do curl -fsS "${AUTH[@]}" "$URL/api/v1/executions/$id"; echo; done
  } >"$1"
}
snapshot "$TMP/api.sqlite"
stop_serve
SERVE_PID=""
"$BIN" report -c "$TMP/sqlite.yaml" >"$TMP/report.sqlite.txt"
"$BIN" report -c "$TMP/sqlite.yaml" --format json >"$TMP/report.sqlite.json"
grep -q "^disk-clean " "$TMP/report.sqlite.txt" || fail "report: $(cat "$TMP/report.sqlite.txt")"
grep -Eq '^gated +approve +1 +1 +0 +0' "$TMP/report.sqlite.txt" || fail "report approvals: $(cat "$TMP/report.sqlite.txt")"
found "report: $(wc -l <"$TMP/report.sqlite.txt") lines; API: $(wc -l <"$TMP/api.sqlite") documents"

step "3. stopgap ledger migrate into PostgreSQL"
TARGET_YAML=$TMP/pg.yaml
TARGET=$PGURL
if "$BIN" ledger migrate --from "sqlite:$TMP/ledger.db" --to "$PGURL" >"$TMP/migrate.out" 2>&1; then
  cat "$TMP/migrate.out"
  grep -Eq '^  executions +5$' "$TMP/migrate.out" || fail "migrate counts: $(cat "$TMP/migrate.out")"
  grep -q '^verified: ' "$TMP/migrate.out" || fail "migrate did not verify: $(cat "$TMP/migrate.out")"
  [[ $(psql_ "SELECT COUNT(*) FROM executions") == 5 ]] || fail "PostgreSQL holds $(psql_ "SELECT COUNT(*) FROM executions") executions"
  # SQLite has no claims: one per firing window is made (5 alerts, 5 windows),
  # so an alert delivered again after the move is a duplicate, not a run.
  grep -Eq '^  claims +5  made by the target' "$TMP/migrate.out" ||
    fail "migrate made no claims: $(cat "$TMP/migrate.out")"
  [[ $(psql_ "SELECT COUNT(*) FROM claims") == 5 ]] || fail "PostgreSQL holds $(psql_ "SELECT COUNT(*) FROM claims") claims"
  found "migrated and verified"
else
  cat "$TMP/migrate.out"
  version=$(psql_ "SELECT MAX(version) FROM schema_version")
  ((version < 3)) || fail "migrate into a PostgreSQL schema at version $version failed: $(cat "$TMP/migrate.out")"
  grep -q "has no such column, so its values would be lost" "$TMP/migrate.out" ||
    fail "the refusal does not say why: $(cat "$TMP/migrate.out")"
  [[ $(psql_ "SELECT COUNT(*) FROM executions") == 0 && $(psql_ "SELECT COUNT(*) FROM alerts") == 0 ]] ||
    fail "a refused migrate wrote rows"
  found "PostgreSQL schema version $version lacks the SQLite 5/6 columns (its migration 3): refused, nothing written"
  echo "    NOTE: steps 4-5 run against a SQLite target until PostgreSQL migration 3 is in"
  TARGET=$TMP/target.db
  catalog "sqlite://$TARGET" >"$TMP/target.yaml"
  TARGET_YAML=$TMP/target.yaml
  "$BIN" ledger migrate --from "sqlite:$TMP/ledger.db" --to "sqlite:$TARGET" >"$TMP/migrate.out" 2>&1 ||
    fail "migrate to SQLite: $(cat "$TMP/migrate.out")"
  cat "$TMP/migrate.out"
  grep -Eq '^  executions +5$' "$TMP/migrate.out" || fail "migrate counts: $(cat "$TMP/migrate.out")"
fi
if "$BIN" ledger migrate --from "sqlite:$TMP/ledger.db" --to "$TARGET" >"$TMP/again.out" 2>&1; then
  fail "a second migrate into a non-empty ledger succeeded"
fi
grep -q "already holds history" "$TMP/again.out" || fail "second migrate: $(cat "$TMP/again.out")"
found "a second migrate is refused: $(tail -1 "$TMP/again.out" | cut -c1-120)"

step "4. report and the API on the new ledger read the same"
"$BIN" report -c "$TARGET_YAML" >"$TMP/report.target.txt"
"$BIN" report -c "$TARGET_YAML" --format json >"$TMP/report.target.json"
diff "$TMP/report.sqlite.txt" "$TMP/report.target.txt" || fail "report (table) differs"
diff "$TMP/report.sqlite.json" "$TMP/report.target.json" || fail "report (json) differs"
start_serve "$TARGET_YAML" "$SERVE_LOG" "$URL"
snapshot "$TMP/api.target"
diff "$TMP/api.sqlite" "$TMP/api.target" || fail "GET /api/v1/executions differs"
post Flaky app2 firing "$T2"
wait_n "max(e['id'] for e in d['executions'])" 6
stop_serve
SERVE_PID=""
found "report identical (table and JSON); the API serves the same executions; the next one is id 6"

step "5. export | import through a file, cut short, writes nothing"
"$BIN" ledger export --ledger "sqlite:$TMP/ledger.db" --out "$TMP/export.jsonl"
[[ $(stat -c %a "$TMP/export.jsonl") == 600 ]] || fail "the export file is $(stat -c %a "$TMP/export.jsonl")"
head -c -200 "$TMP/export.jsonl" >"$TMP/cut.jsonl"
lines=$(wc -l <"$TMP/cut.jsonl")
if "$BIN" ledger import --ledger "sqlite:$TMP/cut.db" --in "$TMP/cut.jsonl" >"$TMP/cut.out" 2>&1; then
  fail "a cut export was imported"
fi
grep -q "line $((lines + 1)): not a JSON document" "$TMP/cut.out" || fail "cut import: $(cat "$TMP/cut.out")"
empty=$("$BIN" ledger export --ledger "sqlite:$TMP/cut.db")
grep -q '"end":{"rows":{"alerts":0,"breaker_events":0,"executions":0,' <<<"$empty" || fail "the cut import wrote rows: $empty"
"$BIN" ledger import --ledger "sqlite:$TMP/whole.db" <"$TMP/export.jsonl" >"$TMP/whole.out" 2>&1 ||
  fail "import: $(cat "$TMP/whole.out")"
diff <(tail -n +2 "$TMP/export.jsonl") <("$BIN" ledger export --ledger "sqlite:$TMP/whole.db" | tail -n +2) ||
  fail "export of the imported copy differs"
found "$(head -1 "$TMP/cut.out" | cut -c1-110)"
echo "PASS"
