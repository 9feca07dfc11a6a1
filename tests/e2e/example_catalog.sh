#!/usr/bin/env bash
# `make run` as a new user tries it (issue 11): scripts/run-example starts
# `stopgap serve` on examples/stopgap.yaml from a copy of the repository layout
# in a temp dir (so .run/ lands there) with only server.listen moved to a free
# port; the `try:` curl line it prints is run as printed. The execution must
# end succeeded with EVERY step `ok`, and system data in its bundle; the same
# line with the example's other alert (collect: [system, tcp]) too.
# Env: STOPGAP_BIN, STOPGAP_SRC (set by CTest).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

TMP=$(mktemp -d /tmp/stopgap-example.XXXXXX)
SERVE_LOG=$TMP/serve.log
SERVE_PID=""
cleanup() {
  [[ -n $SERVE_PID ]] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
  return 0
}
trap cleanup EXIT

PORT=$(free_port)
mkdir -p "$TMP/scripts" "$TMP/examples"
cp "$SRC/scripts/run-example" "$TMP/scripts/"
sed "s/127\.0\.0\.1:9470/127.0.0.1:$PORT/" "$SRC/examples/stopgap.yaml" >"$TMP/examples/stopgap.yaml"
grep -q "listen: 127.0.0.1:$PORT" "$TMP/examples/stopgap.yaml" || fail "could not move the example's port"

step "scripts/run-example (the way make run starts it)"
STOPGAP_BIN=$BIN "$TMP/scripts/run-example" --log-format json >"$SERVE_LOG" 2>&1 &
SERVE_PID=$!
URL="http://127.0.0.1:$PORT"
healthy() { curl -fsS "$URL/healthz" >/dev/null 2>&1; }
wait_for 15 healthy || fail "run-example: serve not healthy on $URL"
TRY=$(sed -n 's/^  try: *//p' "$SERVE_LOG")
[[ $TRY == curl* ]] || fail "run-example printed no curl line"
found "$TRY"
AUTH=(-H "Authorization: Bearer $(cat "$TMP/.run/token")")  # reads need the token too

# check_execution ACK_JSON: the acknowledged execution ends succeeded, every
# step ok, with system data in its bundle.
check_execution() {
  local exec
  exec=$(json 'd["executions"][0]' <"$1") || fail "no execution: $(cat "$1")"
  finished() {
    [[ $(curl -fsS "${AUTH[@]}" "$URL/api/v1/executions/$exec" | json 'd["state"]') =~ ^(succeeded|failed|interrupted)$ ]]
  }
  wait_for 60 finished || fail "execution $exec did not finish within 60 s"
  curl -fsS "${AUTH[@]}" "$URL/api/v1/executions/$exec" >"$TMP/exec-$exec.json"
  $PY - "$TMP/exec-$exec.json" "$TMP" <<'PY' || fail "execution $exec: $(cat "$TMP/exec-$exec.json")"
import json, os, sys
e = json.load(open(sys.argv[1]))
bdir = os.path.join(sys.argv[2], e["bundle_dir"])  # relative to serve's directory, as in the catalog
bad = [(s["phase"], s["index"], s["kind"], s["argv"], s["outcome"], s.get("error")) for s in e["steps"]
       if s["outcome"] != "ok"]
assert not bad, "steps not ok: %s" % bad
assert e["state"] == "succeeded", e["state"]
phases = [s["phase"] for s in e["steps"]]
assert "action" in phases and phases[0] == "diagnostics", phases
files = [f for s in e["steps"] for f in s["files"]]
for want in ("system/summary.txt", "system/meminfo.txt"):
    assert want in files, "no %s in %s" % (want, files)
    assert os.path.getsize(os.path.join(bdir, want)) > 0, want
summary = open(os.path.join(bdir, "system/summary.txt")).read()
assert os.uname().release in summary, "summary.txt does not show this kernel"
print("    ok: execution %d (%s) succeeded, %d steps all ok, bundle %s has system data"
      % (e["id"], e["workaround"], len(phases), e["bundle_dir"]))
PY
}

step "the printed curl line"
(cd "$TMP" && bash -c "$TRY") >"$TMP/ack.json" 2>"$TMP/curl.err" || fail "the curl line failed: $(cat "$TMP/ack.json")"
check_execution "$TMP/ack.json"

step "the same line for the example's other alert (NovaComputeRPCTimeout)"
TRY2=${TRY/\"name\":\"DiskFull\",\"labels\":\{\"host\":\"db1\"\}/\"name\":\"NovaComputeRPCTimeout\",\"labels\":\{\"severity\":\"critical\",\"service\":\"nova-compute\"\}}
[[ $TRY2 != "$TRY" ]] || fail "could not adapt the curl line: $TRY"
(cd "$TMP" && bash -c "$TRY2") >"$TMP/ack2.json" 2>"$TMP/curl.err" || fail "curl: $(cat "$TMP/ack2.json")"
check_execution "$TMP/ack2.json"
[[ -f $TMP/.run/scratch/disk-full-cleaned ]] || fail "the action's file is not in the temp .run/"
stop_serve
echo "PASS: make run's example catalog under serve in $(($(date +%s) - T0)) s"
