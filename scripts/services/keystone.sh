#!/usr/bin/env bash
# A real OpenStack Keystone (Debian's python3-keystone, SQLite backend, Fernet
# tokens) on 127.0.0.1 only, state in DIR: the identity service in front of
# the test Swift when a test needs Keystone v3 instead of TempAuth.
# It serves the public API with the package's keystone-wsgi-public (wsgiref,
# one process) and holds: the bootstrap admin (admin/admin project), a
# "service" project with the "swift" user Swift's authtoken middleware uses,
# and a "logs" project with the "logship" user (role member) for stopgap.
#
#   scripts/services/keystone.sh install
#   TOKEN_TTL=35 scripts/services/keystone.sh start DIR   # writes DIR/env
#   scripts/services/keystone.sh add-swift DIR http://127.0.0.1:PORT   # catalog entry
#   scripts/services/keystone.sh stop DIR
#
# DIR/env holds KS_URL (…/v3), KS_PORT, KS_ADMIN_PASSWORD, KS_SWIFT_USER,
# KS_SWIFT_PASSWORD and the OS_* variables of the logship user (source it).
set -euo pipefail

die() { echo "keystone.sh: $*" >&2; exit 1; }
PKGS=(python3-keystone python3-keystonemiddleware)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

cmd_install() {
  command -v keystone-manage >/dev/null && command -v keystone-wsgi-public >/dev/null &&
    python3 -c 'import keystonemiddleware' 2>/dev/null && return 0
  "$HERE/../install-deps" --packages "${PKGS[@]}"
  command -v keystone-manage >/dev/null || die "install failed"
}

# shellcheck source=lib.sh
. "$HERE/lib.sh"  # free_port, stop_pid

# Keystone's tools print eventlet tracebacks at exit even when they worked:
# keep their output in the log and judge them by their exit status.
manage() { keystone-manage --config-file "$DIR/keystone.conf" "$@" >>"$DIR/log/manage.log" 2>&1; }

cmd_start() {
  DIR=${1:?usage: keystone.sh start DIR}
  cmd_install
  mkdir -p "$DIR"/{log,fernet,credential,pids}
  DIR=$(cd "$DIR" && pwd)
  chmod 700 "$DIR/fernet" "$DIR/credential"
  local port admin_pw swift_pw user_pw
  port=$(free_port)
  admin_pw=admin-$RANDOM$RANDOM swift_pw=swift-$RANDOM$RANDOM user_pw=logship-$RANDOM$RANDOM
  cat >"$DIR/keystone.conf" <<CONF
[DEFAULT]
log_dir = $DIR/log
[database]
connection = sqlite:///$DIR/keystone.db
[token]
provider = fernet
expiration = ${TOKEN_TTL:-3600}
[fernet_tokens]
key_repository = $DIR/fernet
[fernet_receipts]
key_repository = $DIR/fernet
[credential]
key_repository = $DIR/credential
CONF
  local me
  me=$(id -un)
  manage db_sync || die "db_sync failed: $DIR/log/manage.log"
  # WAL: a read transaction Keystone leaves open on one pooled connection
  # then no longer blocks the next write ("database is locked", HTTP 500).
  sqlite3 "$DIR/keystone.db" 'PRAGMA journal_mode=WAL;' >/dev/null
  manage fernet_setup --keystone-user "$me" --keystone-group "$(id -gn)" || die "fernet_setup failed"
  manage credential_setup --keystone-user "$me" --keystone-group "$(id -gn)" ||
    die "credential_setup failed"
  manage bootstrap --bootstrap-password "$admin_pw" --bootstrap-region-id RegionOne \
    --bootstrap-public-url "http://127.0.0.1:$port/v3/" || die "bootstrap failed"
  setsid keystone-wsgi-public --host 127.0.0.1 --port "$port" -- \
    --config-file "$DIR/keystone.conf" >"$DIR/log/server.log" 2>&1 </dev/null &
  echo $! >"$DIR/pids/keystone.pid"
  local i
  for i in $(seq 1 300); do
    curl -fs -m 1 "http://127.0.0.1:$port/v3" >/dev/null 2>&1 && break
    kill -0 "$(cat "$DIR/pids/keystone.pid")" 2>/dev/null || { tail -20 "$DIR/log/server.log" >&2; die "keystone exited"; }
    sleep 0.2
  done
  curl -fs -m 1 "http://127.0.0.1:$port/v3" >/dev/null || die "keystone did not answer on $port"
  cat >"$DIR/env" <<ENV
export KS_URL=http://127.0.0.1:$port/v3
export KS_PORT=$port
export KS_ADMIN_PASSWORD=$admin_pw
export KS_SWIFT_USER=swift
export KS_SWIFT_PASSWORD=$swift_pw
export OS_AUTH_URL=http://127.0.0.1:$port/v3
export OS_USERNAME=logship
export OS_PASSWORD=$user_pw
export OS_PROJECT_NAME=logs
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
ENV
  chmod 600 "$DIR/env"
  python3 "$HERE/keystone_admin.py" "$DIR/env" setup || die "setting up projects and users failed"
  echo "http://127.0.0.1:$port/v3"
}

cmd_add_swift() {
  local dir=${1:?usage: keystone.sh add-swift DIR SWIFT_URL} url=${2:?SWIFT_URL}
  python3 "$HERE/keystone_admin.py" "$dir/env" add-swift "$url"
}

cmd_stop() {
  local dir=${1:?usage: keystone.sh stop DIR} f
  for f in "$dir"/pids/*.pid; do [[ -e $f ]] && stop_pid "$f"; done
  return 0
}

case ${1:-} in
  install) cmd_install ;;
  start) shift; cmd_start "$@" ;;
  add-swift) shift; cmd_add_swift "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) die "usage: keystone.sh install | start DIR | add-swift DIR URL | stop DIR" ;;
esac
