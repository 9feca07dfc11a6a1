#!/usr/bin/env bash
# libstopgap_guru through the engine: `stopgap run` executes a workaround whose
# diagnostics are a `collect: [system]` and a `guru:` step against the example
# service (examples/guru-service); the report must land in the execution's
# bundle with every section and secrets masked.
set -euo pipefail
BIN=${STOPGAP_BIN:?}
BUILD=${STOPGAP_BUILD:?}
SVC="$BUILD/examples/guru-service/guru-service"
work=$(mktemp -d)
cleanup() { [[ -f "$work/svc.pid" ]] && kill "$(cat "$work/svc.pid")" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$SVC" --report-dir "$work/reports" --pidfile "$work/svc.pid" > "$work/svc.out" &
mkdir -p "$work/reports"
for _ in $(seq 100); do grep -q ready "$work/svc.out" && break; sleep 0.05; done
expires=$(date -u -d '+10 days' +%F)
cat > "$work/catalog.yaml" <<YAML
ledger: sqlite://$work/ledger.db
bundles: $work/bundles
policy: {max_ttl: 90d, max_ttl_undiagnosed: 30d, max_runs_per_hour: 60}
workarounds:
  - id: guru-demo
    issue: acme/infra#1
    cause: in-house
    diagnosed: false
    expires: $expires
    match: {alertname: Demo}
    diagnostics:
      - collect: [system]
      - guru: {pidfile: $work/svc.pid, signal: USR2, report: "$work/reports/guru-service_gurumeditation_*", timeout: 5s}
    action:
      - run: ["true"]
YAML
"$BIN" run -c "$work/catalog.yaml" guru-demo > "$work/run.out" 2>&1 || { cat "$work/run.out"; fail "stopgap run failed"; }
cat "$work/run.out"
report=$(find "$work/bundles" -path '*/guru/guru-service_gurumeditation_*' | head -1)
[[ -n "$report" ]] || fail "no guru report in the bundle"
for section in "Guru Meditation" Package Threads Process Configuration "Job queue"; do
  grep -Eq "^====  +$section  +====\$" "$report" || fail "section $section missing"
done
grep -q 'database_connection = \*\*\*' "$report" || fail "secret not masked"
if grep -q 'dbpass-123' "$report"; then fail "secret leaked"; fi
grep -q 'WaitForJob' "$report" || fail "worker stacks not symbolized"
echo PASS
