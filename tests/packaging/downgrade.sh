#!/usr/bin/env bash
# A stopgap older than its ledger's schema (a downgrade after an upgrade ran
# a migration) refuses to start with a message that says so, and writes
# nothing: the ledger's bytes are the same afterwards and no -wal is left.
# `stopgap report` (the read-only path) refuses the same way.
# Env: STOPGAP_BIN, STOPGAP_SRC.
set -euo pipefail
SRC=${STOPGAP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${STOPGAP_BIN:-$SRC/build/stopgap}
TMP=$(mktemp -d /tmp/stopgap-downgrade.XXXXXX)
SERVE_PID=""
cleanup() { [[ -n $SERVE_PID ]] && kill "$SERVE_PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -5 "$TMP"/*.log >&2 || true; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

PORT=$(free_port)
"$BIN" init --state-dir "$TMP/state" "$TMP/etc" >/dev/null
sed -i "s/127.0.0.1:9470/127.0.0.1:$PORT/" "$TMP/etc/stopgap.yaml"
# A ledger with rows, written by this stopgap.
"$BIN" serve -c "$TMP/etc/stopgap.yaml" --log-format json >"$TMP/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
for i in 1 2 3; do
  curl -fsS -H "Authorization: Bearer $(cat "$TMP/etc/token")" \
    -d "{\"name\":\"Unmatched$i\",\"labels\":{\"n\":\"$i\"}}" "http://127.0.0.1:$PORT/api/v1/alerts" >/dev/null ||
    fail "alert $i not accepted"
done
kill -TERM "$SERVE_PID"; wait "$SERVE_PID" || fail "serve did not stop cleanly"; SERVE_PID=""
DB=$TMP/state/ledger.db
rows=$(sqlite3 "$DB" 'SELECT COUNT(*) FROM alerts')
[[ $rows -ge 3 ]] || fail "only $rows alert rows"
known=$(sqlite3 "$DB" 'SELECT MAX(version) FROM schema_version')
# What a newer stopgap leaves: one more migration.
sqlite3 "$DB" "INSERT INTO schema_version(version, applied_at) VALUES ($((known + 1)), 0)"
[[ ! -e $DB-wal || ! -s $DB-wal ]] || fail "a WAL is left before the test starts"
before=$(sha256sum "$DB" | cut -d' ' -f1)

rc=0
timeout 20 "$BIN" serve -c "$TMP/etc/stopgap.yaml" --log-format json >"$TMP/old.log" 2>&1 || rc=$?
[[ $rc -ne 0 && $rc -ne 124 ]] || fail "an older stopgap started on a newer ledger (rc $rc)"
grep -q "schema version $((known + 1)) was written by a newer stopgap (this one knows $known)" "$TMP/old.log" ||
  fail "no clear message: $(cat "$TMP/old.log")"
rc=0
"$BIN" report -c "$TMP/etc/stopgap.yaml" >"$TMP/report.log" 2>&1 || rc=$?
[[ $rc -ne 0 ]] || fail "report read a ledger from a newer stopgap"
grep -q "newer stopgap" "$TMP/report.log" || fail "report's message does not say why: $(cat "$TMP/report.log")"
after=$(sha256sum "$DB" | cut -d' ' -f1)
[[ $before == "$after" ]] || fail "the refused start changed the ledger"
[[ ! -s $DB-wal ]] || fail "the refused start left a WAL with $(stat -c %s "$DB-wal") bytes"
[[ $(sqlite3 "$DB" 'SELECT COUNT(*) FROM alerts') == "$rows" ]] || fail "rows changed"
echo "PASS: schema $((known + 1)) > $known: serve and report refuse, the ledger is byte-identical"
