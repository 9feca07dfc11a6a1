#!/usr/bin/env bash
# `stopgap serve --log-format journal` sends each log line as one journal
# entry with its fields as journal fields (MESSAGE, PRIORITY,
# SYSLOG_IDENTIFIER, URL=..., WORKERS=...), and `--log-format auto` picks the
# journal when JOURNAL_STREAM names stderr (as systemd sets it), JSON on
# stderr otherwise. journald is a Python stand-in bound at
# /run/systemd/journal/socket inside a private mount namespace (unshare -m,
# tmpfs on /run): the host's /run is not touched. Exit 77 (skipped) where
# mount namespaces are not allowed.
# Env: STOPGAP_BIN (the binary), STOPGAP_SRC (the source tree).
set -euo pipefail

SRC=${STOPGAP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${STOPGAP_BIN:-$SRC/build/stopgap}
if [[ -z ${STOPGAP_IN_NAMESPACE:-} ]]; then
  if ! unshare -m true 2>/dev/null; then
    echo "SKIP: no mount namespaces here (unshare -m)"; exit 77
  fi
  STOPGAP_IN_NAMESPACE=1 exec unshare -m --propagation private bash "$0" "$@"
fi
mount -t tmpfs tmpfs /run

HERE=$SRC/tests/systemd
TMP=$(mktemp -d /tmp/stopgap-journal.XXXXXX)
SERVE_PID="" LISTENER_PID=""
cleanup() {
  [[ -n $SERVE_PID ]] && kill "$SERVE_PID" 2>/dev/null || true
  [[ -n $LISTENER_PID ]] && kill "$LISTENER_PID" 2>/dev/null || true
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  echo "--- journal entries" >&2; cat "$TMP/journal.log" >&2 || true
  echo "--- stderr" >&2; tail -20 "$TMP/serve.log" >&2 || true
  exit 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# entry MSG: the journal entry (JSON) whose MESSAGE is MSG, waiting up to 10 s.
entry() {
  for _ in $(seq 1 100); do
    local e
    e=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d.get("MESSAGE") == sys.argv[2]: print(l.strip()); break' "$TMP/journal.log" "$1")
    [[ -n $e ]] && { echo "$e"; return 0; }
    sleep 0.1
  done
  return 1
}
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$1" "$2"; }

PORT=$(free_port)
EXPIRES=$(date -u -d '+20 days' +%F)
cat >"$TMP/stopgap.yaml" <<YAML
server: {listen: "127.0.0.1:$PORT", token_file: "$TMP/token"}
ledger: "sqlite://$TMP/ledger.db"
bundles: "$TMP/bundles"
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 60}
workarounds:
  - id: journal-test
    issue: acme/infra#42
    cause: in-house
    diagnosed: false
    expires: $EXPIRES
    match: {alertname: JournalTest}
    diagnostics:
      - run: ["true"]
    action:
      - run: ["true"]
YAML
python3 "$HERE/journal_listener.py" /run/systemd/journal/socket "$TMP/journal.log" &
LISTENER_PID=$!
for _ in $(seq 1 50); do [[ -S /run/systemd/journal/socket ]] && break; sleep 0.1; done

run_serve() {  # run_serve ARGS...: starts serve, waits until it answers, stops it
  "$BIN" serve -c "$TMP/stopgap.yaml" "$@" 2>"$TMP/serve.log" &
  SERVE_PID=$!
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  kill -TERM "$SERVE_PID"; wait "$SERVE_PID" || fail "serve exited non-zero"; SERVE_PID=""
}

# 1. --log-format journal: fields reach the journal, nothing on stderr.
run_serve --log-format journal
e=$(entry "stopgap serve listening") || fail "no journal entry for 'stopgap serve listening'"
[[ $(field "$e" PRIORITY) == 6 ]] || fail "PRIORITY is not 6 (info): $e"
[[ $(field "$e" SYSLOG_IDENTIFIER) == stopgap ]] || fail "no SYSLOG_IDENTIFIER=stopgap: $e"
[[ $(field "$e" URL) == "http://127.0.0.1:$PORT" ]] || fail "no URL field: $e"
[[ $(field "$e" WORKERS) == 4 ]] || fail "no WORKERS field: $e"
[[ $(field "$e" CATALOG) == "$TMP/stopgap.yaml" ]] || fail "no CATALOG field: $e"
entry "stopgap serve stopped" >/dev/null || fail "no journal entry for the stop"
if grep -q "stopgap serve listening" "$TMP/serve.log"; then fail "journal format also wrote stderr"; fi
if grep -qF "$(cat "$TMP/token")" "$TMP/journal.log"; then fail "the token reached the journal"; fi

# 2. auto + JOURNAL_STREAM naming stderr (same device and inode): the journal.
: >"$TMP/journal.log"
: >"$TMP/serve.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$TMP/serve.log") run_serve
entry "stopgap serve listening" >/dev/null || fail "auto with JOURNAL_STREAM did not pick the journal"
if grep -q "stopgap serve listening" "$TMP/serve.log"; then fail "auto (journal) also wrote stderr"; fi

# 3. auto + a JOURNAL_STREAM naming another file (stderr redirected away): JSON on stderr.
: >"$TMP/journal.log"
: >"$TMP/other"
JOURNAL_STREAM=$(stat -c '%d:%i' "$TMP/other") run_serve
grep -q '"msg":"stopgap serve listening"' "$TMP/serve.log" || fail "auto without the journal did not write JSON"
[[ ! -s $TMP/journal.log ]] || fail "auto sent to the journal although stderr is not it"
echo "PASS: journal fields, JOURNAL_STREAM detection"
