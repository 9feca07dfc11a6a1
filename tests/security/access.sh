#!/usr/bin/env bash
# Adversarial access suite against a real `stopgap serve` (docs/security.md):
# wrong, missing and removed tokens on every route, scope refusals, DNS
# rebinding (Host) and cross-origin (Origin) requests, the label corpus
# (tests/security/labels/payloads.txt) posted as alerts, and a secret label.
# Each case asserts a clear refusal, the daemon still serving, and no
# acknowledged alert lost (every 202'd alert id is in GET /api/v1/alerts).
# Prints a table: case, tried, refused, lost.
# Env: STOPGAP_BIN (the binary), STOPGAP_SRC (the source tree).
set -euo pipefail

SRC=${STOPGAP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${STOPGAP_BIN:-$SRC/build/stopgap}
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3
CORPUS=$SRC/tests/security/labels/payloads.txt

TMP=$(mktemp -d /tmp/stopgap-security.XXXXXX)
SERVE_PID=""
cleanup() {
  [[ -n $SERVE_PID ]] && kill "$SERVE_PID" 2>/dev/null || true
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  echo "--- stopgap log" >&2; tail -30 "$TMP/serve.log" >&2 || true
  exit 1
}
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json() { $PY -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
EXPIRES=$(date -u -d '+20 days' +%F)
SECRET="s3cr3tVALUE-$RANDOM$RANDOM-zz"
umask 077
for t in am ops admin; do head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TMP/$t.token"; done
cat >"$TMP/stopgap.yaml" <<YAML
server:
  listen: "127.0.0.1:$PORT"
  token_file: "$TMP/admin.token"
  tokens:
    - {name: alertmanager, file: "$TMP/am.token", scopes: [alerts]}
    - {name: ops, file: "$TMP/ops.token", scopes: [read, run]}
ledger: "sqlite://$TMP/ledger.db"
bundles: "$TMP/bundles"
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 1000}
workarounds:
  - id: corpus
    issue: acme/infra#1
    cause: in-house
    diagnosed: false
    expires: $EXPIRES
    match: {alertname: CorpusLabel}
    diagnostics:
      - run: [touch, "$TMP/ran-corpus"]
    action:
      - run: [touch, "$TMP/ran-corpus", "{{labels.arg}}"]
    limits: {concurrency: 1000}
  - id: secret
    issue: acme/infra#2
    cause: in-house
    diagnosed: false
    expires: $EXPIRES
    match: {alertname: SecretLabel}
    labels:
      api_token: {pattern: "[A-Za-z0-9-]{8,64}"}
    diagnostics:
      - run: ["true"]
    action:
      - run: [sh, -c, 'printf %s "\$1" > "\$0"', "$TMP/secret-seen", "{{labels.api_token}}"]
YAML

"$BIN" serve -c "$TMP/stopgap.yaml" --log-format json >"$TMP/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 1 200); do
  curl -fsS "$URL/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVE_PID" 2>/dev/null || fail "stopgap serve exited at start"
  sleep 0.05
done
curl -fsS "$URL/healthz" >/dev/null || fail "stopgap serve not healthy"
AM=$(cat "$TMP/am.token"); OPS=$(cat "$TMP/ops.token"); ADMIN=$(cat "$TMP/admin.token")

ROWS=()
ACKED="$TMP/acked"   # alert ids acknowledged with 202
: >"$ACKED"
row() { ROWS+=("$(printf '%-34s %6s %8s %5s' "$1" "$2" "$3" "$4")"); }
code_of() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
healthy() { [[ $(code_of "$URL/healthz") == 200 ]] || fail "daemon stopped serving after: $1"; }
# post AUTH BODY [extra curl args]: posts generic alerts, records acked ids, prints the code.
post() {
  local tok=$1 body=$2; shift 2
  local out code
  out=$(curl -s -w '\n%{http_code}' -X POST -H "Authorization: Bearer $tok" \
    -H 'Content-Type: application/json' --data-binary "$body" "$@" "$URL/api/v1/alerts")
  code=${out##*$'\n'}
  if [[ $code == 202 ]]; then
    printf '%s' "${out%$'\n'*}" | json '"\n".join(str(i) for i in d["alert_ids"])' >>"$ACKED"
  fi
  echo "$code"
}

# The routes of src/server/http_api.cc (method path scope).
ROUTES=(
  "POST /api/v1/alerts/alertmanager alerts"
  "POST /api/v1/alerts alerts"
  "POST /api/v1/workarounds/secret/run run"
  "GET /api/v1/workarounds read"
  "GET /api/v1/executions read"
  "GET /api/v1/executions/1 read"
  "GET /api/v1/alerts read"
  "GET /api/v1/issues read"
)
# A token per scope that lacks it.
lacking() { case $1 in alerts) echo "$OPS" ;; *) echo "$AM" ;; esac; }

