#!/usr/bin/env bash
# A real single-node OpenStack Swift 2.30 (Debian's packages) with TempAuth and
# the s3api middleware, on 127.0.0.1 only, state in DIR, its own memcached on
# its own port: the object store behind stopgap logship's tests and benchmark.
# One server speaks both APIs: Swift (TempAuth user test:tester / testing) and
# S3 (access key "test:tester", secret "testing", path-style, us-east-1).
# Facts it relies on: ../../docs/logship.md and the team's object-store notes.
#
#   scripts/services/swift.sh install
#   scripts/services/swift.sh start DIR     # prints the proxy URL; writes DIR/env
#   scripts/services/swift.sh stop DIR      # stops only the pids it started
#   scripts/services/swift.sh stop-proxy DIR / start-proxy DIR (outage tests)
#   KEYSTONE_ENV=KSDIR/env scripts/services/swift.sh start DIR
#       authenticates through that Keystone (scripts/services/keystone.sh:
#       authtoken + keystoneauth, Swift API only) instead of TempAuth + s3api,
#       and adds itself to Keystone's catalog as the object-store endpoint.
#   SWIFT_WORKERS=2 scripts/services/swift.sh start DIR
#       each server forks that many workers (default 0: one process each, as
#       the tests run it); the benchmark's bulk loader uses it.
#
# DIR/env holds: SWIFT_URL, ST_AUTH, ST_USER, ST_KEY, S3_ENDPOINT,
# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION (source it).
# DIR must be on a filesystem with user xattrs (ext4/xfs/btrfs).
set -euo pipefail

die() { echo "swift.sh: $*" >&2; exit 1; }

PKGS=(swift swift-proxy swift-object swift-account swift-container python3-swiftclient memcached)

cmd_install() {
  command -v swift-proxy-server >/dev/null && command -v swift-object-server >/dev/null &&
    command -v memcached >/dev/null && command -v swift >/dev/null && return 0
  "$(dirname "${BASH_SOURCE[0]}")/../install-deps" --packages "${PKGS[@]}"
  command -v swift-proxy-server >/dev/null || die "install failed"
}

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"  # free_port, stop_pid

# server_conf NAME PORT DIR: the [DEFAULT] every server shares.
common_default() {
  local port=$1 dir=$2
  cat <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $port
workers = ${SWIFT_WORKERS:-0}
user = $(id -un)
swift_dir = $dir/etc
devices = $dir/srv
mount_check = false
log_udp_host = 127.0.0.1
log_udp_port = $(cat "$dir/logport")
log_level = WARNING
EOF
}

wait_healthy() {
  local port=$1 name=$2 i
  for i in $(seq 1 150); do
    if [[ $(curl -s -m 1 "http://127.0.0.1:$port/healthcheck" 2>/dev/null) == OK ]]; then return 0; fi
    sleep 0.1
  done
  echo "swift.sh: $name on port $port did not come up; its log:" >&2
  tail -20 "$DIR/log/$name.log" >&2 || true
  return 1
}

start_server() {  # NAME CONF
  local name=$1 conf=$2
  setsid "swift-$name-server" "$conf" >"$DIR/log/$name.log" 2>&1 < /dev/null &
  echo $! >"$DIR/pids/$name.pid"
}

