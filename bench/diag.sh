#!/usr/bin/env bash
# Benchmark: stack collection on a process with THREADS (1000) sleeping threads
# (bench/diag_target.c) whose ticker thread records its largest gap between
# 1 ms wake-ups (the pause a tool inflicts, plus scheduler noise). Side by side,
# in one run: `stopgap diag --collect process --stacks`, `gdb -batch -ex
# "thread apply all bt"`, `eu-stack -p` (skipped when not installed; Debian
# package elfutils). Also `stopgap diag --collect system,tcp`. Per tool: wall
# time, CPU time (getrusage of the child), the target's largest gap, and how
# many worker threads came back with a symbolized stack (wait_forever); an
# idle window of the same length gives the noise floor of the gap. Medians of
# RUNS (3). Env: STOPGAP_BUILD (default build), THREADS, RUNS.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${STOPGAP_BUILD:-build}
BIN=$BUILD/stopgap
TARGET=$BUILD/bench/diag_target
THREADS=${THREADS:-1000}
RUNS=${RUNS:-3}
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3
[[ -x $BIN && -x $TARGET ]] || { echo "diag.sh: build first: need $BIN and $TARGET" >&2; exit 1; }
TMP=$(mktemp -d /tmp/stopgap-bench-diag.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

$PY - "$BIN" "$TARGET" "$THREADS" "$RUNS" "$TMP" <<'PY'
import os, resource, shutil, signal, statistics, subprocess, sys, time, json, glob
bin_, target, threads, runs, tmp = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
state = os.path.join(tmp, "state")
t = subprocess.Popen([target, str(threads), state], stdout=subprocess.PIPE, text=True)
assert t.stdout.readline().startswith("ready")
pid = t.pid

def max_gap_ms():
    try: os.unlink(state)
    except FileNotFoundError: pass
    os.kill(pid, signal.SIGUSR2)
    for _ in range(200):
        if os.path.exists(state):
            txt = open(state).read()
            if txt.endswith("\n"):
                return int(txt.split()[1]) / 1000.0
        time.sleep(0.005)
    return float("nan")

def measure(argv, count_stacks):
    time.sleep(0.3)                      # let the target settle
    os.kill(pid, signal.SIGUSR1)         # reset the largest gap
    time.sleep(0.02)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    wall = (time.perf_counter() - t0) * 1000
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)) * 1000
    time.sleep(0.02)
    gap = max_gap_ms()
    return wall, cpu, gap, count_stacks(p)

def idle(ms):
    time.sleep(0.3)
    os.kill(pid, signal.SIGUSR1)
    time.sleep(0.02 + ms / 1000.0)
    return max_gap_ms()

def stopgap_count(p):
    out = p.stdout.split("bundle: ", 1)[1].split("\n", 1)[0] if "bundle: " in p.stdout else ""
    n = 0
    for f in glob.glob(os.path.join(out, "process-*", "stacks.txt")):
        n = open(f).read().count(" wait_forever+")
    return n

def text_count(p):
    return p.stdout.count("wait_forever")

tools = [("stopgap diag --collect process --stacks",
          [bin_, "diag", "--collect", "process", "--pid", str(pid), "--stacks", "--out", tmp + "/b"], stopgap_count)]
if shutil.which("gdb"):
    tools.append(('gdb -batch -ex "thread apply all bt"',
                  ["gdb", "-batch", "-nx", "-ex", "thread apply all bt", "-p", str(pid)], text_count))
if shutil.which("eu-stack"):
    tools.append(("eu-stack -p", ["eu-stack", "-p", str(pid)], text_count))
else:
    print("(eu-stack not installed: apt-get install elfutils)")

results = {name: [] for name, _, _ in tools}
idle_gaps = []
sys_tcp = []
for r in range(runs):                    # interleaved: each run visits every tool
    for name, argv, counter in tools:
        results[name].append(measure(argv, counter))
    idle_gaps.append(idle(200))
    w, c, g, _ = measure([bin_, "diag", "--collect", "system,tcp", "--out", tmp + "/s"], lambda p: 0)
    sys_tcp.append((w, c))

med = lambda xs: statistics.median(xs)
base = med([x[0] for x in results[tools[0][0]]])
print(f"target: {threads} sleeping threads + 1 ms ticker; medians of {runs} runs; "
      f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
print()
print("| tool | wall ms | CPU ms | target's largest gap ms | threads with stacks | wall vs stopgap |")
print("| --- | --- | --- | --- | --- | --- |")
for name, _, _ in tools:
    xs = results[name]
    w = med([x[0] for x in xs])
    print(f"| {name} | {w:.0f} | {med([x[1] for x in xs]):.0f} | {med([x[2] for x in xs]):.1f} | "
          f"{int(med([x[3] for x in xs]))}/{threads} | {w / base:.1f}x |")
print(f"| (idle, no tool: noise floor of the gap) | - | - | {med(idle_gaps):.1f} | - | - |")
print()
print(f"stopgap diag --collect system,tcp: wall {med([x[0] for x in sys_tcp]):.0f} ms, "
      f"CPU {med([x[1] for x in sys_tcp]):.0f} ms (median of {runs})")
procs = []
for mf in glob.glob(tmp + "/b/*/manifest.json"):
    for c in [c for s in json.load(open(mf))["steps"] for c in s["collectors"]]:
        if c["name"] == "process":
            procs.append(dict(c["metrics"], duration_ms=c["duration_ms"]))
if procs:
    keys = ["duration_ms", "stack_capture_us", "stack_unwind_us", "threads_list_us",
            "stack_max_pause_us", "stack_median_pause_us", "stack_max_stop_latency_us"]
    print("stopgap in-tool, process collector, medians of %d runs: " % len(procs) +
          ", ".join(f"{k} {med([p.get(k, 0) for p in procs]):.0f}" for k in keys))
os.kill(pid, signal.SIGTERM)
t.wait()
PY
