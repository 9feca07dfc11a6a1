#!/usr/bin/env bash
# The .deb installed the Debian way into a clean Debian 12 root (debootstrap,
# then chroot: systemd-nspawn cannot boot a container on this machine kind,
# see docs/systemd.md), from outside:
#  - dpkg -i: the token (0600), the conffiles (registered as conffiles and
#    passing `stopgap check`), /var/lib/stopgap (0700), man pages and
#    completion in place, the units pass systemd-analyze verify in the root;
#  - the units' ExecStart lines run: serve takes alerts into the ledger;
#  - upgrade (dpkg -i of a newer version) keeps every ledger row and the token;
#  - remove keeps the state, purge deletes it and the token;
#  - downgrade onto a ledger a newer stopgap migrated: serve refuses with the
#    schema message and the ledger's bytes do not change.
# The previous release's .debs are STOPGAP_PREVIOUS_DEBS (a directory) when
# given; otherwise this build's .debs repacked with a lower version stand in
# (the package scripts are exercised, not a real schema migration).
# Caches the Debian root in ${XDG_CACHE_HOME:-~/.cache}/stopgap (outside the
# repository). Needs root; exit 77 (skipped) without it or without debootstrap.
# Env: STOPGAP_SRC, STOPGAP_DEBS (default: build-deb/, built by `make deb` if empty).
set -euo pipefail
SRC=${STOPGAP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (chroot, mounts)"; exit 77; }
command -v debootstrap >/dev/null || { echo "SKIP: no debootstrap"; exit 77; }
DEBS=${STOPGAP_DEBS:-$SRC/build-deb}
if ! ls "$DEBS"/stopgap_*.deb >/dev/null 2>&1; then make -C "$SRC" deb; fi

MIRROR=${STOPGAP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
INCLUDE=libarchive13,libcurl4,libdw1,libelf1,libpugixml1v5,libsqlite3-0,libssl3,libstdc++6,libsystemd0,libyaml-cpp0.7,libzstd1,sqlite3,curl,procps,logrotate,systemd,systemd-sysv,dbus
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/stopgap
ROOT_TAR=$CACHE/bookworm-root-$(echo "$INCLUDE" | md5sum | cut -c1-8).tar
TMP=$(mktemp -d /var/tmp/stopgap-install.XXXXXX)
R=$TMP/root
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.2
  umount "$R/proc" 2>/dev/null || true
  umount "$R/dev" 2>/dev/null || true
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf --one-file-system "$TMP"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -20 "$TMP"/*.log >&2 2>/dev/null || true; exit 1; }
step() { echo "== $*"; }
in_root() { chroot "$R" "$@"; }
dpkg_in_root() { chroot "$R" sh -c "dpkg $*" >>"$TMP/dpkg.log" 2>&1; }  # globs expand in the root
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

step "Debian 12 root"
mkdir -p "$CACHE" "$R"
if [[ ! -s $ROOT_TAR ]]; then
  debootstrap --variant=minbase --include="$INCLUDE" bookworm "$TMP/mk" "$MIRROR" >"$TMP/debootstrap.log" 2>&1 ||
    fail "debootstrap failed"
  tar -C "$TMP/mk" -cf "$ROOT_TAR.partial" . && mv "$ROOT_TAR.partial" "$ROOT_TAR"
  rm -rf --one-file-system "$TMP/mk"
fi
tar -C "$R" -xf "$ROOT_TAR"
mount -t proc proc "$R/proc"
mount --bind /dev "$R/dev"
# Package scripts must not try to start services in the root.
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"; chmod +x "$R/usr/sbin/policy-rc.d"

DEB=$(ls "$DEBS"/stopgap_*.deb | head -1)
LIB=$(ls "$DEBS"/libstopgap-guru0_*.deb | head -1)
VERSION=$(dpkg-deb -f "$DEB" Version)
# repack DEB VERSION OUT: the same package under another version.
repack() {
  local d=$TMP/repack.$RANDOM
  dpkg-deb -R "$1" "$d"
  sed -i "s/^Version: .*/Version: $2/" "$d/DEBIAN/control"
  dpkg-deb -b "$d" "$3" >/dev/null
  rm -rf "$d"
}
mkdir -p "$R/tmp/debs/cur" "$R/tmp/debs/prev"
cp "$DEB" "$LIB" "$R/tmp/debs/cur/"
if [[ -n ${STOPGAP_PREVIOUS_DEBS:-} ]]; then
  cp "$STOPGAP_PREVIOUS_DEBS"/stopgap_*.deb "$STOPGAP_PREVIOUS_DEBS"/libstopgap-guru0_*.deb "$R/tmp/debs/prev/"
else
  repack "$DEB" "${VERSION}~prev" "$R/tmp/debs/prev/stopgap_${VERSION}~prev_amd64.deb"
  cp "$LIB" "$R/tmp/debs/prev/"
fi

serve_and_post() {  # serve_and_post N: serve from the unit's ExecStart, N alerts in, stop
  local port line
  port=$(free_port)
  line=$(sed -n 's/^ExecStart=//p' "$R/lib/systemd/system/stopgap.service")
  # shellcheck disable=SC2086
  chroot "$R" $line --listen "127.0.0.1:$port" --log-format json >>"$TMP/serve.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  for i in $(seq 1 "$1"); do
    curl -fsS -H "Authorization: Bearer $(cat "$R/etc/stopgap/token")" \
      -d "{\"name\":\"InstallTest$RANDOM\",\"labels\":{\"i\":\"$i\"}}" \
      "http://127.0.0.1:$port/api/v1/alerts" >/dev/null || fail "alert $i refused"
  done
  kill -TERM "$pid"; wait "$pid" || fail "serve exited non-zero on SIGTERM"
}
rows() { in_root sqlite3 /var/lib/stopgap/ledger.db 'SELECT COUNT(*) FROM alerts'; }

step "install the previous version, take alerts"
dpkg_in_root -i '/tmp/debs/prev/libstopgap-guru0_*.deb' '/tmp/debs/prev/stopgap_*.deb' ||
  fail "dpkg -i of the previous version failed"
[[ $(stat -c %a "$R/etc/stopgap/token") == 600 ]] || fail "token mode $(stat -c %a "$R/etc/stopgap/token")"
[[ $(stat -c %a "$R/var/lib/stopgap") == 700 ]] || fail "/var/lib/stopgap mode $(stat -c %a "$R/var/lib/stopgap")"
serve_and_post 3
before=$(rows)
[[ $before -ge 3 ]] || fail "only $before rows after 3 alerts"
token=$(cat "$R/etc/stopgap/token")

step "upgrade to $VERSION"
dpkg_in_root -i '/tmp/debs/cur/libstopgap-guru0_*.deb' '/tmp/debs/cur/stopgap_*.deb' ||
  fail "upgrade failed"
[[ $(in_root stopgap --version) == "stopgap $VERSION" ]] || fail "--version: $(in_root stopgap --version)"
[[ $(rows) == "$before" ]] || fail "the upgrade lost rows ($before -> $(rows))"
[[ $(cat "$R/etc/stopgap/token") == "$token" ]] || fail "the upgrade replaced the token"
in_root dpkg-query -W -f='${Conffiles}\n' stopgap | grep -q '/etc/stopgap/stopgap.yaml' || fail "stopgap.yaml is no conffile"
in_root dpkg-query -W -f='${Conffiles}\n' stopgap | grep -q '/etc/stopgap/statsd.yaml' || fail "statsd.yaml is no conffile"
in_root stopgap check --offline -c /etc/stopgap/stopgap.yaml >/dev/null || fail "the installed catalog fails check"
for f in /usr/share/man/man1/stopgap.1.gz /usr/share/man/man8/stopgap-serve.8.gz /usr/share/man/man5/stopgap.yaml.5.gz \
         /usr/share/bash-completion/completions/stopgap /usr/share/doc/stopgap/examples/stopgap-logship \
         /lib/systemd/system/stopgap.service /lib/systemd/system/stopgap-statsd.service \
         /lib/systemd/system/stopgap-tcpstats.service; do
  [[ -e $R$f ]] || fail "$f not installed"
done
[[ -L $R/etc/systemd/system/multi-user.target.wants/stopgap.service ]] || fail "stopgap.service not enabled"
[[ ! -e $R/etc/systemd/system/multi-user.target.wants/stopgap-statsd.service ]] || fail "statsd enabled by default"
# man(1) is not in a minbase root: the pages are checked above and by units.sh.
in_root systemd-analyze verify --man=no /lib/systemd/system/stopgap.service /lib/systemd/system/stopgap-statsd.service \
  /lib/systemd/system/stopgap-tcpstats.service >"$TMP/verify.log" 2>&1 || fail "systemd-analyze verify in the root"
serve_and_post 2
[[ $(rows) == $((before + 2)) ]] || fail "rows after upgrade and 2 alerts: $(rows)"
# The other units' ExecStart lines start.
for u in stopgap-statsd stopgap-tcpstats; do
  line=$(sed -n 's/^ExecStart=//p' "$R/lib/systemd/system/$u.service")
  [[ $u == stopgap-statsd ]] && line="$line --udp 127.0.0.1:$(free_port) --admin 127.0.0.1:$(free_port)"
  # shellcheck disable=SC2086
  chroot "$R" $line >"$TMP/$u.log" 2>&1 &
  pid=$!; PIDS+=("$pid"); sleep 1
  kill -0 "$pid" 2>/dev/null || fail "$u's ExecStart exited: $(cat "$TMP/$u.log")"
  kill "$pid"
done

step "remove keeps the state, purge deletes it"
dpkg_in_root -r stopgap || fail "dpkg -r failed"
[[ -f $R/var/lib/stopgap/ledger.db && -f $R/etc/stopgap/token ]] || fail "remove deleted the state or the token"
dpkg_in_root -P stopgap || fail "dpkg -P failed"
[[ ! -e $R/var/lib/stopgap && ! -e $R/etc/stopgap ]] || fail "purge left $(ls -d "$R"/var/lib/stopgap "$R"/etc/stopgap 2>/dev/null)"

step "downgrade onto a newer ledger schema refuses and writes nothing"
dpkg_in_root -i '/tmp/debs/cur/stopgap_*.deb' || fail "reinstall failed"
serve_and_post 1
known=$(in_root sqlite3 /var/lib/stopgap/ledger.db 'SELECT MAX(version) FROM schema_version')
in_root sqlite3 /var/lib/stopgap/ledger.db "INSERT INTO schema_version(version, applied_at) VALUES ($((known + 1)), 0)"
dpkg_in_root -i '/tmp/debs/prev/stopgap_*.deb' || fail "dpkg -i of the older version failed"
sum=$(sha256sum "$R/var/lib/stopgap/ledger.db" | cut -d' ' -f1)
line=$(sed -n 's/^ExecStart=//p' "$R/lib/systemd/system/stopgap.service")
rc=0
# shellcheck disable=SC2086
timeout 20 chroot "$R" $line --listen "127.0.0.1:$(free_port)" >"$TMP/old.log" 2>&1 || rc=$?
[[ $rc -ne 0 && $rc -ne 124 ]] || fail "the older stopgap started (rc $rc)"
grep -q "written by a newer stopgap" "$TMP/old.log" || fail "no clear message: $(cat "$TMP/old.log")"
[[ $(sha256sum "$R/var/lib/stopgap/ledger.db" | cut -d' ' -f1) == "$sum" ]] || fail "the refused start wrote the ledger"
echo "PASS: install, ExecStart lines, upgrade ($before rows kept), remove/purge, downgrade refused"