cmd_start() {
  DIR=${1:?usage: swift.sh start DIR}
  cmd_install
  mkdir -p "$DIR"/{etc,srv/d1,cache,log,pids}
  DIR=$(cd "$DIR" && pwd)
  local pp op cp ap mp
  pp=$(free_port); op=$(free_port); cp=$(free_port); ap=$(free_port); mp=$(free_port)
  free_port >"$DIR/logport"  # a UDP port nobody reads: Swift's syslog goes nowhere

  cat >"$DIR/etc/swift.conf" <<EOF
[swift-hash]
swift_hash_path_suffix = stopgap-test
swift_hash_path_prefix = stopgap-test
[storage-policy:0]
name = Policy-0
default = yes
EOF
  local kind port
  for kind in object container account; do
    case $kind in object) port=$op ;; container) port=$cp ;; account) port=$ap ;; esac
    { common_default "$port" "$DIR"
      cat <<EOF
[pipeline:main]
pipeline = healthcheck $kind-server
[app:$kind-server]
use = egg:swift#$kind
[filter:healthcheck]
use = egg:swift#healthcheck
EOF
      [[ $kind == object ]] && printf '[object-replicator]\n[object-updater]\n[object-auditor]\n'
      [[ $kind == container ]] && printf '[container-replicator]\n[container-updater]\n[container-auditor]\n[container-sync]\n'
      [[ $kind == account ]] && printf '[account-replicator]\n[account-auditor]\n[account-reaper]\n'
    } >"$DIR/etc/$kind-server.conf"
    ( cd "$DIR/etc"
      swift-ring-builder "$kind.builder" create 8 1 1 >/dev/null
      swift-ring-builder "$kind.builder" add "r1z1-127.0.0.1:$port/d1" 100 >/dev/null
      swift-ring-builder "$kind.builder" rebalance >/dev/null || true  # exits 1 on warnings
      [[ -s $kind.ring.gz ]] || die "ring $kind not built" )
  done

  local auth="s3api tempauth"
  [[ -n ${KEYSTONE_ENV:-} ]] && auth="authtoken keystoneauth"
  { common_default "$pp" "$DIR"
    cat <<EOF
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk $auth copy slo dlo versioned_writes symlink proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$mp
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
[filter:versioned_writes]
use = egg:swift#versioned_writes
[filter:symlink]
use = egg:swift#symlink
EOF
    if [[ -n ${KEYSTONE_ENV:-} ]]; then
      # shellcheck disable=SC1090
      ( source "$KEYSTONE_ENV"
        # token_cache_time -1: every request is checked with Keystone, so an
        # expired or revoked token is refused at once (tests rely on it).
        cat <<EOF
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
www_authenticate_uri = $KS_URL
auth_url = $KS_URL
auth_type = password
interface = public
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $KS_SWIFT_USER
password = $KS_SWIFT_PASSWORD
delay_auth_decision = True
token_cache_time = -1
memcached_servers = 127.0.0.1:$mp
[filter:keystoneauth]
use = egg:swift#keystoneauth
operator_roles = admin, member
EOF
      )
    fi
  } >"$DIR/etc/proxy-server.conf"

  setsid memcached -u "$(id -un)" -l 127.0.0.1 -p "$mp" -U 0 -m 64 >"$DIR/log/memcached.log" 2>&1 < /dev/null &
  echo $! >"$DIR/pids/memcached.pid"
  for kind in object container account; do start_server "$kind" "$DIR/etc/$kind-server.conf"; done
  start_server proxy "$DIR/etc/proxy-server.conf"
  wait_healthy "$op" object && wait_healthy "$cp" container && wait_healthy "$ap" account &&
    wait_healthy "$pp" proxy || { cmd_stop "$DIR"; die "start failed"; }

  cat >"$DIR/env" <<EOF
export SWIFT_URL=http://127.0.0.1:$pp
export SWIFT_PROXY_PORT=$pp
export ST_AUTH=http://127.0.0.1:$pp/auth/v1.0
export ST_USER=test:tester
export ST_KEY=testing
export S3_ENDPOINT=http://127.0.0.1:$pp
export AWS_ACCESS_KEY_ID=test:tester
export AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1
EOF
  if [[ -n ${KEYSTONE_ENV:-} ]]; then
    "$(dirname "${BASH_SOURCE[0]}")/keystone.sh" add-swift "$(dirname "$KEYSTONE_ENV")" \
      "http://127.0.0.1:$pp" || { cmd_stop "$DIR"; die "adding Swift to Keystone's catalog failed"; }
  fi
  echo "http://127.0.0.1:$pp"
}

cmd_stop() {
  local dir=${1:?usage: swift.sh stop DIR} f pid
  for f in "$dir"/pids/*.pid; do
    [[ -e $f ]] || continue
    pid=$(cat "$f")
    stop_pid "$f"
    # Each server was started by setsid as its own group leader: with
    # SWIFT_WORKERS its forked workers are in that group.
    kill -9 -- "-$pid" 2>/dev/null || true
  done
  return 0
}

cmd_stop_proxy() { stop_pid "${1:?DIR}/pids/proxy.pid"; }

cmd_start_proxy() {
  DIR=${1:?usage: swift.sh start-proxy DIR}
  local pp
  pp=$(sed -n 's/^bind_port = //p' "$DIR/etc/proxy-server.conf")
  start_server proxy "$DIR/etc/proxy-server.conf"
  wait_healthy "$pp" proxy
}

case ${1:-} in
  install) cmd_install ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  stop-proxy) shift; cmd_stop_proxy "$@" ;;
  start-proxy) shift; cmd_start_proxy "$@" ;;
  *) die "usage: swift.sh install | start DIR | stop DIR | stop-proxy DIR | start-proxy DIR" ;;
esac
