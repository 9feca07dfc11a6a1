#!/usr/bin/env bash
# Benchmark: the remediation engine's overhead per execution (diagnostics ->
# sealed bundle -> action -> verify, SQLite ledger with fsync) against the
# floor: posix_spawn of the same three commands plus one fsync, side by side
# in one process, alternating rounds. Target: engine <= 1.5x the floor.
# Env: STOPGAP_BUILD (default build), ROUNDS (7), ITERATIONS (40),
# BENCH_DIR (default: a temp dir under /tmp; same filesystem as the ledger).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${STOPGAP_BUILD:-build}
BENCH=$BUILD/bench/engine_bench
[[ -x $BENCH ]] || { echo "engine.sh: build first (make build): need $BENCH" >&2; exit 1; }
ARGS=(--rounds "${ROUNDS:-7}" --iterations "${ITERATIONS:-40}")
[[ -n ${BENCH_DIR:-} ]] && ARGS+=(--dir "$BENCH_DIR")
echo "engine_bench ${ARGS[*]} (nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg))"
"$BENCH" "${ARGS[@]}"
