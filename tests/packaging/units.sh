#!/usr/bin/env bash
# The package's systemd units pass `systemd-analyze verify` (syntax, known
# settings, ExecStart executable, every Documentation=man: page found among
# the generated man pages), stopgap.service is Type=notify with a watchdog,
# ExecReload and the state/config directories, and each unit's ExecStart
# line runs: serve answers on its conffile catalog, statsd and tcpstats start
# on theirs. The conffiles pass `stopgap check`.
# Env: STOPGAP_BIN, STOPGAP_BUILD, STOPGAP_SRC.
set -euo pipefail
SRC=${STOPGAP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${STOPGAP_BUILD:-$SRC/build}
BIN=${STOPGAP_BIN:-$BUILD/stopgap}
TMP=$(mktemp -d /tmp/stopgap-units.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The units as installed (debian/stopgap.NAME.service -> NAME.service), with
# ExecStart pointing at the binary under test.
for u in "$SRC"/debian/stopgap.service "$SRC"/debian/stopgap.*.service; do
  n=$(basename "$u"); n=${n#stopgap.}; [[ $n == service ]] && n=stopgap.service
  sed "s|/usr/bin/stopgap|$BIN|g" "$u" >"$TMP/$n"
done
for s in 1 5 8; do
  mkdir -p "$TMP/man/man$s"
  cp "$BUILD"/generated-docs/man/*."$s" "$TMP/man/man$s/"
done
(cd "$TMP" && MANPATH=$TMP/man systemd-analyze verify ./stopgap.service ./stopgap-statsd.service \
  ./stopgap-tcpstats.service 2>&1 | grep -v '^/lib/systemd/system/' >"$TMP/verify.out") || true
(cd "$TMP" && MANPATH=$TMP/man systemd-analyze verify ./stopgap.service ./stopgap-statsd.service \
  ./stopgap-tcpstats.service >/dev/null 2>&1) || fail "systemd-analyze verify: $(cat "$TMP/verify.out")"
[[ ! -s $TMP/verify.out ]] || fail "systemd-analyze verify warns: $(cat "$TMP/verify.out")"

u=$SRC/debian/stopgap.service
for want in '^Type=notify$' '^WatchdogSec=' '^ExecReload=/bin/kill -HUP \$MAINPID$' \
            '^StateDirectory=stopgap$' '^ConfigurationDirectory=stopgap$' '^KillMode=mixed$' \
            '^NoNewPrivileges=yes$' '^ExecStart=/usr/bin/stopgap serve -c /etc/stopgap/stopgap.yaml$'; do
  grep -Eq "$want" "$u" || fail "stopgap.service lacks $want"
done
for n in stopgap-statsd stopgap-tcpstats; do
  grep -q '^DynamicUser=yes$' "$SRC/debian/stopgap.$n.service" || fail "$n is not DynamicUser"
done

# The conffiles.
"$BIN" check --offline -c "$SRC/debian/conf/stopgap.yaml" >/dev/null || fail "stopgap.yaml fails check"

# Each ExecStart line, with /etc/stopgap and /var/lib/stopgap under $TMP.
execstart() { sed -n 's/^ExecStart=//p' "$TMP/$1" | sed "s|/etc/stopgap|$TMP/etc|g"; }
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM if "'"${1:-}"'" else socket.SOCK_STREAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mkdir -p "$TMP/etc" "$TMP/var"
PORT=$(free_port)
sed -e "s|/var/lib/stopgap|$TMP/var|g; s|/etc/stopgap|$TMP/etc|g; s|127.0.0.1:9470|127.0.0.1:$PORT|" \
  "$SRC/debian/conf/stopgap.yaml" >"$TMP/etc/stopgap.yaml"
UDP=$(free_port udp); ADMIN=$(free_port)
sed -e "s|127.0.0.1:8125|127.0.0.1:$UDP|; s|127.0.0.1:8126|127.0.0.1:$ADMIN|" \
  "$SRC/debian/conf/statsd.yaml" >"$TMP/etc/statsd.yaml"
"$BIN" init --only token "$TMP/etc" >/dev/null
read -ra cmd <<<"$(execstart stopgap.service)"
"${cmd[@]}" >"$TMP/serve.log" 2>&1 & PIDS+=($!)
read -ra cmd <<<"$(execstart stopgap-statsd.service)"
"${cmd[@]}" >"$TMP/statsd.log" 2>&1 & PIDS+=($!)
read -ra cmd <<<"$(execstart stopgap-tcpstats.service | sed "s|127.0.0.1:8125|127.0.0.1:$UDP|")"
"${cmd[@]}" >"$TMP/tcpstats.log" 2>&1 & PIDS+=($!)
ok=0
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && { ok=1; break; }
  sleep 0.1
done
[[ $ok == 1 ]] || fail "serve from the unit's ExecStart does not answer: $(tail -5 "$TMP/serve.log")"
[[ -f $TMP/var/ledger.db ]] || fail "no ledger in the state directory"
sleep 1
for i in 1 2; do
  kill -0 "${PIDS[$i]}" 2>/dev/null || fail "ExecStart $i exited: $(tail -5 "$TMP"/statsd.log "$TMP"/tcpstats.log)"
done
echo "PASS: systemd-analyze verify clean; the three ExecStart lines run on the conffiles"
