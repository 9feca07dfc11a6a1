#!/usr/bin/env bash
# `stopgap diag` end to end: a real target with 200 threads, bundle directory
# and .tar.zst output, exit codes (0 written, 2 bad usage / no such pid).
set -euo pipefail
BIN=${STOPGAP_BIN:?}
BUILD=${STOPGAP_BUILD:?}
TARGET="$BUILD/tests/diag/diag_test_target"
work=$(mktemp -d)
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$TARGET" 200 "$work/state" --password=hunter2 > "$work/target.out" &
pid=$!
for _ in $(seq 100); do grep -q ready "$work/target.out" && break; sleep 0.05; done

# 1. A bundle directory with every collector.
"$BIN" diag --pid "$pid" --stacks --out "$work/bundles" > "$work/out.txt"
cat "$work/out.txt"
grep -q '^bundle: ' "$work/out.txt" || fail "no bundle line"
b=$(sed -n 's/^bundle: //p' "$work/out.txt")
[[ -f "$b/manifest.json" ]] || fail "no manifest in $b"
python3 - "$b/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
assert m["schema"] == "stopgap.bundle/2" and m["complete"] is True, m
assert m["execution"] is None, m["execution"]
assert len(m["steps"]) == 1 and m["steps"][0]["kind"] == "collect", m["steps"]
collectors = m["steps"][0]["collectors"]
names = [c["name"] for c in collectors]
assert names == ["system", "tcp", "process"], names
for c in collectors:
    assert c["ok"], c
    assert c["skipped"] == [], c
proc = collectors[2]
assert proc["metrics"]["stack_threads"] == 202, proc["metrics"]
PY
grep -q "wait_forever" "$b/process-$pid/stacks.txt" || fail "no symbolized stacks"
if grep -rq hunter2 "$b"; then fail "secret leaked"; fi

# 2. A packed bundle.
"$BIN" diag --collect system,tcp --out "$work/one.tar.zst" > "$work/out2.txt"
[[ -s "$work/one.tar.zst" ]] || fail "no tar.zst"
tar --zstd -tf "$work/one.tar.zst" > "$work/list.txt"
grep -q '^one/manifest.json$' "$work/list.txt" || fail "tar.zst lacks one/manifest.json"
ls -a "$work" | grep -q '^.stopgap-diag' && fail "staging directory left behind"

# 3. Bad input: exit 2 with a clear message.
set +e
"$BIN" diag --collect process --pid 999999999 --out "$work/b2" 2> "$work/err.txt"; rc=$?
set -e
[[ $rc -eq 2 ]] || fail "no such pid: exit $rc, want 2"
grep -q "no such process" "$work/err.txt" || fail "unclear message: $(cat "$work/err.txt")"
set +e
"$BIN" diag --collect system,bogus --out "$work/b3" 2> "$work/err.txt"; rc=$?
set -e
[[ $rc -eq 2 ]] || fail "unknown collector: exit $rc"
grep -q 'bogus' "$work/err.txt" || fail "message does not name the collector"
kill -0 "$pid" || fail "target died"

# 4. A target with a thread stuck in the kernel (a vfork parent, state D):
# the stacks are taken within the budget, the thread is reported skipped in
# the manifest, and no thread of the target is left stopped.
DIAG_TARGET_STUCK=1 "$TARGET" 20 "$work/state2" > "$work/target2.out" &
pid2=$!
trap 'kill "$pid2" 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do grep -q ready "$work/target2.out" && break; sleep 0.05; done
start=$(date +%s%N)
timeout 20 "$BIN" diag --collect process --pid "$pid2" --stacks --timeout 3s \
  --out "$work/stuck" > "$work/out4.txt" || fail "diag on a stuck target: exit $?"
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
(( took_ms < 3500 )) || fail "diag took ${took_ms} ms on a 3s budget"
b4=$(sed -n 's/^bundle: //p' "$work/out4.txt")
grep -q '^    skipped thread [0-9]*: did not stop' "$work/out4.txt" || fail "skipped thread not printed"
python3 - "$b4/manifest.json" "$pid2" <<'PY'
import json, os, sys
m = json.load(open(sys.argv[1]))
pid = sys.argv[2]
proc = m["steps"][0]["collectors"][0]
assert proc["name"] == "process" and proc["ok"], proc
assert len(proc["skipped"]) == 1 and "did not stop" in proc["skipped"][0], proc["skipped"]
stopped = []
for tid in os.listdir(f"/proc/{pid}/task"):
    stat = open(f"/proc/{pid}/task/{tid}/stat").read()
    if stat[stat.rindex(")") + 2] in "tT":
        stopped.append(tid)
assert not stopped, f"threads left stopped: {stopped}"
PY
kill "$pid2"
echo PASS
