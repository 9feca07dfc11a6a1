#!/usr/bin/env bash
# `stopgap statsd --config FILE.js` on the npm package's exampleConfig.js and
# exampleProxyConfig.js (the settings it takes, the warnings it gives), and
# errors with line and column for what is not a literal. The flush output of
# config.js files against the reference is compared in compat_test.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="${STOPGAP_SRC:-$(cd "$here/../.." && pwd)}"
bin="${STOPGAP_BIN:?STOPGAP_BIN must point at the stopgap binary}"
work="$(mktemp -d /tmp/stopgap-statsd-configjs.XXXXXX)"
trap 'rm -rf "$work"' EXIT
pkg="$("$src/scripts/services/reference-statsd.sh" install)"
rc=0
has() {  # FILE LINE: LINE must be in FILE exactly
  if grep -qxF "$2" "$1"; then echo "ok: $(basename "$1"): $2"; else
    echo "FAIL: $(basename "$1") lacks: $2"; cat "$1"; rc=1; fi
}

"$bin" statsd --config "$pkg/exampleConfig.js" --print-config >"$work/example.txt"
has "$work/example.txt" "graphite: graphite.example.com:2003"
has "$work/example.txt" "graphiteProtocol: text"
has "$work/example.txt" "udp: 127.0.0.1:8125"
has "$work/example.txt" "admin: 127.0.0.1:8126"
grep -q "^warning: .*address: not set" "$work/example.txt" && echo "ok: address warning" ||
  { echo "FAIL: no warning about the unset address"; rc=1; }

"$bin" statsd --config "$pkg/exampleProxyConfig.js" --print-config >"$work/proxy.txt"
for k in nodes host udp_version forkCount checkInterval cacheSize; do
  grep -q "^warning: .*exampleProxyConfig.js:[0-9]*:[0-9]*: $k: a proxy.js setting" "$work/proxy.txt" &&
    echo "ok: proxy key $k named in a warning" || { echo "FAIL: no warning for $k"; rc=1; }
done
has "$work/proxy.txt" "udp: 127.0.0.1:8125"

# A config that computes a value: an error naming line and column, exit 2.
printf '{\n  port: 8125,\n  graphite: { globalSuffix: require("os").hostname() }\n}\n' >"$work/code.js"
set +e
"$bin" statsd --config "$work/code.js" --print-config >"$work/code.out" 2>&1
code=$?
set -e
if [[ $code == 2 ]] && grep -q 'code.js: line 3, column 29: `require` is JavaScript code' "$work/code.out"; then
  echo "ok: computed value refused with line and column"
else
  echo "FAIL: exit $code:"; cat "$work/code.out"; rc=1
fi
# Flags still win over the file.
"$bin" statsd --config "$pkg/exampleConfig.js" --graphite-protocol pickle --udp 127.0.0.1:9 \
  --print-config >"$work/flags.txt"
has "$work/flags.txt" "graphiteProtocol: pickle"
has "$work/flags.txt" "udp: 127.0.0.1:9"
exit $rc