# A baseline alert that must survive every case below.
[[ $(post "$AM" '{"name":"Baseline","labels":{"n":"1"}}') == 202 ]] || fail "baseline alert not acknowledged"

# 1. Missing, wrong and malformed tokens on every route: 401.
tried=0; refused=0
for r in "${ROUTES[@]}"; do
  read -r m p _ <<<"$r"
  for hdr in "" "Authorization: Bearer wrong-token-0123456789" "Authorization: Basic $ADMIN" \
             "Authorization: Bearer" "Authorization: Bearer $ADMIN$ADMIN" "Authorization: bearer  ${ADMIN:0:32}"; do
    tried=$((tried + 1))
    c=$(code_of -X "$m" ${hdr:+-H "$hdr"} --data '{}' "$URL$p")
    [[ $c == 401 ]] && refused=$((refused + 1)) || fail "$m $p with '${hdr:0:24}': want 401, got $c"
  done
done
healthy "missing/wrong tokens"; row "missing/wrong token, every route" $tried $refused 0

# 2. A token lacking the route's scope: 403.
tried=0; refused=0
for r in "${ROUTES[@]}"; do
  read -r m p s <<<"$r"
  tried=$((tried + 1))
  c=$(code_of -X "$m" -H "Authorization: Bearer $(lacking "$s")" --data '{}' "$URL$p")
  [[ $c == 403 ]] && refused=$((refused + 1)) || fail "$m $p without scope $s: want 403, got $c"
done
for extra in "DELETE /api/v1/alerts" "PUT /api/v1/workarounds" "PUT /api/v1/executions/1" "DELETE /nowhere"; do
  read -r m p <<<"$extra"; tried=$((tried + 1))
  c=$(code_of -X "$m" -H "Authorization: Bearer $OPS" --data '{}' "$URL$p")
  [[ $c == 403 ]] && refused=$((refused + 1)) || fail "$m $p with ops: want 403, got $c"
done
healthy "scope refusals"; row "token lacking the scope" $tried $refused 0

# 3. DNS rebinding: another Host on every route but /healthz: 421.
tried=0; refused=0
for r in "${ROUTES[@]}" "GET / none" "GET /metrics none"; do
  read -r m p _ <<<"$r"
  for host in "evil.example:$PORT" "127.0.0.1.nip.io:$PORT" "localhost:1" "attacker"; do
    tried=$((tried + 1))
    c=$(code_of -X "$m" -H "Host: $host" -H "Authorization: Bearer $ADMIN" --data '{}' "$URL$p")
    [[ $c == 421 ]] && refused=$((refused + 1)) || fail "$m $p Host $host: want 421, got $c"
  done
done
[[ $(code_of -H "Host: evil.example" "$URL/healthz") == 200 ]] || fail "/healthz must answer any Host"
healthy "rebinding"; row "Host not allowed (DNS rebinding)" $tried $refused 0

# 4. Cross-origin: an Origin that is not an allowed host: 403; a preflight gets no ACAO.
tried=0; refused=0
for r in "${ROUTES[@]}"; do
  read -r m p _ <<<"$r"
  tried=$((tried + 1))
  c=$(code_of -X "$m" -H "Origin: http://evil.example" -H "Authorization: Bearer $ADMIN" --data '{}' "$URL$p")
  [[ $c == 403 ]] && refused=$((refused + 1)) || fail "$m $p cross-origin: want 403, got $c"
done
tried=$((tried + 1))
hdrs=$(curl -s -D - -o /dev/null -X OPTIONS -H "Origin: http://evil.example" \
  -H "Access-Control-Request-Method: POST" "$URL/api/v1/alerts")
grep -qi '^access-control-allow' <<<"$hdrs" && fail "a CORS header was sent: $hdrs"
refused=$((refused + 1))
healthy "cross-origin"; row "cross-origin (Origin, preflight)" $tried $refused 0

# 5. The label corpus: each payload as an alert; refused unsafe-label, never run.
mapfile -t BODIES < <($PY - "$CORPUS" <<'PYEOF'
import json, sys, codecs
for i, line in enumerate(open(sys.argv[1], encoding="utf-8").read().split("\n")):
    if not line or line.startswith("#"):
        continue
    v = codecs.decode(line.encode("latin-1", "backslashreplace"), "unicode_escape").encode("latin-1").decode("utf-8", "surrogateescape")
    print(json.dumps({"name": "CorpusLabel", "labels": {"arg": v, "case": str(i)}}, ensure_ascii=True))
PYEOF
)
tried=0; refused=0
for b in "${BODIES[@]}"; do
  tried=$((tried + 1))
  c=$(post "$AM" "$b")
  [[ $c == 202 || $c == 400 ]] || fail "corpus alert: want 202 (refused) or 400, got $c for $b"
  [[ $c == 400 ]] && refused=$((refused + 1))
done
sleep 0.5
ex=$(curl -s -H "Authorization: Bearer $OPS" "$URL/api/v1/executions?workaround=corpus&limit=1000")
n_unsafe=$(json 'sum(1 for e in d["executions"] if e.get("refusal_reason")=="unsafe-label" or e.get("reason")=="unsafe-label")' <<<"$ex")
n_all=$(json 'len(d["executions"])' <<<"$ex")
[[ $n_unsafe == "$n_all" ]] || fail "corpus: $n_all executions, only $n_unsafe refused unsafe-label"
refused=$((refused + n_unsafe))
[[ $refused == "$tried" ]] || fail "corpus: tried $tried, refused $refused"
[[ -e $TMP/ran-corpus ]] && fail "a corpus payload ran the workaround"
healthy "label corpus"; row "label corpus (unsafe-label)" $tried $refused 0

# 6. A secret label: the action gets it; no record shows it.
tried=1; refused=0
[[ $(post "$AM" "{\"name\":\"SecretLabel\",\"labels\":{\"api_token\":\"$SECRET\"},\"annotations\":{\"auth\":\"Bearer $SECRET\"}}") == 202 ]] \
  || fail "secret alert not acknowledged"
for _ in $(seq 1 100); do [[ -s $TMP/secret-seen ]] && break; sleep 0.05; done
[[ $(cat "$TMP/secret-seen" 2>/dev/null) == "$SECRET" ]] || fail "the action did not get the real value"
sleep 0.3
id=$(curl -s -H "Authorization: Bearer $OPS" "$URL/api/v1/executions?workaround=secret" | json 'd["executions"][0]["id"]')
# The ledger names the token that made the write (never its secret).
by=$(curl -s -H "Authorization: Bearer $OPS" "$URL/api/v1/executions/$id" | json 'd["by_token"]')
[[ $by == alertmanager ]] || fail "execution $id: by_token '$by', want alertmanager"
leaks=""
curl -s -H "Authorization: Bearer $OPS" "$URL/api/v1/alerts?limit=1000" | grep -q "$SECRET" && leaks+=" /api/v1/alerts"
curl -s -H "Authorization: Bearer $OPS" "$URL/api/v1/executions/$id" | grep -q "$SECRET" && leaks+=" /api/v1/executions/$id"
grep -rqa "$SECRET" "$TMP/bundles" --include=manifest.json && leaks+=" manifest.json"
cat "$TMP"/ledger.db* | grep -qa "$SECRET" && leaks+=" ledger"
grep -qa "$SECRET" "$TMP/serve.log" && leaks+=" log"
[[ -z $leaks ]] || fail "the secret label value leaked into:$leaks"
refused=1
row "secret label (5 places checked)" $tried $refused 0

# 7. A removed token: the file changes, SIGHUP, the old token is refused.
tried=0; refused=0
OLD=$AM
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TMP/am.token.new"
mv "$TMP/am.token.new" "$TMP/am.token"
AM=$(cat "$TMP/am.token")
kill -HUP "$SERVE_PID"
for _ in $(seq 1 100); do
  [[ $(code_of -X POST -H "Authorization: Bearer $OLD" --data '{}' "$URL/api/v1/alerts") == 401 ]] && break
  sleep 0.05
done
for r in "${ROUTES[@]}"; do
  read -r m p _ <<<"$r"
  tried=$((tried + 1))
  c=$(code_of -X "$m" -H "Authorization: Bearer $OLD" --data '{}' "$URL$p")
  [[ $c == 401 ]] && refused=$((refused + 1)) || fail "$m $p with the removed token: want 401, got $c"
done
[[ $(post "$AM" '{"name":"AfterReload","labels":{"n":"2"}}') == 202 ]] || fail "the new token is refused"
healthy "token rotation"; row "removed token after SIGHUP" $tried $refused 0

# No acknowledged alert lost.
stored=$(curl -s -H "Authorization: Bearer $OPS" "$URL/api/v1/alerts?limit=1000" | json '" ".join(str(a["id"]) for a in d["alerts"])')
lost=0
while read -r a; do [[ -z $a ]] && continue; [[ " $stored " == *" $a "* ]] || lost=$((lost + 1)); done <"$ACKED"
[[ $lost == 0 ]] || fail "$lost acknowledged alert(s) missing from the ledger"
kill -0 "$SERVE_PID" || fail "daemon exited"

printf '%-34s %6s %8s %5s\n' case tried refused lost
for r in "${ROWS[@]}"; do echo "$r"; done
echo "acknowledged alerts: $(grep -c . "$ACKED"), lost: $lost"
echo "PASS"
